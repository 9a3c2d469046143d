// The messages of /v1/audio/speech/stream, as vLLM-Omni defines them.
//
// Client → server (JSON text messages):
//   {"type": "session.config", ...speech request fields}   first; again between utterances
//   {"type": "input.text", "text": "..."}                   a piece of the utterance's text
//   {"type": "input.done"}                                   the utterance's text is complete
//   {"type": "session.close"}                                ends the connection
// Server → client:
//   {"type": "audio.start", ...}, binary audio messages, {"type": "audio.done", ...},
//   {"type": "session.done", ...} after each input.done, and {"type": "error", ...}.
import Foundation
import NIOWebSocket

/// One message from the client, decoded and checked.
enum StreamClientMessage: Sendable {
    case config(Result<SpeechStreamConfig, APIError>)
    case text(String)
    case done
    case close
    /// What the client sent breaks the protocol: the session answers and closes.
    case invalid(StreamProtocolError)
    /// Not from the client: the server is shutting down (the WebSocket layer has sent its close).
    case shutdown
}

/// A protocol error: answered with an `error` event, then the connection is closed with `code`.
struct StreamProtocolError: Error, Sendable {
    var error: APIError
    var code: WebSocketErrorCode

    init(_ message: String, code: String, close: WebSocketErrorCode = .policyViolation) {
        error = APIError.invalid(message, code: code)
        self.code = close
    }

    init(_ error: APIError, close: WebSocketErrorCode = .policyViolation) {
        self.error = error
        code = close
    }
}

/// Limits on what a client may send on one connection.
struct StreamMessageLimits: Sendable {
    /// A session.config message (larger for a Base model: it may carry `ref_audio`).
    var configBytes: Int
    /// Any other message.
    var messageBytes: Int
    /// `input.text` messages in one utterance.
    var pieces: Int
    /// Characters and UTF-8 bytes of one utterance's text, and its tokens.
    var characters: Int
    var bytes: Int
    var tokens: Int

    /// The largest message of any kind (the WebSocket frame limit is at least this).
    var largest: Int { max(configBytes, messageBytes) }
}

enum StreamMessages {
    static let types = ["session.config", "input.text", "input.done", "session.close"]

    /// Decodes one text message. `servedModel` is session.config's default model.
    static func decode(_ data: Data, limits: StreamMessageLimits, servedModel: String) throws(StreamProtocolError) -> StreamClientMessage {
        let json: [String: Any]
        do {
            json = try SpeechRequest.jsonObject(data, what: "the message")
        } catch {
            throw StreamProtocolError("a message is not a JSON object", code: "invalid_json", close: .dataInconsistentWithMessage)
        }
        guard let type = json["type"] as? String else {
            throw StreamProtocolError("a message has no 'type'; expected one of \(types.joined(separator: ", "))", code: "missing_required_parameter")
        }
        let limit = type == "session.config" ? limits.configBytes : limits.messageBytes
        if data.count > limit {
            throw StreamProtocolError(APIError.invalid("a \(type) message is \(data.count) bytes; the limit is \(limit)", code: "message_too_large"),
                                      close: .messageTooLarge)
        }
        switch type {
        case "session.config":
            do {
                return .config(.success(try SpeechStreamConfig.parse(json, servedModel: servedModel)))
            } catch let e as APIError {
                return .config(.failure(e))
            } catch {
                return .config(.failure(APIError.invalid("\(error)")))
            }
        case "input.text":
            guard let text = json["text"] as? String else {
                throw StreamProtocolError(APIError.invalid("input.text needs 'text', a string", param: "text", code: "invalid_type"))
            }
            return .text(text)
        case "input.done": return .done
        case "session.close": return .close
        default:
            throw StreamProtocolError(APIError.invalid("unknown message type '\(type)'; expected one of \(types.joined(separator: ", "))",
                                                       param: "type", code: "unknown_message_type"))
        }
    }

    // MARK: - Server events

    /// An OpenAI-shaped error event; `message` is repeated at the top level, where vLLM-Omni's
    /// clients read it.
    static func error(_ e: APIError, utterance: Int? = nil, partialAudio: Bool = false) -> [String: Any] {
        var inner: [String: Any] = ["message": e.message, "type": e.type]
        inner["param"] = e.param ?? NSNull()
        inner["code"] = e.code ?? NSNull()
        var event: [String: Any] = ["type": "error", "message": e.message, "error": inner]
        if let utterance { event["utterance_index"] = utterance }
        if partialAudio {
            event["partial_audio"] = true
            event["action"] = "discard"
        }
        return event
    }

    /// Before an utterance's first audio. Its text is still arriving, so `sentence_text` is empty;
    /// audio.done carries the whole text.
    static func audioStart(utterance: Int, format: String, sampleRate: Int, seed: UInt64) -> [String: Any] {
        ["type": "audio.start", "utterance_index": utterance, "sentence_index": 0, "sentence_text": "",
         "format": format, "sample_rate": sampleRate, "channels": 1, "seed": seed]
    }

    static func audioDone(utterance: Int, text: String, bytes: Int, frames: Int, failed: Bool) -> [String: Any] {
        ["type": "audio.done", "utterance_index": utterance, "sentence_index": 0, "sentence_text": text,
         "total_bytes": bytes, "frames": frames, "error": failed]
    }

    static func sessionDone(utterance: Int, sentences: Int) -> [String: Any] {
        ["type": "session.done", "utterance_index": utterance, "total_sentences": sentences]
    }
}
