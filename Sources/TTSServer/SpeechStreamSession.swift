// One connection to /v1/audio/speech/stream: text in as the client writes it, audio out as it is
// made, utterance after utterance (issue 19).
import Foundation
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Qwen3TTS
import ServiceLifecycle
import Synchronization
import TTSAudio

/// Three tasks share a connection. The reader turns frames into messages (answering pings,
/// noticing at once a client that leaves); the session acts on them in order; a speaker per
/// utterance waits for a synthesis slot, feeds the engine the utterance's text as it comes and
/// sends its audio. A silent client times out after `idleTimeout` unless an utterance's text is
/// complete and its audio still being made; an utterance's whole life (text included) is
/// bounded by the request time limit, as on POST /v1/audio/speech.
final class SpeechStreamSession: Sendable {
    private let routes: SpeechRoutes
    private let outbound: WebSocketOutboundWriter
    private let channel: any Channel
    private let logger: Logger
    private let limits: StreamMessageLimits
    private let queue: StreamMessageQueue
    private let current = Mutex<StreamUtterance?>(nil)
    /// A close has gone out (the server's shutdown): nothing may be written after it.
    private let closed = Atomic(false)

    init(routes: SpeechRoutes, outbound: WebSocketOutboundWriter, channel: any Channel, logger: Logger, limits: StreamMessageLimits) {
        self.routes = routes
        self.outbound = outbound
        self.channel = channel
        self.logger = logger
        self.limits = limits
        // While an utterance's last audio is made, the client may already send the next one.
        queue = StreamMessageQueue(maxCount: limits.pieces + 8, maxBytes: limits.largest + limits.messageBytes)
    }

    private var configuration: ServerConfiguration { routes.configuration }

