// `Expect: 100-continue`: clients such as curl send it before a large upload (a voice recording)
// and wait up to a second for "100 Continue" before sending the body. Hummingbird does not answer
// it, so this handler, placed after the HTTP codec, does, but only for a request the gate lets
// through: a refused one (origin, API key, declared size) gets its final answer from the router
// without the client ever sending the body.
import HTTPTypes
import NIOCore
import NIOHTTPTypes

final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    let gate: RequestGate

    init(gate: RequestGate) { self.gate = gate }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let request) = unwrapInboundIn(data),
           request.headerFields[.expect]?.lowercased() == "100-continue" {
            let path = String((request.path ?? "/").prefix { $0 != "?" })
            if gate.refusal(method: request.method, path: path, authority: request.authority, headers: request.headerFields) == nil {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
            }
        }
        context.fireChannelRead(data)
    }
}
