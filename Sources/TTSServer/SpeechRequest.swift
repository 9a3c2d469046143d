// The body of POST /v1/audio/speech: OpenAI's fields plus this engine's documented extensions.
import Foundation
import Qwen3TTS
import TTSAudio

/// How the audio is carried: raw bytes, or server-sent events with base64 deltas.
public enum StreamFormat: String, Sendable, CaseIterable {
    case audio
    case sse
}

/// A validated speech request.
public struct SpeechRequest: Sendable, Equatable {
    public var model: String
    public var input: String
    public var voice: String?
    public var format: AudioFormat = .wav
    public var streamFormat: StreamFormat = .audio
    public var instructions: String?
    public var language = "auto"
    public var seed: UInt64?
    public var temperature: Float?
    public var topK: Int?
    public var topP: Float?
    public var repetitionPenalty: Float?
    public var maxFrames: Int?
    /// Playback speed, 0.25...4 (a pitch-keeping time stretch of the generated audio).
    public var speed = 1.0
    /// vLLM-Omni's task type, checked against the loaded model.
    public var taskType: String?
    /// Per-request cloning (Base): reference audio (WAV bytes) and, for in-context cloning, its
    /// transcript.
    public var referenceAudio: [UInt8]?
    public var referenceText: String?
    public var xVectorOnly = false
    public var textLayout: TextLayout?

    /// Every field the endpoint accepts; anything else is refused so that a misspelt option
    /// ("langauge") is reported instead of silently ignored.
    static let fields: Set<String> = [
        "model", "input", "voice", "response_format", "speed", "instructions", "stream_format",
        "language", "seed", "temperature", "top_k", "top_p", "repetition_penalty", "max_frames",
        // vLLM-Omni's Qwen3-TTS fields.
        "task_type", "ref_audio", "ref_text", "x_vector_only_mode", "max_new_tokens", "non_streaming_mode",
    ]

    /// vLLM-Omni's task types and the model kinds they name.
    static let taskTypes: [String: ModelKind] = ["customvoice": .customVoice, "voicedesign": .voiceDesign, "base": .base]

    /// The request field behind a GenerationOptions option name (for error reports).
    static func field(forOption name: String) -> String? {
        switch name {
        case "temperature": "temperature"
        case "top-k": "top_k"
        case "top-p": "top_p"
        case "repetition penalty": "repetition_penalty"
        case "max frames": "max_frames"
        case "voice", "voice blend": "voice"
        case "reference", "reference text": "ref_text"
        default: nil
        }
    }

