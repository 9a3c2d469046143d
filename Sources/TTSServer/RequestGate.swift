// What is decided from a request's head alone, before any of its body is read: the origin and
// host (so a web page cannot drive a loopback daemon), the API key, and the declared body size.
// The router's middleware and the `Expect: 100-continue` handler ask the same gate, so
// "100 Continue" goes only to a request whose body will be read.
import Foundation
import HTTPTypes
import Hummingbird

struct RequestGate: Sendable {
    let configuration: ServerConfiguration
    /// The loaded model decides whether speech requests may carry reference audio.
    let host: ModelHost

    /// The refusal of a request with this head, or nil to let it through. `authority` is the
    /// Host header (HTTPTypes keeps it apart from the other fields).
    func refusal(method: HTTPRequest.Method, path: String, authority: String?, headers: HTTPFields) -> APIError? {
        if let origin = headers[.origin], !originAllowed(origin) {
            return APIError(.forbidden, "requests from the web origin '\(origin)' are not allowed; start the server with --allow-origin \(origin) to allow them",
                            type: "permission_error", code: "origin_not_allowed")
        }
        if Self.isLoopback(configuration.host), let host = authority, !hostAllowed(host) {
            return APIError(.forbidden, "the Host header '\(host)' does not name this loopback server", type: "permission_error", code: "host_not_allowed")
        }
        if let key = configuration.apiKey, path == "/v1" || path.hasPrefix("/v1/") {
            guard let header = headers[.authorization] else {
                return APIError(.unauthorized, "missing API key: send 'Authorization: Bearer <key>'", type: "authentication_error", code: "invalid_api_key")
            }
            let prefix = "Bearer "
            let given = header.hasPrefix(prefix) ? String(header.dropFirst(prefix.count)) : ""
            guard Self.equal(Array(given.utf8), Array(key.utf8)) else {
                return APIError(.unauthorized, "incorrect API key", type: "authentication_error", code: "invalid_api_key")
            }
        }
        if let declared = headers[.contentLength].flatMap(Int.init) {
            let (limit, what) = bodyLimit(method: method, path: path)
            if declared > limit { return APIError(.contentTooLarge, "\(what) is larger than \(limit) bytes", code: "body_too_large") }
        }
        return nil
    }

    /// The largest body a route reads, and what it is called in errors. Speech requests to a Base
    /// model may carry reference audio (`ref_audio`).
    func bodyLimit(method: HTTPRequest.Method, path: String) -> (Int, String) {
        guard method == .post else { return (configuration.maxBodyBytes, "the request body") }
        switch path {
        case "/v1/audio/voices": return (configuration.maxUploadBytes, "the upload")
        case "/v1/audio/speech" where host.model?.configuration.modelKind == .base:
            return (configuration.speechWithReferenceBytes, "the request body")
        default: return (configuration.maxBodyBytes, "the request body")
        }
    }

    private func originAllowed(_ origin: String) -> Bool {
        let o = origin.lowercased()
        // A browser sends its page's origin (http, https, null); ws:// and wss:// come only from
        // WebSocket clients that are not browsers (swift-websocket's sends its own URL's).
        if o.hasPrefix("ws://") || o.hasPrefix("wss://") { return true }
        return configuration.allowedOrigins.contains("*") || configuration.allowedOrigins.contains { $0.lowercased() == o }
    }

    /// A Host header of a loopback name or address, or the configured host, on any port.
    private func hostAllowed(_ host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("[") {
            name = String(name.dropFirst().prefix { $0 != "]" })
        } else if name.filter({ $0 == ":" }).count == 1, let colon = name.firstIndex(of: ":") {
            name = String(name[..<colon])
        }
        return Self.isLoopback(name) || name == configuration.host.lowercased()
    }

    static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased()
        return h == "localhost" || h.hasSuffix(".localhost") || h == "::1" || h.hasPrefix("127.")
    }

    /// Compares in time independent of where the two differ.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) { diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0) }
        return diff == 0
    }
}

/// Answers the gate's refusal for every route, before the route runs.
struct RequestGateMiddleware<Context: RequestContext>: RouterMiddleware {
    let gate: RequestGate

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let refusal = gate.refusal(method: request.method, path: request.uri.path, authority: request.head.authority, headers: request.headers) {
            throw refusal
        }
        return try await next(request, context)
    }
}
