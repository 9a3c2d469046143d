// The resident model and whether it is ready yet.
import Foundation
import Qwen3TTS
import Synchronization

/// Holds the model once it has loaded. The server answers /health with 503 and speech requests
/// with a "model is loading" error until then.
public final class ModelHost: Sendable {
    private let slot = Mutex<(model: Qwen3TTSModel, engine: BatchEngine)?>(nil)
    /// Cloned voices (Base models).
    public let voices = VoiceLibrary()
    /// Voices cloned from requests' reference audio (`ref_audio`), by SHA-256 of the audio and
    /// the cloning mode, reused when it comes again; least recently used first out.
    let clones = ByteBoundedCache<String, VoiceFile>(capacityBytes: 16 << 20)
    /// Unix time the model became ready (the "created" of /v1/models).
    private let readyAt = Atomic<Int>(0)

    public init() {}

    public var model: Qwen3TTSModel? { slot.withLock { $0?.model } }
    /// The batch every speech request of the model joins (the scheduler bounds how many at once).
    public var engine: BatchEngine? { slot.withLock { $0?.engine } }
    public var readyTime: Int { readyAt.load(ordering: .acquiring) }

    func set(_ model: Qwen3TTSModel) {
        slot.withLock { $0 = (model, BatchEngine(model: model, maxBatch: BatchEngine.largestBatch)) }
        readyAt.store(Int(Date().timeIntervalSince1970), ordering: .releasing)
    }

    /// Loads on a thread of its own (loading is long, blocking work that must not occupy the
    /// threads that serve requests).
    func load(_ loader: @escaping @Sendable () throws -> Qwen3TTSModel) async throws -> Qwen3TTSModel {
        let model = try await runOnThread(named: "tts-load", loader)
        set(model)
        return model
    }
}
