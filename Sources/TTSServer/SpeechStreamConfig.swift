// The `session.config` message of /v1/audio/speech/stream: vLLM-Omni's streaming session fields,
// which are the speech request's fields without `input`.
import Foundation
import Qwen3TTS

/// How a WebSocket session speaks: a speech request whose text arrives in `input.text` messages,
/// and whether each utterance's audio is sent as it is made (`stream_audio`, the default) or once,
/// when the utterance ends.
struct SpeechStreamConfig: Sendable {
    var request: SpeechRequest
    var streamAudio = true

    /// The speech request's fields (but `input`, and `stream_format`: audio goes in binary
    /// messages), and vLLM-Omni's session fields.
    static let fields = SpeechRequest.fields.subtracting(["input", "stream_format"])
        .union(["type", "stream_audio", "split_granularity", "word_timestamps"])

    /// vLLM-Omni's ways of cutting the text into separate requests. None applies here: each
    /// utterance is spoken as one request while its text arrives, so the value is accepted and
    /// changes nothing.
    static let granularities: Set<String> = ["none", "sentence", "clause"]

    /// Parses a session.config message. `model` defaults to the served model, as in vLLM-Omni.
    static func parse(_ json: [String: Any], servedModel: String) throws -> SpeechStreamConfig {
        try SpeechRequest.refuseUnknownFields(json, accepted: fields)
        let values = JSONFields(json)
        var request = SpeechRequest(model: try values.string("model") ?? servedModel, input: "")
        try request.readOptions(values)
        if request.textLayout == .nonStreaming {
            throw APIError.invalid("'non_streaming_mode': true needs the whole text before the first frame; text sent in pieces is spoken in the streaming layout (omit the field or send false)",
                                   param: "non_streaming_mode", code: "unsupported_value")
        }
        request.textLayout = .streaming
        if request.referenceAudio != nil, !request.xVectorOnly {
            throw APIError.invalid("text sent in pieces cannot continue a reference in context yet: send 'x_vector_only_mode': true with 'ref_audio', or use a voice made with xvector_only",
                                   param: "x_vector_only_mode", code: "unsupported_value")
        }
        if let g = try values.string("split_granularity"), !granularities.contains(g.lowercased()) {
            throw APIError.invalid("split_granularity '\(g)' is not one of \(granularities.sorted().joined(separator: ", "))",
                                   param: "split_granularity", code: "invalid_value")
        }
        if try values.bool("word_timestamps") == true {
            throw APIError.invalid("word timestamps are not supported by this server", param: "word_timestamps", code: "unsupported_value")
        }
        var config = SpeechStreamConfig(request: request)
        config.streamAudio = try values.bool("stream_audio") ?? true
        return config
    }
}
