// The HTTP API: /health, /v1/models, /v1/audio/voices, /v1/audio/speech (and, as a WebSocket,
// /v1/audio/speech/stream: SpeechStreamRoute).
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Qwen3TTS
import TTSAudio
import TTSRuntime

/// The request handlers, sharing the resident model and the scheduler.
struct SpeechRoutes: Sendable {
    let configuration: ServerConfiguration
    let host: ModelHost
    let scheduler: SynthesisScheduler
    /// Bytes of voice uploads being buffered or cloned, over all connections.
    let uploads: ByteBudget
    let metrics = ServerMetrics()

    init(configuration: ServerConfiguration, host: ModelHost, scheduler: SynthesisScheduler) {
        self.configuration = configuration
        self.host = host
        self.scheduler = scheduler
        uploads = ByteBudget(capacity: configuration.uploadBudget)
    }

    func router() -> Router<SpeechRequestContext> {
        let router = Router(context: SpeechRequestContext.self)
        router.add(middleware: AccessLogMiddleware(metrics: metrics))
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: RequestGateMiddleware(gate: RequestGate(configuration: configuration, host: host)))
        router.get("health") { _, _ in try await health() }
        router.get("metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            let text = metrics.exposition(scheduler: await scheduler.stats, host: host)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
        let v1 = router.group("v1")
        v1.get("models") { _, _ in try models() }
        v1.get("models/{id}") { _, context in try model(id: context.parameters.require("id")) }
        addVoiceRoutes(to: v1)
        v1.post("audio/speech") { request, context in try await speech(request, context: context) }
        // Reached only without an upgrade: the WebSocket router takes the upgrades.
        v1.get("audio/speech/stream") { _, _ -> Response in
            throw APIError(HTTPResponse.Status(code: 426), "\(Self.streamPath) speaks WebSocket: connect with 'Upgrade: websocket'",
                           code: "upgrade_required")
        }
        return router
    }

    // MARK: - Status and discovery

    private func health() async throws -> Response {
        guard host.model != nil else {
            return json(["status": "loading", "model": configuration.servedModelID], status: .serviceUnavailable)
        }
        let stats = await scheduler.stats
        var body: [String: Any] = [
            "status": "ok", "model": configuration.servedModelID,
            "active": stats.active, "queued": stats.queued, "completed": stats.completed, "refused": stats.refused,
            "cancelled": stats.cancelled, "timed_out": stats.timedOut, "failed": stats.failed, "frames": stats.frames,
            "max_concurrent": scheduler.maxConcurrent, "max_queued": scheduler.maxQueued,
        ]
        if let rss = SystemMetrics.currentResidentBytes() { body["resident_bytes"] = rss }
        if let heap = SystemMetrics.heapInUseBytes() { body["heap_in_use_bytes"] = heap }
        if let cache = host.model?.promptCache.statistics {
            body["prompt_cache"] = ["entries": cache.entries, "bytes": cache.bytes, "hits": cache.hits, "misses": cache.misses]
        }
        let clones = host.clones.statistics
        body["clone_cache"] = ["entries": clones.entries, "bytes": clones.bytes, "hits": clones.hits, "misses": clones.misses]
        return json(body)
    }

    /// Returns freed memory to the system once nothing runs and nothing is being uploaded: glibc
    /// keeps what it frees here (SystemMetrics.retainFreedMemory), so without this a burst of
    /// concurrent requests would raise RSS for good.
    func releaseMemoryIfIdle() async {
        guard uploads.inUse == 0, await scheduler.stats.active == 0 else { return }
        SystemMetrics.releaseFreedMemory()
    }

    func readyModel() throws -> Qwen3TTSModel {
        guard let model = host.model else { throw Self.modelLoading }
        return model
    }

    static let modelLoading = APIError(.serviceUnavailable, "the model is still loading; retry shortly", type: "server_error", code: "model_loading")

    /// The model was unloaded between a request's checks and its start.
    static let modelNotLoaded = APIError(.serviceUnavailable, "the model is not loaded", type: "server_error", code: "model_loading")

    /// The server's streaming options for audio in `format`: AAC's first packet needs two model
    /// frames (measured: 446 ms to its first byte after a one-frame first chunk, ~100 ms after a
    /// two-frame one).
    func streamOptions(for format: AudioFormat, model: Qwen3TTSModel) -> StreamOptions {
        var streaming = configuration.streaming
        streaming.firstChunkFrames = format.firstChunkFrames(atLeast: streaming.firstChunkFrames, samplesPerFrame: model.samplesPerFrame)
        return streaming
    }

    /// The encoder of a request's audio; a codec that refuses the stream is a server error.
    func responseEncoder(_ r: SpeechRequest, streamFormat: StreamFormat, model: Qwen3TTSModel) throws -> ResponseEncoder {
        do {
            return try ResponseEncoder(format: r.format, streamFormat: streamFormat, sampleRate: model.sampleRate, speed: r.speed)
        } catch let e as CodecError {
            throw APIError(.internalServerError, "cannot encode \(r.format.rawValue): \(e)", type: "server_error", code: "encoder_failed")
        }
    }

