// `pull`'s download step: the checkpoint repository (and the speech tokenizer's, into
// speech_tokenizer/, when the checkpoint does not carry it) into the store's checkpoint directory,
// each file checked and put in place atomically, interrupted files resumed, corrupted ones fetched
// again. Offline, only what a previous pull recorded as complete is used.
import Foundation
import Synchronization

public final class ModelPuller: Sendable {
    let client: HubClient
    let store: ModelStore
    let offline: Bool
    let report: @Sendable (String) -> Void

    /// Attempts per file: an interrupted transfer resumes; a checksum mismatch starts over.
    static let attempts = 3
    static let recordName = ".pull.json"

    public init(client: HubClient, store: ModelStore, offline: Bool = false, report: @escaping @Sendable (String) -> Void) {
        self.client = client
        self.store = store
        self.offline = offline
        self.report = report
    }

    struct Planned {
        var repo: HubRepo
        var file: HubFile
        var target: String  // path inside the checkpoint directory
    }

    /// Downloads `model` and returns its checkpoint directory.
    public func pull(_ model: HubModel) async throws -> String {
        let dir = store.checkpointDirectory(model.name)
        if offline { return try checkOffline(dir) }
        // Every listed file but git's own, placed under `prefix` in the checkpoint directory.
        func files(of repo: HubRepo, under prefix: String) async throws -> [Planned] {
            try await client.listFiles(repo).filter { $0.path != ".gitattributes" }
                .map { Planned(repo: repo, file: $0, target: prefix + $0.path) }
        }
        var plan = try await files(of: model.repo, under: "")
        if !plan.contains(where: { $0.target.hasPrefix("speech_tokenizer/") }) {
            plan += try await files(of: model.speechTokenizer, under: "speech_tokenizer/")
        }
        let total = plan.reduce(Int64(0)) { $0 + $1.file.size }
        report("\(model.repo.id)@\(model.repo.revision): \(plan.count) files, \(ByteCountFormatter.string(fromByteCount: total, countStyle: .file))")
        let meter = ProgressMeter(total: total, report: report)
        var record = readRecord(dir)
        for item in plan {
            let destination = dir + "/" + item.target
            if let size = record[item.target], size == item.file.size, fileSize(destination) == size {
                meter.add(size)  // complete and checked by an earlier pull
                continue
            }
            try await fetch(item, to: destination, meter: meter)
            record[item.target] = item.file.size
            try writeRecord(record, dir)
        }
        meter.finish()
        return dir
    }

    private func fetch(_ item: Planned, to destination: String, meter: ProgressMeter) async throws {
        var lastError: Error?
        for attempt in 1...Self.attempts {
            let before = meter.done
            do {
                try await client.download(item.file, from: item.repo, to: destination) { meter.add($0) }
                return
            } catch let e as HubError {
                switch e {
                case .checksumMismatch, .sizeMismatch:
                    if attempt < Self.attempts { report("\(item.target): \(e); fetching it again (attempt \(attempt + 1) of \(Self.attempts))") }
                    lastError = e
                default: throw e  // 401, 404, bad listings: another try would not change them
                }
            } catch {
                if attempt < Self.attempts { report("\(item.target): interrupted (\(error)); resuming") }
                lastError = error
            }
            meter.rewind(to: before)
        }
        throw lastError ?? HubError.io(path: destination, reason: "download failed")
    }

    /// The files a previous pull completed (path -> size).
    private func readRecord(_ dir: String) -> [String: Int64] {
        guard let data = FileManager.default.contents(atPath: dir + "/" + Self.recordName),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: NSNumber] else { return [:] }
        return json.mapValues(\.int64Value)
    }

    private func writeRecord(_ record: [String: Int64], _ dir: String) throws {
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        try data.write(to: URL(fileURLWithPath: dir + "/" + Self.recordName), options: .atomic)
    }

    private func checkOffline(_ dir: String) throws -> String {
        let record = readRecord(dir)
        guard !record.isEmpty else { throw HubError.offlineMissing(file: dir) }
        for (path, size) in record.sorted(by: { $0.key < $1.key }) {
            guard fileSize(dir + "/" + path) == size else { throw HubError.offlineMissing(file: dir + "/" + path) }
        }
        report("offline: using \(dir) (\(record.count) files)")
        return dir
    }
}

/// Bytes done of a total, reported as a progress line with rate and time left: redrawn in place on
/// a terminal, a plain line every 10% otherwise.
final class ProgressMeter: Sendable {
    private struct State {
        var done: Int64 = 0
        var lastShown = -1
        var lastDraw = Date.distantPast
    }
    let total: Int64
    let start = Date()
    let report: @Sendable (String) -> Void
    let terminal = isatty(2) != 0
    private let state = Mutex(State())

    init(total: Int64, report: @escaping @Sendable (String) -> Void) {
        self.total = max(total, 1)
        self.report = report
    }

    var done: Int64 { state.withLock { $0.done } }

    func rewind(to bytes: Int64) { state.withLock { $0.done = bytes } }

    func add(_ bytes: Int64) {
        let line: String? = state.withLock { s in
            s.done += bytes
            let percent = Int(min(100, s.done * 100 / total))
            let now = Date()
            if terminal {
                guard now.timeIntervalSince(s.lastDraw) >= 0.2 || s.done >= total else { return nil }
                s.lastDraw = now
            } else {
                guard percent / 10 > s.lastShown / 10 || s.lastShown < 0 else { return nil }
            }
            s.lastShown = percent
            let elapsed = max(now.timeIntervalSince(start), 1e-3), rate = Double(s.done) / elapsed
            let left = rate > 0 ? Double(total - s.done) / rate : 0
            return String(format: "%3d%%  %@ of %@  %@/s  %@ left", percent,
                          ByteCountFormatter.string(fromByteCount: s.done, countStyle: .file),
                          ByteCountFormatter.string(fromByteCount: total, countStyle: .file),
                          ByteCountFormatter.string(fromByteCount: Int64(rate), countStyle: .file),
                          Duration.seconds(left).formatted(.time(pattern: .hourMinuteSecond)))
        }
        guard let line else { return }
        if terminal { FileHandle.standardError.write(Data(("\r" + line).utf8)) } else { report(line) }
    }

    func finish() {
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
