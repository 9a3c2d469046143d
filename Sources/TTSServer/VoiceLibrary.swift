// The daemon's cloned voices: `.voice` files in the voices directory, loaded at start, created
// by POST /v1/audio/voices and removed by DELETE. Files are written atomically (temporary file,
// then a hard link that fails if the name exists), so a crash never leaves half a voice behind
// and two daemons sharing the directory never overwrite each other's voice. Each lookup first
// checks whether the directory changed (names, sizes, modification times) and reloads it if so:
// replicas sharing one directory serve the voices any of them creates or deletes, at once.
import Foundation
import Qwen3TTS
import Synchronization

public final class VoiceLibrary: Sendable {
    public struct Entry: Sendable {
        public let voice: VoiceFile
        /// The file it lives in.
        public let path: String
        /// Unix time the file was written (the "created" of the API).
        public let created: Int
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// Where the voices live and whose they are, once loaded; and the directory as last read.
    private struct Source: Sendable {
        var directory: String
        var model: Qwen3TTSModel
        var limit: Int
        var signature: [String]
    }
    private let source = Mutex<Source?>(nil)

    public init() {}

    /// Voices by lower-cased name.
    public var all: [String: Entry] {
        refresh()
        return entries.withLock { $0 }
    }
    public var count: Int { entries.withLock { $0.count } }

    public func entry(named name: String) -> Entry? {
        refresh()
        return entries.withLock { $0[name.lowercased()] }
    }

    /// What identifies the directory's voices: each `.voice` file's name, size and modification
    /// time, sorted.
    private static func signature(of directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".voice") && !$0.hasPrefix(".") }.sorted().map { name in
            var st = stat()
            guard stat((directory as NSString).appendingPathComponent(name), &st) == 0 else { return name }
            #if canImport(Darwin)
            let modified = st.st_mtimespec
            #else
            let modified = st.st_mtim
            #endif
            return "\(name) \(st.st_size) \(modified.tv_sec).\(modified.tv_nsec)"
        }
    }

    /// Reloads the directory if another process (or a person) added, changed or removed a voice
    /// since it was last read. Problems with single files are skipped, as at start.
    func refresh() {
        guard let s = source.withLock({ $0 }) else { return }
        let now = Self.signature(of: s.directory)
        guard now != s.signature else { return }
        _ = try? load(from: s.directory, for: s.model, limit: s.limit, signature: now)
    }

    /// Loads every `*.voice` file in `directory` made by `model`, up to `limit` voices; returns
    /// the problems with the others (each is skipped, not fatal: one stale file must not keep the
    /// daemon down).
    /// `signature`: the directory's, when the caller has just read it.
    func load(from directory: String, for model: Qwen3TTSModel, limit: Int = .max, signature known: [String]? = nil) throws -> [String] {
        let signature = known ?? Self.signature(of: directory)
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".voice") }.sorted()
        } catch {
            throw ServerError.invalidConfiguration("cannot read the voices directory \(directory): \(error.localizedDescription)")
        }
        var loaded: [String: Entry] = [:], problems: [String] = []
        for file in names {
            let path = (directory as NSString).appendingPathComponent(file)
            do {
                guard loaded.count < limit else { throw VoiceError.malformed(path, "the server keeps at most \(limit) voices (--max-voices)") }
                let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                guard size <= VoiceFile.maximumFileBytes else {
                    throw VoiceError.malformed(path, "it is \(size) bytes; a voice file is at most \(VoiceFile.maximumFileBytes)")
                }
                guard let data = FileManager.default.contents(atPath: path) else { throw VoiceError.malformed(path, "unreadable") }
                let voice = try VoiceFile.decode(data, source: path)
                try model.check(voice, source: path)
                if let other = loaded[voice.name.lowercased()] {
                    throw VoiceError.malformed(path, "its name \"\(voice.name)\" is taken by \(other.path)")
                }
                let modified = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? Date()
                loaded[voice.name.lowercased()] = Entry(voice: voice, path: path, created: Int(modified.timeIntervalSince1970))
            } catch {
                problems.append("\(error)")
            }
        }
        entries.withLock { $0 = loaded }
        source.withLock { $0 = Source(directory: directory, model: model, limit: limit, signature: signature) }
        return problems
    }

    /// Names a created voice may have: 1-64 of A-Z a-z 0-9 _ - . (not starting with "."), so the
    /// name is also a safe file name.
    static func validName(_ name: String) -> Bool {
        guard (1...64).contains(name.count), !name.hasPrefix(".") else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "_-.".unicodeScalars.contains($0) }
    }

    /// Writes `voice` to `directory`/NAME.voice and serves it. Throws `VoiceLibraryError.exists`
    /// when the name is taken (names are case-insensitive).
    /// `limit`: most voices served (`VoiceLibraryError.full` beyond).
    func add(_ voice: VoiceFile, directory: String, limit: Int = .max) throws -> Entry {
        refresh()
        let data = try voice.encoded()
        let path = (directory as NSString).appendingPathComponent("\(voice.name).voice")
        return try entries.withLock { table in
            if table[voice.name.lowercased()] != nil || FileManager.default.fileExists(atPath: path) {
                throw VoiceLibraryError.exists(voice.name)
            }
            guard table.count < limit else { throw VoiceLibraryError.full(limit) }
            let temporary = (directory as NSString).appendingPathComponent(".\(voice.name).voice.\(UUID().uuidString).tmp")
            guard FileManager.default.createFile(atPath: temporary, contents: data) else {
                throw VoiceLibraryError.storage("cannot write \(temporary)")
            }
            // link() fails if the name exists: another daemon on the same directory may have
            // created it since the check above.
            guard link(temporary, path) == 0 else {
                let code = errno, reason = String(cString: strerror(errno))
                unlink(temporary)
                if code == EEXIST { throw VoiceLibraryError.exists(voice.name) }
                throw VoiceLibraryError.storage("cannot move the voice into \(path): \(reason)")
            }
            unlink(temporary)
            let entry = Entry(voice: voice, path: path, created: Int(Date().timeIntervalSince1970))
            table[voice.name.lowercased()] = entry
            return entry
        }
    }

    /// Stops serving the voice and deletes its file.
    func remove(named name: String) throws -> Entry {
        refresh()
        return try entries.withLock { table in
            guard let entry = table[name.lowercased()] else { throw VoiceLibraryError.notFound(name) }
            if unlink(entry.path) != 0 && errno != ENOENT {
                throw VoiceLibraryError.storage("cannot delete \(entry.path): \(String(cString: strerror(errno)))")
            }
            table[name.lowercased()] = nil
            return entry
        }
    }
}

enum VoiceLibraryError: Error, Equatable {
    case exists(String)
    case notFound(String)
    case full(Int)
    case storage(String)
}