    private func modelObject(_ id: String) -> [String: Any] {
        ["id": id, "object": "model", "created": host.readyTime, "owned_by": "qwen3-tts-swift"]
    }

    private func models() throws -> Response {
        _ = try readyModel()
        return json(["object": "list", "data": configuration.acceptedModelIDs.map(modelObject)])
    }

    private func model(id: String) throws -> Response {
        _ = try readyModel()
        guard configuration.acceptedModelIDs.contains(id) else { throw unknownModel(id) }
        return json(modelObject(id))
    }

    /// The voice a model without named speakers answers to (VoiceDesign describes the voice in
    /// `instructions` instead).
    static let defaultVoice = "default"

    func unknownModel(_ id: String) -> APIError {
        APIError(.notFound, "the model '\(id)' does not exist; served: \(configuration.acceptedModelIDs.joined(separator: ", "))",
                 param: "model", code: "model_not_found")
    }

    // MARK: - Speech

    private func speech(_ request: Request, context: SpeechRequestContext) async throws -> Response {
        let watcher = try await DisconnectWatcher.install(on: context.channel)
        do {
            return try await speech(request, watcher: watcher, channel: context.channel, logger: context.logger)
        } catch {
            await watcher.remove(from: context.channel)
            throw error
        }
    }

    private func speech(_ request: Request, watcher: DisconnectWatcher, channel: any Channel, logger: Logger) async throws -> Response {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw APIError(.unsupportedMediaType, "Content-Type must be application/json (got \(contentType.isEmpty ? "none" : contentType))",
                           code: "unsupported_media_type")
        }
        // For a Base model, a body larger than --max-body carries reference audio (ref_audio):
        // it may be as large as a voice upload in base64, and is held in the upload budget while
        // it is read, decoded and cloned. It must declare its length.
        var limit = configuration.maxBodyBytes
        var reserved = 0
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            // The request gate has refused what is over the limit for this model (RequestGate.bodyLimit).
            guard uploads.reserve(declared) else {
                throw APIError(.serviceUnavailable, "the server is receiving other uploads (\(configuration.uploadBudget) bytes at once); retry shortly",
                               type: "server_error", code: "upload_capacity")
            }
            limit = declared
            reserved = declared
        }
        defer {
            if reserved > 0 {
                uploads.release(reserved)
                Task { await releaseMemoryIfIdle() }
            }
        }
        // A Base model's large bodies (ref_audio) are admitted by their declared length only.
        let undeclared = reserved == 0 && request.headers[.contentLength] == nil && host.model?.configuration.modelKind == .base
        let parsed: SpeechRequest
        do {  // the body (up to tens of MB with ref_audio) is dropped once parsed
            let body = try await collectBody(request, channel: channel, limit: limit,
                                             what: undeclared ? "the request body (one carrying ref_audio must declare its Content-Length)" : "the request body")
            parsed = try SpeechRequest.parse(Data(buffer: body), maxInputCharacters: configuration.maxInputCharacters,
                                             maxInputBytes: configuration.inputByteLimit)
        }
        let model = try readyModel()
        let tokens = model.tokenizer.encode(parsed.input).count
        if tokens > configuration.maxInputTokens {
            throw APIError.invalid("'input' is \(tokens) tokens long; the limit is \(configuration.maxInputTokens) tokens",
                                   param: "input", code: "string_above_max_length")
        }
        guard configuration.acceptedModelIDs.contains(parsed.model) else { throw unknownModel(parsed.model) }
        var (synthesis, reference) = try synthesisRequest(parsed, model: model)
        let options = parsed.generationOptions()
        let streaming = streamOptions(for: parsed.format, model: model)
        // Checked once (the seed drawn there too): a clone still to be made once it exists,
        // everything else before admission.
        var validated = reference == nil ? try model.validate(synthesis, options: options, segmentCharacters: streaming.maxSegmentCharacters) : nil
        let encoder = try responseEncoder(parsed, streamFormat: parsed.streamFormat, model: model)

        let admitted = ContinuousClock.now
        let job: SynthesisJob
        do {
            job = try await scheduler.admit(timeout: configuration.timeout)
        } catch let refusal as SchedulerRefusal {
            throw Self.error(for: refusal)
        }
        watcher.watch(job)
        if let reference {
            // Cloning is synthesis work: it runs in this request's slot and counts against its time.
            // A reference the engine refuses is the client's error, not a failure (as in
            // POST /v1/audio/voices): the slot is simply given back.
            do {
                synthesis.setVoice(try await clone(reference, model: model))
                validated = try model.validate(synthesis, options: options, segmentCharacters: streaming.maxSegmentCharacters)
            } catch {
                job.release()
                throw error
            }
        }
        // Every path above validated the request; the model may have been unloaded meanwhile.
        guard let engine = host.engine, let validated else {
            job.release()
            throw Self.modelNotLoaded
        }
        let remaining = configuration.timeout - (ContinuousClock.now - admitted).seconds
        guard remaining > 0 else {
            job.stop(.timedOut)
            job.release()
            throw Self.error(for: .timedOut(seconds: configuration.timeout))
        }
        // An event-loop timer: cancelled when the producer exits, it is freed at once.
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(max(remaining, 0) * 1e9))) { job.stop(.timedOut) }
        // The request joins the model's running batch at the next frame (BatchEngine).
        let chunks = ChunkSource(engine.stream(validated, streaming: streaming, progress: job.progress) {
            timer.cancel()
            job.release()
        })
        // Wait for the first audio before answering, so that a failure or timeout before any
        // audio is a proper error status rather than a truncated 200.
        let first: AudioChunk?
        do {
            first = try await chunks.next()
        } catch {
            job.stop(.failed)
            if job.stopReason == .timedOut {
                throw APIError(.gatewayTimeout, "no audio within the \(Int(configuration.timeout)) s time limit", type: "server_error", code: "timeout")
            }
            throw error
        }
        var headers = HTTPFields()
        headers[.contentType] = encoder.contentType
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Sample-Rate")!] = String(model.sampleRate)
        headers[HTTPField.Name("X-Seed")!] = String(validated.seed)
        let inputCharacters = parsed.input.count
        let voiceName = parsed.referenceAudio != nil ? "ref_audio" : parsed.voice ?? "-"
        let summary = "voice=\(voiceName) language=\(parsed.language) format=\(parsed.format.rawValue)/\(parsed.streamFormat.rawValue) speed=\(parsed.speed)"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var frames = 0
            var wall = 0.0
            var counted = false
            do {
                var next = first
                // A client that stops reading stalls a write; past the write timeout its
                // connection is closed and the work stops (DeadlinePassed, below).
                let limit = configuration.writeTimeout
                while let chunk = next {
                    frames += chunk.frames
                    if let bytes = try encoder.encode(chunk.samples) {
                        try await withDeadline(limit, closing: channel) { try await writer.write(bytes) }
                    }
                    next = try await chunks.next()
                }
                if let done = try encoder.finish(inputCharacters: inputCharacters, frames: frames) {
                    try await withDeadline(limit, closing: channel) { try await writer.write(done) }
                }
                // Counted before the body ends, so that a client reading /metrics or /health the
                // moment its response is complete sees it (CI once scraped in between).
                wall = (ContinuousClock.now - admitted).seconds
                metrics.recordCompleted(firstAudio: first?.elapsed ?? 0, audio: Double(frames) / 12.5, wall: wall)
                counted = true
                await job.settled()
                watcher.unwatch()
                try await writer.finish(nil)
                await watcher.remove(from: channel)
            } catch {
                // Headers are gone: the only way to report a failure now is to end the stream early.
                job.stop(watcher.clientGone || error is ChannelError || error is IOError || error is CancellationError || error is DeadlinePassed
                         ? .clientGone : .failed)
                if !counted { metrics.recordStopped(job.stopReason) }
                await watcher.remove(from: channel)
                logger.notice("speech stopped after \(frames) frames (\(job.stopReason)): \(error) \(summary)")
                throw error
            }
            logger.info("speech \(frames) frames, \(String(format: "%.2f", Double(frames) / 12.5)) s audio in \(String(format: "%.2f", wall)) s, first audio \(String(format: "%.3f", first?.elapsed ?? 0)) s \(summary)")
        })
    }

    /// The whole body, at most `limit` bytes (413 `body_too_large` beyond, naming `what`),
    /// within the read timeout (a body trickling in closes the connection: 408).
    func collectBody(_ request: Request, channel: any Channel, limit: Int, what: String) async throws -> ByteBuffer {
        do {
            return try await withDeadline(configuration.readTimeout, closing: channel) { try await request.body.collect(upTo: limit) }
        } catch is DeadlinePassed {
            throw APIError(.requestTimeout, "\(what) did not arrive within \(configuration.readTimeout) s", code: "request_timeout")
        } catch let e as HTTPParserError {
            throw APIError.invalid("\(what) is malformed or ended early (\(e.debugDescription))", code: "invalid_body")
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "\(what) is larger than \(limit) bytes", code: "body_too_large")
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "\(what) is larger than \(limit) bytes", code: "body_too_large")
        }
    }

    static func error(for refusal: SchedulerRefusal) -> APIError {
        switch refusal {
        case .queueFull(let limit):
            APIError(.tooManyRequests, "the server is busy: all synthesis slots are taken and \(limit) requests are already waiting; retry later",
                     type: "rate_limit_error", code: "server_busy")
        case .timedOut(let seconds):
            APIError(.gatewayTimeout, "no synthesis slot became free within \(Int(seconds)) s", type: "server_error", code: "timeout")
        case .shuttingDown:
            APIError(.serviceUnavailable, "the server is shutting down", type: "server_error", code: "shutting_down")
        }
    }

    func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = jsonBody(object)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// The one consumer of a job's audio stream: the handler takes the first chunk, the response body
/// the rest, one after the other (never concurrently), hence `@unchecked Sendable`.
final class ChunkSource: @unchecked Sendable {
    private var iterator: AudioChunkStream.AsyncIterator

    init(_ stream: AudioChunkStream) { iterator = stream.makeAsyncIterator() }

    func next() async throws -> AudioChunk? { try await iterator.next() }
}
