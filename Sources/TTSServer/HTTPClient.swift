// A small streaming HTTP/1.1 client over TCP or a Unix domain socket, for `qwen3-tts client`
// and the tests (Foundation's URLSession on Linux cannot use Unix sockets).
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Where the daemon listens.
public enum ServerAddress: Sendable, Equatable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)

    /// Parses `http://host[:port]` (port 80 by default) or `unix:/path`.
    public init(_ text: String) throws {
        if text.hasPrefix("unix:") {
            self = .unix(path: String(text.dropFirst(5)))
            return
        }
        guard let url = URL(string: text), url.scheme?.lowercased() == "http", let host = url.host, !host.isEmpty else {
            throw ClientError.badAddress(text)
        }
        if !url.path.isEmpty && url.path != "/" { throw ClientError.badAddress(text) }
        self = .tcp(host: host, port: url.port ?? 80)
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): "http://\(host):\(port)"
        case .unix(let path): "unix:\(path)"
        }
    }

    var hostHeader: String {
        switch self {
        case .tcp(let host, let port): "\(host):\(port)"
        case .unix: "localhost"
        }
    }
}

public enum ClientError: Error, Sendable, CustomStringConvertible {
    case badAddress(String)
    case cannotConnect(ServerAddress, String)
    case incompleteResponse
    /// An answer other than 2xx, with the server's message when it sent an OpenAI-style error.
    case server(status: Int, message: String)
    /// An `error` event on the stream endpoint.
    case stream(message: String)

    public var description: String {
        switch self {
        case .badAddress(let a): "bad server address \"\(a)\": use http://HOST:PORT or unix:/path/to/socket"
        case .cannotConnect(let a, let why): "cannot connect to \(a): \(why)"
        case .incompleteResponse: "the server closed the connection before the response was complete"
        case .server(let status, let message): "the server answered \(status): \(message)"
        case .stream(let message): "the server reported: \(message)"
        }
    }
}

/// A response head.
public struct HTTPResponseHead: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

public enum HTTPClient {
    /// Sends one request (`Connection: close`) and hands the response body to `onBody` piece by
    /// piece as it arrives. Returns the head. Throws `ClientError.incompleteResponse` if the
    /// connection breaks or ends before the body does.
    @discardableResult
    public static func send(_ method: String, _ path: String, to address: ServerAddress,
                            headers: [(String, String)] = [], body: Data? = nil,
                            onHead: (HTTPResponseHead) throws -> Void = { _ in },
                            onBody: (ByteBuffer) async throws -> Void) async throws -> HTTPResponseHead
    {
        let channel = try await connect(address)
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
            head.headers.add(name: "Host", value: address.hostHeader)
            head.headers.add(name: "Connection", value: "close")
            for (n, v) in headers { head.headers.add(name: n, value: v) }
            if let body { head.headers.add(name: "Content-Length", value: String(body.count)) }
            // One write and flush for the whole request. A server may answer before it has read
            // the body (401, 413, 415) and close: the write then fails, but its answer is already
            // on the way, so it is read and returned rather than the write error.
            var request: [HTTPPart<HTTPRequestHead, IOData>] = [.head(head)]
            if let body { request.append(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
            request.append(.end(nil))
            var writeError: (any Error)?
            do {
                try await outbound.write(contentsOf: request)
            } catch {
                writeError = error
            }
            var response: HTTPResponseHead?
            var parts = inbound.makeAsyncIterator()
            while true {
                // A connection that breaks or ends mid-body (a server that gave up) is reported as
                // an incomplete response; errors from the callbacks propagate as they are.
                let next: HTTPClientResponsePart?
                do {
                    next = try await parts.next()
                } catch {
                    next = nil
                    if response != nil { throw ClientError.incompleteResponse }
                }
                guard let part = next else { break }
                switch part {
                case .head(let h):
                    let r = HTTPResponseHead(status: Int(h.status.code), headers: h.headers.map { ($0.name, $0.value) })
                    response = r
                    try onHead(r)
                case .body(let buffer):
                    try await onBody(buffer)
                case .end:
                    guard let response else { throw ClientError.incompleteResponse }
                    return response
                }
            }
            if response == nil, let writeError { throw ClientError.cannotConnect(address, "the request could not be sent: \(writeError)") }
            throw ClientError.incompleteResponse
        }
    }

    /// Sends a request and collects the whole body.
    public static func fetch(_ method: String, _ path: String, to address: ServerAddress,
                             headers: [(String, String)] = [], body: Data? = nil) async throws -> (head: HTTPResponseHead, body: Data)
    {
        var data = Data()
        let head = try await send(method, path, to: address, headers: headers, body: body) { buffer in
            data.append(contentsOf: buffer.readableBytesView)
        }
        return (head, data)
    }

    /// The message of an OpenAI-style error body, or the body as text.
    public static func errorMessage(_ body: Data) -> String {
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
           let error = object["error"] as? [String: Any], let message = error["message"] as? String {
            return message
        }
        return String(decoding: body, as: UTF8.self)
    }

    private typealias Connection = NIOAsyncChannel<HTTPClientResponsePart, HTTPPart<HTTPRequestHead, IOData>>

    private static func connect(_ address: ServerAddress) async throws -> Connection {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(.seconds(10))
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Connection> = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                return try Connection(wrappingChannelSynchronously: channel)
            }
        }
        do {
            switch address {
            case .tcp(let host, let port):
                return try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
            case .unix(let path):
                return try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: initializer)
            }
        } catch {
            throw ClientError.cannotConnect(address, "\(error)")
        }
    }
}
