// The body of POST /v1/audio/speech: OpenAI's fields plus this engine's documented extensions.
import Foundation
import Qwen3TTS

/// Audio encodings the server can stream.
public enum AudioFormat: String, Sendable, CaseIterable {
    /// RIFF/WAVE, 16-bit PCM, mono, with "unknown length" sizes (the data is streamed).
    case wav
    /// Raw 16-bit little-endian PCM, mono, at the model's sample rate (24 kHz), as OpenAI's "pcm".
    case pcm

    var contentType: String { self == .wav ? "audio/wav" : "audio/pcm" }
}

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

    /// Every field the endpoint accepts; anything else is refused so that a misspelt option
    /// ("langauge") is reported instead of silently ignored.
    static let fields: Set<String> = [
        "model", "input", "voice", "response_format", "speed", "instructions", "stream_format",
        "language", "seed", "temperature", "top_k", "top_p", "repetition_penalty", "max_frames",
    ]

    /// The request field behind a GenerationOptions option name (for error reports).
    static func field(forOption name: String) -> String? {
        switch name {
        case "temperature": "temperature"
        case "top-k": "top_k"
        case "top-p": "top_p"
        case "repetition penalty": "repetition_penalty"
        case "max frames": "max_frames"
        default: nil
        }
    }

    /// Parses and range-checks a JSON body. `input` is bounded in characters and UTF-8 bytes
    /// (tokens are counted later, with the model's tokenizer), `instructions` in bytes.
    public static func parse(_ body: Data, maxInputCharacters: Int, maxInputBytes: Int = .max) throws -> SpeechRequest {
        guard let object = try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) else {
            throw APIError.invalid("the request body is not valid JSON", code: "invalid_json")
        }
        guard let json = object as? [String: Any] else {
            throw APIError.invalid("the request body must be a JSON object", code: "invalid_json")
        }
        if let unknown = json.keys.filter({ !fields.contains($0) }).sorted().first {
            throw APIError.invalid("unrecognized field '\(unknown)'; accepted: \(fields.sorted().joined(separator: ", "))",
                                   param: unknown, code: "unknown_parameter")
        }
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
        r.voice = try values.string("voice")
        if let f = try values.string("response_format") {
            guard let format = AudioFormat(rawValue: f.lowercased()) else {
                throw APIError.invalid("response_format '\(f)' is not supported; supported: \(AudioFormat.allCases.map(\.rawValue).joined(separator: ", "))",
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
            guard speed >= 0.25, speed <= 4 else {
                throw APIError.invalid("'speed' must be between 0.25 and 4.0", param: "speed", code: "invalid_value")
            }
            guard speed == 1 else {
                throw APIError.invalid("'speed' other than 1.0 is not supported: the model has no rate control", param: "speed", code: "unsupported_value")
            }
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
        do {
            try r.generationOptions().validate()
        } catch let e as SynthesisError {
            throw APIError(e)
        }
        return r
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
private struct JSONFields {
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

    func integer(_ key: String) throws -> Int? {
        guard let d = try number(key) else { return nil }
        guard d == d.rounded(), abs(d) < 9.2e18, let n = json[key] as? NSNumber else {
            throw APIError.invalid("'\(key)' must be an integer", param: key, code: "invalid_type")
        }
        return Int(n.int64Value)
    }
}