    /// Parses and range-checks a JSON body. `input` is bounded in characters and UTF-8 bytes
    /// (tokens are counted later, with the model's tokenizer), `instructions` in bytes.
    public static func parse(_ body: Data, maxInputCharacters: Int, maxInputBytes: Int = .max) throws -> SpeechRequest {
        let json = try jsonObject(body, what: "the request body")
        try refuseUnknownFields(json, accepted: fields)
        let values = JSONFields(json)
        guard let model = try values.string("model") else { throw APIError.invalid("'model' is required", param: "model", code: "missing_required_parameter") }
        guard let input = try values.string("input") else { throw APIError.invalid("'input' is required", param: "input", code: "missing_required_parameter") }
        if input.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw APIError.invalid("'input' is empty", param: "input", code: "invalid_value")
        }
        // Bytes first: counting characters walks grapheme clusters, bytes are known.
        if input.utf8.count > maxInputBytes {
            throw APIError.invalid("'input' is \(input.utf8.count) bytes long; the limit is \(maxInputBytes) bytes",
                                   param: "input", code: "string_above_max_length")
        }
        if input.count > maxInputCharacters {
            throw APIError.invalid("'input' is \(input.count) characters long; the limit is \(maxInputCharacters)",
                                   param: "input", code: "string_above_max_length")
        }
        var r = SpeechRequest(model: model, input: input)
        try r.readOptions(values)
        return r
    }

    /// A JSON object, or an `invalid_json` error naming `what` it was.
    static func jsonObject(_ data: Data, what: String) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            throw APIError.invalid("\(what) is not valid JSON", code: "invalid_json")
        }
        guard let json = object as? [String: Any] else { throw APIError.invalid("\(what) must be a JSON object", code: "invalid_json") }
        return json
    }

    /// Refuses a field outside `accepted`, so that a misspelt option is reported.
    static func refuseUnknownFields(_ json: [String: Any], accepted: Set<String>) throws {
        if let unknown = json.keys.filter({ !accepted.contains($0) }).sorted().first {
            throw APIError.invalid("unrecognized field '\(unknown)'; accepted: \(accepted.sorted().joined(separator: ", "))",
                                   param: unknown, code: "unknown_parameter")
        }
    }

    /// Every field but `model` and `input`, range-checked.
    mutating func readOptions(_ values: JSONFields) throws {
        var r = self
        r.voice = try values.string("voice")
        if let f = try values.string("response_format") {
            guard let format = AudioFormat(rawValue: f.lowercased()) else {
                throw APIError.invalid("response_format '\(f)' is not supported; supported: \(AudioFormat.allCases.map(\.rawValue).joined(separator: ", "))",
                                       param: "response_format", code: "unsupported_value")
            }
            if let why = format.unavailableReason {
                throw APIError.invalid("response_format '\(format.rawValue)' is not available on this server: \(why)",
                                       param: "response_format", code: "unsupported_value")
            }
            r.format = format
        }
        if let f = try values.string("stream_format") {
            guard let format = StreamFormat(rawValue: f.lowercased()) else {
                throw APIError.invalid("stream_format '\(f)' is not supported; supported: \(StreamFormat.allCases.map(\.rawValue).joined(separator: ", "))",
                                       param: "stream_format", code: "unsupported_value")
            }
            r.streamFormat = format
        }
        if let speed = try values.number("speed") {
            guard TimeStretcher.range.contains(speed) else {
                throw APIError.invalid("'speed' must be between 0.25 and 4.0", param: "speed", code: "invalid_value")
            }
            r.speed = speed
        }
        r.instructions = try values.string("instructions")
        if let i = r.instructions, i.utf8.count > TextLimits.maximumInstructBytes {
            throw APIError.invalid("'instructions' is \(i.utf8.count) bytes long; the limit is \(TextLimits.maximumInstructBytes) bytes",
                                   param: "instructions", code: "string_above_max_length")
        }
        if let language = try values.string("language") { r.language = language }
        if let seed = try values.integer("seed") {
            guard seed >= 0 else { throw APIError.invalid("'seed' must be a non-negative integer", param: "seed", code: "invalid_value") }
            r.seed = UInt64(seed)
        }
        r.temperature = try values.number("temperature").map(Float.init)
        r.topK = try values.integer("top_k")
        r.topP = try values.number("top_p").map(Float.init)
        r.repetitionPenalty = try values.number("repetition_penalty").map(Float.init)
        r.maxFrames = try values.integer("max_frames")
        if let tokens = try values.integer("max_new_tokens") {
            // One talker token per frame: vLLM-Omni's name for the same limit.
            if let frames = r.maxFrames, frames != tokens {
                throw APIError.invalid("'max_new_tokens' (\(tokens)) and 'max_frames' (\(frames)) disagree; give one", param: "max_new_tokens", code: "invalid_value")
            }
            r.maxFrames = tokens
        }
        if let task = try values.string("task_type") {
            guard Self.taskTypes[task.lowercased()] != nil else {
                throw APIError.invalid("task_type '\(task)' is not one of CustomVoice, VoiceDesign, Base", param: "task_type", code: "invalid_value")
            }
            r.taskType = task
        }
        if let audio = try values.string("ref_audio") { r.referenceAudio = try Self.referenceAudio(audio) }
        r.referenceText = try values.string("ref_text")
        if let t = r.referenceText, t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { r.referenceText = nil }
        r.xVectorOnly = try values.bool("x_vector_only_mode") ?? false
        if r.referenceAudio == nil && (r.referenceText != nil || r.xVectorOnly) {
            throw APIError.invalid("'ref_text' and 'x_vector_only_mode' describe 'ref_audio', which is missing", param: "ref_audio", code: "missing_required_parameter")
        }
        if let nonStreaming = try values.bool("non_streaming_mode") { r.textLayout = nonStreaming ? .nonStreaming : .streaming }
        do {
            try r.generationOptions().validate()
        } catch let e as SynthesisError {
            throw APIError(e)
        }
        self = r
    }

    /// The bytes of `ref_audio`: base64, or a data: URI with base64 content. URLs are refused:
    /// the server fetches nothing on a client's behalf.
    static func referenceAudio(_ text: String) throws -> [UInt8] {
        var payload = Substring(text)
        if payload.hasPrefix("data:") {
            guard let comma = payload.firstIndex(of: ","), payload[..<comma].hasSuffix(";base64") else {
                throw APIError.invalid("'ref_audio' as a data: URI must be base64 (data:audio/wav;base64,...)", param: "ref_audio", code: "invalid_value")
            }
            payload = payload[payload.index(after: comma)...]
        } else if let scheme = ["http://", "https://", "file://", "ftp://"].first(where: { text.lowercased().hasPrefix($0) }) {
            throw APIError.invalid("'ref_audio' is a \(scheme) URL; this server fetches nothing: send the audio itself, base64 or as a data: URI",
                                   param: "ref_audio", code: "invalid_value")
        }
        let compact = payload.filter { !$0.isWhitespace }
        guard !compact.isEmpty, let bytes = Data(base64Encoded: String(compact)) else {
            throw APIError.invalid("'ref_audio' is not valid base64", param: "ref_audio", code: "invalid_value")
        }
        return [UInt8](bytes)
    }

    /// Sampling settings for the engine (unset: the model's generation_config.json).
    func generationOptions() -> GenerationOptions {
        var o = GenerationOptions()
        o.seed = seed
        o.temperature = temperature
        o.topK = topK
        o.topP = topP
        o.repetitionPenalty = repetitionPenalty
        o.maxFrames = maxFrames
        return o
    }
}

