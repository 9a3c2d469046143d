// `Expect: 100-continue`: clients such as curl send it before a large upload (a voice recording)
// and wait up to a second for "100 Continue" before sending the body. Hummingbird does not answer
// it, so this handler, placed after the HTTP codec, does.
import HTTPTypes
import NIOCore
import NIOHTTPTypes

final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let request) = unwrapInboundIn(data),
           request.headerFields[.expect]?.lowercased() == "100-continue" {
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponse(status: .continue))), promise: nil)
        }
        context.fireChannelRead(data)
    }
}
