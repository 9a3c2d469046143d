// The resident model and whether it is ready yet.
import Foundation
import Qwen3TTS
import Synchronization

/// Holds the model once it has loaded. The server answers /health with 503 and speech requests
/// with a "model is loading" error until then.
public final class ModelHost: Sendable {
    private let slot = Mutex<Qwen3TTSModel?>(nil)
    /// Cloned voices (Base models): lower-cased name -> x-vector.
    private let clonedVoices = Mutex<[String: [Float]]>([:])
    /// Unix time the model became ready (the "created" of /v1/models).
    private let readyAt = Atomic<Int>(0)

    public init() {}

    public var model: Qwen3TTSModel? { slot.withLock { $0 } }
    public var readyTime: Int { readyAt.load(ordering: .acquiring) }

    public var voices: [String: [Float]] { clonedVoices.withLock { $0 } }

    /// Loads every `*.voice` file in `directory` made by `model`; returns the problems with the
    /// others (each is skipped, not fatal: one stale file must not keep the daemon down).
    func loadVoices(from directory: String, for model: Qwen3TTSModel) throws -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".voice") }.sorted()
        } catch {
            throw ServerError.invalidConfiguration("cannot read the voices directory \(directory): \(error.localizedDescription)")
        }
        var loaded: [String: [Float]] = [:], problems: [String] = []
        for file in names {
            let path = (directory as NSString).appendingPathComponent(file)
            do {
                guard let data = FileManager.default.contents(atPath: path) else { throw VoiceError.malformed(path, "unreadable") }
                let voice = try VoiceFile.decode(data, source: path)
                loaded[voice.name.lowercased()] = try model.speakerEmbedding(from: voice, source: path)
            } catch {
                problems.append("\(error)")
            }
        }
        clonedVoices.withLock { $0 = loaded }
        return problems
    }

    func set(_ model: Qwen3TTSModel) {
        slot.withLock { $0 = model }
        readyAt.store(Int(Date().timeIntervalSince1970), ordering: .releasing)
    }

    /// Loads on a thread of its own (loading is long, blocking work that must not occupy the
    /// threads that serve requests).
    func load(_ loader: @escaping @Sendable () throws -> Qwen3TTSModel) async throws -> Qwen3TTSModel {
        let model = try await withCheckedThrowingContinuation { (c: CheckedContinuation<Qwen3TTSModel, Error>) in
            let t = Thread {
                c.resume(with: Result { try loader() })
            }
            t.name = "tts-load"
            t.stackSize = 8 << 20
            t.start()
        }
        set(model)
        return model
    }
}
