// Errors as OpenAI's API reports them: {"error": {"message", "type", "param", "code"}}.
import Foundation
import Hummingbird
import Qwen3TTS

/// An error answered to the client with its HTTP status and an OpenAI-style JSON body.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    /// OpenAI's error types: invalid_request_error, authentication_error, rate_limit_error, ...
    public var type: String
    /// The request field at fault, when there is one.
    public var param: String?
    public var code: String?

    public init(_ status: HTTPResponse.Status, _ message: String, type: String = "invalid_request_error",
                param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    public var description: String { "\(status.code) \(message)" }

    static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(.badRequest, message, param: param, code: code)
    }

    /// The JSON body.
    var body: Data {
        var error: [String: Any] = ["message": message, "type": type]
        error["param"] = param ?? NSNull()
        error["code"] = code ?? NSNull()
        return jsonBody(["error": error])
    }

    var response: Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if status == .tooManyRequests || status == .serviceUnavailable { headers[.retryAfter] = "1" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// A request the model refuses, with the request field it concerns.
    init(_ error: SynthesisError) {
        let param: String?
        switch error {
        case .emptyText: param = "input"
        case .tooLong(let what, _, _, _): param = what == "instruction" ? "instructions" : what == "text" ? "input" : nil
        case .unknownLanguage: param = "language"
        case .unknownSpeaker, .speakerNotSupported, .voiceRequired: param = "voice"
        case .instructNotSupported: param = "instructions"
        case .invalidOption(let name, _): param = SpeechRequest.field(forOption: name)
        case .invalidCodes: param = nil
        }
        let code = switch error {
        case .unknownSpeaker: "voice_not_found"
        case .tooLong: "string_above_max_length"
        default: "invalid_value"
        }
        self.init(.badRequest, error.description, param: param, code: code)
    }
}

/// A JSON body as the server writes them all: sorted keys, slashes unescaped. The objects passed
/// are built from strings, numbers, arrays and dictionaries, which always serialise.
func jsonBody(_ object: Any) -> Data {
    (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
}

/// Turns every error a route throws into an OpenAI-style JSON answer, so that no client ever sees
/// an HTML page or an empty 500.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as APIError {
            return e.response
        } catch let e as SynthesisError {
            return APIError(e).response
        } catch let e as HTTPError {
            let message: String
            switch e.status {
            case .notFound: message = "no route for \(request.method) \(request.uri.path)"
            case .contentTooLarge: message = "the request body is too large"
            case .methodNotAllowed: message = "\(request.method) is not allowed on \(request.uri.path)"
            default: message = e.body ?? e.status.reasonPhrase
            }
            let type = e.status.code >= 500 ? "server_error" : "invalid_request_error"
            return APIError(e.status, message, type: type).response
        } catch is CancellationError {
            return APIError(.serviceUnavailable, "the request was cancelled", type: "server_error", code: "cancelled").response
        } catch {
            context.logger.error("request failed: \(error)")
            return APIError(.internalServerError, "internal error: \(error)", type: "server_error").response
        }
    }
}
