// Settings of `qwen3-tts serve`.
import Foundation
import Qwen3TTS
import TTSRuntime

public struct ServerConfiguration: Sendable {
    /// Checkpoint directory or GGUF file.
    public var modelPath: String
    /// Worker threads (nil: one per core) and weight storage, as for `synthesize`.
    public var threads: Int?
    public var weights: WeightType?
    /// Arithmetic of the speech decoder's convolutions.
    public var decoderPrecision: ConvPrecision = .f32
    public var host = "127.0.0.1"
    /// TCP port; 0 picks a free one (announced on standard output). nil: no TCP listener.
    public var port: Int? = 8000
    /// Also (or only) listen on this Unix domain socket.
    public var socketPath: String?
    /// When set, /v1 requests need `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// Sessions generating at once, requests waiting for one, and the per-request time limit
    /// (queueing included) in seconds.
    public var maxConcurrent = 1
    public var maxQueued = 8
    public var timeout: Double = 300
    /// Longest `input` in characters (OpenAI's limit) and largest request body in bytes.
    public var maxInputCharacters = 4096
    /// `input` is also bounded in UTF-8 bytes (default: 4 per character, so any ordinary text within
    /// the character limit fits) and in tokens (default 4096: in all ten languages ordinary text
    /// is at most about one token per character, so only text built to expand, such as a letter
    /// with thousands of combining marks, is refused). Tokens are what prefill and frames cost.
    public var maxInputBytes: Int?
    public var maxInputTokens = 4096
    public var inputByteLimit: Int { maxInputBytes ?? maxInputCharacters * TextLimits.segmentBytesPerCharacter }
    /// Most cloned voices the server keeps (each is a file and up to ~300 KB in memory).
    public var maxVoices = 1000
    public var maxBodyBytes = 256 * 1024
    /// Largest voice upload (POST /v1/audio/voices) in bytes: 60 s of 48 kHz stereo float is 23 MB.
    public var maxUploadBytes = 32 * 1024 * 1024
    /// Bytes of voice uploads buffered at once, over all connections (default: two maximum-size
    /// uploads); an upload that does not fit is refused with 503 at once, before it is read.
    public var uploadBudgetBytes: Int?
    public var uploadBudget: Int { uploadBudgetBytes ?? 2 * maxUploadBytes }
    /// The largest speech request carrying reference audio (`ref_audio`): --max-body plus an
    /// upload's worth of audio in base64.
    public var speechWithReferenceBytes: Int { maxBodyBytes + (maxUploadBytes + 2) / 3 * 4 }
    /// Connections: at most `maxConnections` open (more wait in the listen backlog); one with no
    /// complete request part for `idleTimeout` seconds is closed (slow headers, idle keep-alive);
    /// a request body must arrive within `readTimeout` seconds of its head (408 otherwise); a
    /// response write that cannot progress for `writeTimeout` seconds (a client that stopped
    /// reading) closes the connection and stops its work.
    public var maxConnections = 128
    public var idleTimeout: Double = 30
    public var readTimeout: Double = 60
    public var writeTimeout: Double = 30
    /// Browser origins allowed to call the API (`Origin` header, e.g. "http://localhost:3000";
    /// "*" allows any). A request from any other origin is refused with 403, so a web page cannot
    /// drive the daemon; clients that are not browsers send no Origin. When the server listens
    /// on a loopback address, the Host header must name a loopback host too (DNS rebinding).
    public var allowedOrigins: [String] = []

    /// At shutdown, running requests get this many seconds to finish before they are stopped.
    public var shutdownGrace: Double = 10
    /// Chunking of streamed audio (first chunk small for latency).
    public var streaming = StreamOptions()
    /// Base models: a directory of `.voice` files (from `qwen3-tts voice create`) served as voices;
    /// voices created over the API are written there.
    public var voicesDirectory: String?
    /// Memory for cached speaker prompts (the talker state after a voice's shared prefix), in
    /// bytes; 0 turns the cache off.
    public var promptCacheBytes = 256 << 20
    /// Name the model is served as; nil: the checkpoint's directory or file name.
    public var modelID: String?

    public init(modelPath: String) { self.modelPath = modelPath }

    /// Model names a request may give: the served id, "qwen3-tts", and OpenAI's TTS model names
    /// (so that clients with a fixed model list work unchanged). All mean the one resident model.
    public var acceptedModelIDs: [String] { [servedModelID, "qwen3-tts", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"] }

    public var servedModelID: String {
        if let modelID { return modelID }
        let url = URL(fileURLWithPath: modelPath).standardizedFileURL
        let name = url.pathExtension.lowercased() == "gguf" ? url.deletingPathExtension().lastPathComponent : url.lastPathComponent
        return name.isEmpty ? "qwen3-tts" : name
    }

    public func validate() throws {
        func check(_ ok: Bool, _ message: String) throws { if !ok { throw ServerError.invalidConfiguration(message) } }
        try check(port != nil || socketPath != nil, "nothing to listen on: give a TCP port or --socket")
        if let port { try check((0...65535).contains(port), "--port must be in 0...65535") }
        try check(maxConcurrent >= 1 && maxConcurrent <= BatchEngine.largestBatch, "--max-batch must be in 1...\(BatchEngine.largestBatch)")
        try check(maxQueued >= 0, "--queue must be 0 or more")
        // Durations become Duration and Task.sleep arguments: a day at most, so none overflows.
        try check(timeout > 0 && timeout <= 86_400, "--timeout must be a number of seconds in (0, 86400]")
        try check(shutdownGrace >= 0 && shutdownGrace <= 86_400, "--shutdown-grace must be a number of seconds in [0, 86400]")
        try check(maxInputCharacters >= 1 && maxInputCharacters <= Qwen3TTSModel.maximumTextCharacters,
                  "--max-input must be in 1...\(Qwen3TTSModel.maximumTextCharacters)")
        if let maxInputBytes {
            try check(maxInputBytes >= 1 && maxInputBytes <= TextLimits.maximumTextBytes, "--max-input-bytes must be in 1...\(TextLimits.maximumTextBytes)")
        }
        try check(maxInputTokens >= 1 && maxInputTokens <= TextLimits.maximumTextBytes, "--max-input-tokens must be in 1...\(TextLimits.maximumTextBytes)")
        try check(maxVoices >= 0, "--max-voices must be 0 or more")
        try check(maxBodyBytes >= 1024, "--max-body must be at least 1024 bytes")
        try check(maxUploadBytes >= 1024, "--max-upload must be at least 1024 bytes")
        try check(promptCacheBytes >= 0, "--prompt-cache must be 0 or more")
        try check(uploadBudget >= maxUploadBytes, "--upload-budget must be at least --max-upload")
        try check(maxConnections >= 1, "--max-connections must be at least 1")
        for (name, value) in [("--idle-timeout", idleTimeout), ("--read-timeout", readTimeout), ("--write-timeout", writeTimeout)] {
            try check(value > 0 && value <= 86_400, "\(name) must be a number of seconds in (0, 86400]")
        }
        if let apiKey { try check(!apiKey.isEmpty, "the API key is empty") }
        if let threads { try check(threads >= 1, "--threads must be at least 1") }
    }
}

public enum ServerError: Error, Sendable, CustomStringConvertible {
    case invalidConfiguration(String)
    case socketInUse(path: String)
    case socketPathTaken(path: String)
    case modelLoadFailed(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let m): m
        case .socketInUse(let p): "another server is listening on \(p)"
        case .socketPathTaken(let p): "\(p) exists and is not a socket; refusing to replace it"
        case .modelLoadFailed(let m): "cannot load the model: \(m)"
        }
    }
}