/// Typed access to a decoded JSON object, with errors that name the field. JSON null counts as
/// absent, as in OpenAI's API.
struct JSONFields {
    let json: [String: Any]
    init(_ json: [String: Any]) { self.json = json }

    private func value(_ key: String) -> Any? {
        guard let v = json[key], !(v is NSNull) else { return nil }
        return v
    }

    /// JSON true/false arrive as NSNumber too; their type code is "c" (no JSON number decodes as
    /// an 8-bit integer).
    private func isBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

    func string(_ key: String) throws -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v as? String else { throw APIError.invalid("'\(key)' must be a string", param: key, code: "invalid_type") }
        return s
    }

    func number(_ key: String) throws -> Double? {
        guard let v = value(key) else { return nil }
        guard let n = v as? NSNumber, !isBool(n), n.doubleValue.isFinite else {
            throw APIError.invalid("'\(key)' must be a number", param: key, code: "invalid_type")
        }
        return n.doubleValue
    }

    func bool(_ key: String) throws -> Bool? {
        guard let v = value(key) else { return nil }
        guard let n = v as? NSNumber, isBool(n) else { throw APIError.invalid("'\(key)' must be true or false", param: key, code: "invalid_type") }
        return n.boolValue
    }

    func integer(_ key: String) throws -> Int? {
        guard let d = try number(key) else { return nil }
        guard d == d.rounded(), abs(d) < 9.2e18, let n = json[key] as? NSNumber else {
            throw APIError.invalid("'\(key)' must be an integer", param: key, code: "invalid_type")
        }
        return Int(n.int64Value)
    }
}