    func run(_ inbound: WebSocketInboundStream) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.read(inbound) }
            // At shutdown the WebSocket layer closes the connection at once; the session stops
            // its utterance and ends without waiting for a client that does not answer.
            let close = await withGracefulShutdownHandler {
                await conduct()
            } onGracefulShutdown: {
                self.closed.store(true, ordering: .releasing)
                self.current.withLock { $0 }?.stop(.shuttingDown)
                _ = self.queue.push(.shutdown, bytes: 0, force: true)
            }
            if let close { try? await outbound.close(close.code, reason: close.reason) }
            // The reader ends when the client answers the close; one that does not is cut off.
            let channel = channel
            let cutoff = channel.eventLoop.scheduleTask(in: .seconds(5)) { channel.close(promise: nil) }
            await group.waitForAll()
            cutoff.cancel()
        }
    }

    // MARK: - Reading

    private func read(_ inbound: WebSocketInboundStream) async {
        defer {
            queue.end()
            current.withLock { $0 }?.stop(.clientGone)
        }
        var message = ByteBuffer()
        var assembling = false
        var failed = false
        func fail(_ e: StreamProtocolError) {
            failed = true
            _ = queue.push(.invalid(e), bytes: 0, force: true)
        }
        do {
            for try await frame in inbound {
                // After a protocol error, frames are read only to see the client's close.
                if failed { continue }
                switch frame.opcode {
                case .binary:
                    fail(StreamProtocolError("binary messages are not accepted: send JSON text messages", code: "binary_message", close: .unacceptableData))
                    continue
                case .text:
                    guard !assembling else { fail(StreamProtocolError("a new message inside a fragmented one", code: "invalid_frame")); continue }
                    message = frame.data
                    assembling = true
                case .continuation:
                    guard assembling else { fail(StreamProtocolError("a continuation frame without a message", code: "invalid_frame")); continue }
                    var data = frame.data
                    message.writeBuffer(&data)
                }
                if message.readableBytes > limits.largest {
                    fail(StreamProtocolError(APIError.invalid("a message is larger than \(limits.largest) bytes", code: "message_too_large"), close: .messageTooLarge))
                    continue
                }
                guard frame.fin else { continue }
                assembling = false
                let bytes = message.readableBytes
                let decoded: StreamClientMessage
                do {
                    decoded = try StreamMessages.decode(Data(buffer: message), limits: limits, servedModel: configuration.servedModelID)
                } catch {
                    fail(error)
                    continue
                }
                message = ByteBuffer()
                if !queue.push(decoded, bytes: bytes) {
                    fail(StreamProtocolError("more than \(queue.maxCount) messages or \(queue.maxBytes) bytes sent ahead of the audio", code: "too_many_messages"))
                }
            }
        } catch {
            logger.debug("speech stream: connection failed: \(error)")
        }
    }

    // MARK: - The session

    private struct Close {
        var code: WebSocketErrorCode
        var reason: String
    }

    private struct Active {
        let utterance: StreamUtterance
        let speaker: Task<Void, Never>

        /// Stops the utterance (its job, or its wait for one) and waits for its speaker.
        func stop(_ reason: StopReason) async {
            utterance.stop(reason)
            await speaker.value
        }
    }

    /// Acts on the client's messages until the connection is to close (the close to send), or the
    /// client has gone (nil).
    private func conduct() async -> Close? {
        var config: SpeechStreamConfig?
        var active: Active?
        var index = 0
        while true {
            let next = await queue.next(timeout: configuration.idleTimeout)
            guard case .message(let message) = next else {
                if case .timedOut = next {
                    await active?.stop(.timedOut)
                    return await refuse(APIError(.requestTimeout, "no message within \(configuration.idleTimeout) s", code: "idle_timeout"),
                                        close: .policyViolation)
                }
                await active?.stop(.clientGone)
                return nil
            }
            switch message {
            case .invalid(let e):
                await active?.stop(.failed)
                return await refuse(e.error, close: e.code)
            case .shutdown:
                await active?.stop(.shuttingDown)
                return nil
            case .close:
                await active?.stop(.clientGone)
                return Close(code: .normalClosure, reason: "session.close")
            case .config(let parsed):
                if active != nil {
                    await active?.stop(.failed)
                    return await refuse(APIError.invalid("session.config while an utterance's text is open; send input.done first", code: "utterance_open"),
                                        close: .policyViolation)
                }
                do {
                    let c = try parsed.get()
                    try check(c)
                    config = c
                } catch {
                    // Without a valid first config there is nothing to do; a later one keeps the last.
                    if config == nil { return await refuse(Self.apiError(error), close: .policyViolation) }
                    guard await send(StreamMessages.error(Self.apiError(error))) else { return nil }
                }
            case .text(let piece):
                guard let config else {
                    return await refuse(APIError.invalid("expected session.config before input.text", code: "missing_config"), close: .policyViolation)
                }
                if active == nil {
                    if piece.isEmpty { continue }
                    let utterance = StreamUtterance(index: index, limits: limits)
                    current.withLock { $0 = utterance }
                    let speaker = Task { await self.speak(utterance, config: config) }
                    utterance.spoken(by: speaker)
                    active = Active(utterance: utterance, speaker: speaker)
                }
                do {
                    try active?.utterance.append(piece)
                } catch {
                    await active?.stop(.failed)
                    return await refuse(Self.apiError(error), close: .policyViolation)
                }
            case .done:
                guard config != nil else {
                    return await refuse(APIError.invalid("expected session.config before input.done", code: "missing_config"), close: .policyViolation)
                }
                let sentences = active == nil ? 0 : 1
                if let a = active {
                    a.utterance.finish()
                    await a.speaker.value
                    active = nil
                    current.withLock { $0 = nil }
                }
                guard await send(StreamMessages.sessionDone(utterance: index, sentences: sentences)) else { return nil }
                index += 1
            }
        }
    }

    /// What a config needs checked before its first utterance: the model, voice, language and
    /// options (a reference to clone is checked when it is cloned, in its utterance's slot).
    private func check(_ c: SpeechStreamConfig) throws {
        let model = try routes.readyModel()
        guard configuration.acceptedModelIDs.contains(c.request.model) else { throw routes.unknownModel(c.request.model) }
        let (synthesis, reference) = try routes.synthesisRequest(c.request, model: model)
        if reference == nil {
            _ = try model.validateForTextStream(synthesis, options: c.request.generationOptions(),
                                                segmentCharacters: configuration.streaming.maxSegmentCharacters)
        }
        _ = try routes.responseEncoder(c.request, streamFormat: .audio, model: model)
    }

    // MARK: - Speaking

    /// Speaks one utterance: a slot, the voice, then the engine fed the utterance's text as it
    /// arrives; audio.start, the audio and audio.done go to the client. Failures are reported
    /// here, unless the session stopped the utterance (it reports why) or the client left.
    private func speak(_ utterance: StreamUtterance, config: SpeechStreamConfig) async {
        let start = ContinuousClock.now
        var job: SynthesisJob?
        var streamOwnsJob = false
        var counted = false
        var started = false
        var sent = 0
        var frames = 0
        var firstAudio: Double?
        let i = utterance.index
        do {
            let model = try routes.readyModel()
            var (synthesis, reference) = try routes.synthesisRequest(config.request, model: model)
            let admitted: SynthesisJob
            do {
                admitted = try await routes.scheduler.admit(timeout: configuration.timeout)
            } catch let refusal as SchedulerRefusal {
                throw SpeechRoutes.error(for: refusal)
            }
            job = admitted
            utterance.started(admitted)
            if let reference { synthesis.setVoice(try await routes.clone(reference, model: model)) }
            let streaming = routes.streamOptions(for: config.request.format, model: model)
            let validated = try model.validateForTextStream(synthesis, options: config.request.generationOptions(),
                                                            segmentCharacters: streaming.maxSegmentCharacters)
            let input = try model.makeTextInput(for: validated)
            try utterance.attach(input)
            let encoder = try routes.responseEncoder(config.request, streamFormat: .audio, model: model)
            guard let engine = routes.host.engine else { throw SpeechRoutes.modelNotLoaded }
            let remaining = configuration.timeout - (ContinuousClock.now - start).seconds
            let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(max(remaining, 0) * 1e9))) { admitted.stop(.timedOut) }
            let chunks = engine.stream(validated, text: input, streaming: streaming, progress: admitted.progress) {
                timer.cancel()
                admitted.release()
            }
            streamOwnsJob = true
            func startAudio() async throws {
                guard !started else { return }
                started = true
                try await sendOrThrow(StreamMessages.audioStart(utterance: i, format: config.request.format.rawValue,
                                                                sampleRate: model.sampleRate, seed: validated.seed))
            }
            var held = ByteBuffer()
            func deliver(_ bytes: ByteBuffer?) async throws {
                guard var bytes else { return }
                sent += bytes.readableBytes
                if config.streamAudio {
                    try await startAudio()
                    try await write(.binary(bytes))
                } else {
                    held.writeBuffer(&bytes)
                }
            }
            for try await chunk in chunks {
                if firstAudio == nil { firstAudio = chunk.elapsed }
                frames += chunk.frames
                try await deliver(try encoder.encode(chunk.samples))
            }
            if admitted.stopReason != .none { throw CancellationError() }
            try await deliver(try encoder.finish(inputCharacters: utterance.text.count, frames: frames))
            try await startAudio()
            if held.readableBytes > 0 { try await write(.binary(held)) }
            // Counted before audio.done, which a client may answer by reading /metrics or /health.
            let wall = (ContinuousClock.now - start).seconds
            routes.metrics.recordCompleted(firstAudio: firstAudio ?? 0, audio: Double(frames) / 12.5, wall: wall)
            counted = true
            await admitted.settled()
            try await sendOrThrow(StreamMessages.audioDone(utterance: i, text: utterance.text, bytes: sent, frames: frames, failed: false))
            logger.info("speech stream utterance \(i): \(frames) frames in \(String(format: "%.2f", wall)) s, first audio \(String(format: "%.3f", firstAudio ?? 0)) s")
        } catch {
            if job?.stopReason == StopReason.none { job?.stop(.failed) }
            // The stream gives the slot back as its producer exits; before there is one, it is
            // given back here.
            if !streamOwnsJob { job?.release() }
            let reason = job?.stopReason ?? .failed
            if job != nil && !counted { routes.metrics.recordStopped(reason) }
            logger.notice("speech stream utterance \(i) stopped after \(frames) frames (\(reason)): \(error)")
            guard !(error is ClientGoneError), reason != .clientGone else { return }
            // The session reports protocol errors itself; everything else is reported here.
            if !utterance.stoppedBySession {
                let report: APIError = switch reason {
                case .timedOut: APIError(.gatewayTimeout, "the utterance passed the \(Int(configuration.timeout)) s time limit", type: "server_error", code: "timeout")
                case .shuttingDown: SpeechRoutes.error(for: .shuttingDown)
                default: Self.apiError(error)
                }
                guard await send(StreamMessages.error(report, utterance: i, partialAudio: sent > 0)) else { return }
            }
            _ = await send(StreamMessages.audioDone(utterance: i, text: utterance.text, bytes: sent, frames: frames, failed: true))
        }
    }

    // MARK: - Writing

    /// The client stopped reading or left while a message was being written.
    struct ClientGoneError: Error {}

    private func write(_ frame: WebSocketOutboundWriter.OutboundFrame) async throws {
        guard !closed.load(ordering: .acquiring) else { throw ClientGoneError() }
        do {
            try await withDeadline(configuration.writeTimeout, closing: channel) { try await outbound.write(frame) }
        } catch {
            current.withLock { $0 }?.stop(.clientGone)
            throw ClientGoneError()
        }
    }

    private func sendOrThrow(_ event: [String: Any]) async throws {
        try await write(.text(String(decoding: jsonBody(event), as: UTF8.self)))
    }

    /// Sends an event; false when the client is gone.
    private func send(_ event: [String: Any]) async -> Bool {
        do {
            try await sendOrThrow(event)
            return true
        } catch {
            return false
        }
    }

    /// Reports `error` and asks for the connection to close with `code`.
    private func refuse(_ error: APIError, close code: WebSocketErrorCode) async -> Close? {
        guard await send(StreamMessages.error(error)) else { return nil }
        return Close(code: code, reason: error.code ?? "error")
    }

    static func apiError(_ error: any Error) -> APIError {
        switch error {
        case let e as APIError: e
        case let e as SynthesisError: APIError(e)
        case is CancellationError: APIError(.serviceUnavailable, "the utterance was cancelled", type: "server_error", code: "cancelled")
        default: APIError(.internalServerError, "internal error: \(error)", type: "server_error")
        }
    }
}
