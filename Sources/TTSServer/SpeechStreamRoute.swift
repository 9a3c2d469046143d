// GET /v1/audio/speech/stream as a WebSocket (issue 19), and the connection setup that offers
// the upgrade without giving up the HTTP connection limits.
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Qwen3TTS

/// The request context of a WebSocket upgrade: the connection's channel, for its timeouts.
struct SpeechSocketContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<SpeechSocketContext>
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        channel = source.channel
    }
}

extension SpeechRoutes {
    static let streamPath = "/v1/audio/speech/stream"

    /// The routes that upgrade to a WebSocket. Every upgrade is accepted; a refused client (API
    /// key, origin, model still loading) learns why in an `error` event before the close, which
    /// a failed upgrade (a bare 400) could not tell it.
    func webSocketRouter() -> Router<SpeechSocketContext> {
        let router = Router(context: SpeechSocketContext.self)
        router.ws(RouterPath(stringLiteral: Self.streamPath)) { inbound, outbound, context in
            await serveStream(inbound: inbound, outbound: outbound, request: context.request,
                              channel: context.requestContext.channel, logger: context.logger)
        }
        return router
    }

    /// The limits on what a client of the stream endpoint sends, for the loaded model.
    func streamLimits(modelKind: ModelKind?) -> StreamMessageLimits {
        StreamMessageLimits(configBytes: modelKind == .base ? Self.streamReferenceBytes(configuration) : configuration.maxBodyBytes,
                            messageBytes: configuration.maxBodyBytes,
                            pieces: configuration.maxInputCharacters,
                            characters: configuration.maxInputCharacters, bytes: configuration.inputByteLimit,
                            tokens: configuration.maxInputTokens)
    }

    /// A session.config carrying `ref_audio` (Base models): at most 4 MiB, about 65 s of 16-bit
    /// audio in base64. A WebSocket message is held whole before it is read, on every connection
    /// at once, so it gets no more than this; longer references are uploaded once as voices.
    static func streamReferenceBytes(_ c: ServerConfiguration) -> Int { max(c.maxBodyBytes, min(c.speechWithReferenceBytes, 4 << 20)) }

    /// The largest WebSocket frame a client may send (the messages' limit, whatever the model).
    static func streamFrameBytes(_ c: ServerConfiguration) -> Int { streamReferenceBytes(c) }

    private func serveStream(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, request: Request,
                             channel: any Channel, logger: Logger) async {
        let gate = RequestGate(configuration: configuration, host: host)
        var refusal = gate.refusal(method: .get, path: request.uri.path, authority: request.head.authority, headers: request.headers)
        if refusal == nil, host.model == nil { refusal = Self.modelLoading }
        if let refusal {
            let event = String(decoding: jsonBody(StreamMessages.error(refusal)), as: UTF8.self)
            try? await withDeadline(configuration.writeTimeout, closing: channel) {
                try await outbound.write(.text(event))
                try await outbound.close(.policyViolation, reason: refusal.code ?? "refused")
            }
            return
        }
        let session = SpeechStreamSession(routes: self, outbound: outbound, channel: channel, logger: logger,
                                          limits: streamLimits(modelKind: host.model?.configuration.modelKind))
        await session.run(inbound)
    }
}

/// The HTTP/1 connection with the WebSocket upgrade, plus a deadline for the first request's
/// head: until the upgrade is decided the upgrade pipeline has no idle timeout, so without this a
/// connection that sends nothing, or its headers a byte at a time, would be held for ever.
struct UpgradableHTTPChannel: ServerChildChannel {
    let inner: HTTP1WebSocketUpgradeChannel
    let headTimeout: Double

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<HTTP1WebSocketUpgradeChannel.Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(HeadDeadlineHandler(seconds: headTimeout), position: .first)
        }.flatMap { inner.setup(channel: channel, logger: logger) }
    }

    func handle(value: HTTP1WebSocketUpgradeChannel.Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// Closes the connection unless the end of the first request's head ("\r\n\r\n") arrives within
/// the deadline, then steps out of the pipeline (later requests have the HTTP idle timeout).
final class HeadDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let seconds: Double
    private var timer: Scheduled<Void>?
    /// The last three bytes seen, to find the blank line across reads.
    private var tail: [UInt8] = []
    private var done = false

    init(seconds: Double) { self.seconds = seconds }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        // Input first: the pending upgrade then ends as a client that left (the full close alone
        // is logged as an error by the upgrade handler).
        timer = context.eventLoop.scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) {
            channel.close(mode: .input).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) { timer?.cancel() }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !done {
            let window = tail + Array(unwrapInboundIn(data).readableBytesView)
            if window.firstRange(of: [13, 10, 13, 10]) != nil {
                done = true
                timer?.cancel()
            } else {
                tail = Array(window.suffix(3))
            }
        }
        context.fireChannelRead(data)
        if done { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
    }
}
