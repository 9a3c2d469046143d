// `qwen3-tts serve`: the daemon with the model resident.
import ArgumentParser
import Foundation
import TTSHub
import Logging
import Qwen3TTS
import TTSRuntime
import TTSServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the model over an OpenAI-compatible HTTP API (POST /v1/audio/speech).",
        discussion: """
            Listens at once and loads the model; GET /health answers 503 until it is ready. Each \
            listener is announced on standard output ("qwen3-tts serve: listening on ..."), then \
            "model ... ready". SIGINT or SIGTERM refuses new work, gives running requests \
            --shutdown-grace seconds, and removes the socket file. The API key may also come from \
            the QWEN3_TTS_API_KEY environment variable. See docs/API.md.
            """)

    @Option(name: .long, help: "Model: a Qwen3-TTS-12Hz checkpoint directory or a GGUF file from convert.")
    var model: String

    @Option(name: .long, help: "TCP address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "TCP port (0: any free port, announced on standard output).")
    var port = 8000

    @Flag(name: .customLong("no-tcp"), help: "Listen on --socket only.")
    var noTCP = false

    @Option(name: .long, help: "Also listen on this Unix domain socket.")
    var socket: String?

    @Option(name: .customLong("api-key"), help: "Require 'Authorization: Bearer KEY' on /v1 routes.")
    var apiKey: String?

    @Option(name: [.customLong("max-batch"), .customLong("max-concurrent")], help: """
        Requests generating at once, stepped together as one batch (each frame's passes read the \
        weights once for all of them); more wait in the queue. --max-concurrent is the old name.
        """)
    var maxConcurrent = 4

    @Option(name: .long, help: "Requests that may wait for a slot; more are refused with 429.")
    var queue = 8

    @Option(name: .long, help: "Seconds a request may take, waiting included.")
    var timeout: Double = 300

    @Option(name: .customLong("max-input"), help: "Longest input text in characters.")
    var maxInput = 4096

    @Option(name: .customLong("max-input-bytes"), help: "Longest input text in UTF-8 bytes (default: 4 per --max-input character).")
    var maxInputBytes: Int?

    @Option(name: .customLong("max-input-tokens"), help: "Most text tokens in the input.")
    var maxInputTokens = 4096

    @Option(name: .customLong("max-voices"), help: "Most cloned voices kept in --voices (more are refused).")
    var maxVoices = 1000

    @Option(name: .customLong("max-body"), help: "Largest request body in bytes.")
    var maxBody = 256 * 1024

    @Option(name: .customLong("shutdown-grace"), help: "Seconds running requests get to finish at shutdown.")
    var shutdownGrace: Double = 10

    @Option(name: .customLong("prompt-cache"), help: "MiB for cached speaker prompts (talker state of a voice's shared prompt prefix); 0 turns it off.")
    var promptCache = 256

    @Option(name: .customLong("max-upload"), help: "Largest voice upload (POST /v1/audio/voices) in bytes.")
    var maxUpload = 32 * 1024 * 1024

    @Option(name: .customLong("upload-budget"), help: "Bytes of voice uploads buffered at once over all connections (default: twice --max-upload).")
    var uploadBudget: Int?

    @Option(name: .customLong("max-connections"), help: "Open connections at most; more wait to be accepted.")
    var maxConnections = 128

    @Option(name: .customLong("idle-timeout"), help: "Seconds a connection may go without a complete request part (slow headers, idle keep-alive).")
    var idleTimeout: Double = 30

    @Option(name: .customLong("read-timeout"), help: "Seconds a request body may take to arrive.")
    var readTimeout: Double = 60

    @Option(name: .customLong("write-timeout"), help: "Seconds a response write may stall (a client that stopped reading) before the connection is closed.")
    var writeTimeout: Double = 30

    @Option(name: .customLong("allow-origin"), help: "A browser origin allowed to call the API (repeatable; * allows any). Requests with any other Origin header are refused.")
    var allowOrigin: [String] = []

    @Option(name: .long, help: "Base models: serve the .voice files of this directory (from `voice create`) as voices; voices created with POST /v1/audio/voices are saved there.")
    var voices: String?

    @Option(name: .customLong("model-id"), help: "Name to serve the model as (default: the checkpoint's name).")
    var modelID: String?

    @Option(name: .customLong("first-chunk-frames"), help: "Frames in the first streamed chunk.")
    var firstChunkFrames = 1

    @Option(name: .customLong("chunk-frames"), help: "Frames in each later streamed chunk.")
    var chunkFrames = 12

    @Option(name: .long, help: "Store the talker and code-predictor weights as f32, bf16, q8_0 or q4_k (q4_k: layers in q4_k, heads in q8_0; default: as in the checkpoint).")
    var quant: WeightType?

    @OptionGroup var decoder: DecoderOption

    @Option(name: .long, help: "Worker threads (default: one per core).")
    var threads: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("--log-level must be one of: trace, debug, info, notice, warning, error, critical") }
        if firstChunkFrames < 1 || chunkFrames < 1 { throw ValidationError("--first-chunk-frames and --chunk-frames must be at least 1") }
        if noTCP && socket == nil { throw ValidationError("--no-tcp needs --socket") }
        if !(0...65536).contains(promptCache) { throw ValidationError("--prompt-cache must be 0 to 65536 MiB") }
    }

    func run() async throws {
        var c = ServerConfiguration(modelPath: ModelStore.fromEnvironment().resolveModelArgument(model))  // a pulled name too
        c.host = host
        c.port = noTCP ? nil : port
        c.socketPath = socket
        c.apiKey = apiKey ?? ProcessInfo.processInfo.environment["QWEN3_TTS_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        c.maxConcurrent = maxConcurrent
        c.maxQueued = queue
        c.timeout = timeout
        c.maxInputCharacters = maxInput
        c.maxInputBytes = maxInputBytes
        c.maxInputTokens = maxInputTokens
        c.maxVoices = maxVoices
        c.maxBodyBytes = maxBody
        c.maxUploadBytes = maxUpload
        c.uploadBudgetBytes = uploadBudget
        c.maxConnections = maxConnections
        c.idleTimeout = idleTimeout
        c.readTimeout = readTimeout
        c.writeTimeout = writeTimeout
        c.allowedOrigins = allowOrigin
        c.promptCacheBytes = promptCache << 20
        c.shutdownGrace = shutdownGrace
        c.modelID = modelID
        c.voicesDirectory = voices
        c.streaming.firstChunkFrames = firstChunkFrames
        c.streaming.chunkFrames = chunkFrames
        c.weights = quant
        c.decoderPrecision = decoder.precision
        c.threads = threads
        var logger = Logger(label: "qwen3-tts") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        let server: SpeechServer
        do {
            server = try SpeechServer(configuration: c, logger: logger)
        } catch {
            throw CommandError("\(error)")
        }
        // Announcements go to standard output, one line each, for scripts that wait for them.
        let announcer = Task {
            for await event in server.announcements {
                let line: String
                switch event {
                case .listening(let address): line = "qwen3-tts serve: listening on \(address)\n"
                case .ready: line = "qwen3-tts serve: model \(c.servedModelID) ready\n"
                }
                FileHandle.standardOutput.write(Data(line.utf8))
            }
        }
        defer { announcer.cancel() }
        do {
            try await server.run()
        } catch {
            throw CommandError("\(error)")
        }
    }
}
