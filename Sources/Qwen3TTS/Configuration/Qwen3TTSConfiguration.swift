// config.json of a Qwen3-TTS-12Hz model directory (Qwen3TTSConfig in the official code).
import Foundation

/// The model variant, from `tts_model_type`.
public enum ModelKind: String, Codable, Sendable {
    case base
    case customVoice = "custom_voice"
    case voiceDesign = "voice_design"
}

public struct Qwen3TTSConfiguration: Codable, Sendable, Equatable {
    public var modelKind: ModelKind
    public var modelSize: String
    public var tokenizerType: String
    public var imStartTokenId: Int
    public var imEndTokenId: Int
    public var assistantTokenId: Int
    public var ttsPadTokenId: Int
    public var ttsBosTokenId: Int
    public var ttsEosTokenId: Int
    public var talker: TalkerConfiguration
    /// Base models only.
    public var speakerEncoder: SpeakerEncoderConfiguration?

    enum CodingKeys: String, CodingKey {
        case modelKind = "tts_model_type", modelSize = "tts_model_size", tokenizerType = "tokenizer_type"
        case imStartTokenId = "im_start_token_id", imEndTokenId = "im_end_token_id"
        case assistantTokenId = "assistant_token_id", ttsPadTokenId = "tts_pad_token_id"
        case ttsBosTokenId = "tts_bos_token_id", ttsEosTokenId = "tts_eos_token_id"
        case talker = "talker_config"
        case speakerEncoder = "speaker_encoder_config"
    }

    /// Whether instruct text is used (VoiceDesign, and CustomVoice except the 0.6B size, whose
    /// official wrapper drops instructions).
    public var supportsInstruct: Bool {
        switch modelKind {
        case .voiceDesign: return true
        case .customVoice: return modelSize != "0b6"
        case .base: return false
        }
    }

    /// Languages accepted by name: "auto" plus every non-dialect entry of codec_language_id.
    public var languages: [String] {
        ["auto"] + talker.codecLanguageId.keys.filter { !$0.contains("dialect") }.sorted()
    }

    public var speakers: [String] { talker.speakerIds.keys.sorted() }

    func validate(path: String) throws {
        guard tokenizerType == "qwen3_tts_tokenizer_12hz" else {
            throw ConfigurationError.invalid(path: path, key: "tokenizer_type",
                                             reason: "is \(tokenizerType); only the 12 Hz speech tokenizer is supported")
        }
        for (key, id) in [("tts_pad_token_id", ttsPadTokenId), ("tts_bos_token_id", ttsBosTokenId), ("tts_eos_token_id", ttsEosTokenId)] {
            guard id >= 0 && id < talker.textVocabSize else {
                throw ConfigurationError.invalid(path: path, key: key, reason: "= \(id) is outside the text vocabulary 0..<\(talker.textVocabSize)")
            }
        }
        try talker.validate(path: path)
    }
}

/// generation_config.json: the sampling defaults a model ships with.
public struct GenerationDefaults: Codable, Sendable, Equatable {
    public var doSample: Bool = true
    public var temperature: Float = 0.9
    public var topK: Int = 50
    public var topP: Float = 1.0
    public var repetitionPenalty: Float = 1.05
    public var subtalkerDoSample: Bool = true
    public var subtalkerTemperature: Float = 0.9
    public var subtalkerTopK: Int = 50
    public var subtalkerTopP: Float = 1.0
    public var maxNewTokens: Int = 2048

    enum CodingKeys: String, CodingKey {
        case doSample = "do_sample", temperature, topK = "top_k", topP = "top_p"
        case repetitionPenalty = "repetition_penalty", subtalkerDoSample = "subtalker_dosample"
        case subtalkerTemperature = "subtalker_temperature", subtalkerTopK = "subtalker_top_k"
        case subtalkerTopP = "subtalker_top_p", maxNewTokens = "max_new_tokens"
    }

    public init() {}

    /// Missing keys keep the official wrapper's hard defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = GenerationDefaults()
        doSample = try c.decodeIfPresent(Bool.self, forKey: .doSample) ?? d.doSample
        temperature = try c.decodeIfPresent(Float.self, forKey: .temperature) ?? d.temperature
        topK = try c.decodeIfPresent(Int.self, forKey: .topK) ?? d.topK
        topP = try c.decodeIfPresent(Float.self, forKey: .topP) ?? d.topP
        repetitionPenalty = try c.decodeIfPresent(Float.self, forKey: .repetitionPenalty) ?? d.repetitionPenalty
        subtalkerDoSample = try c.decodeIfPresent(Bool.self, forKey: .subtalkerDoSample) ?? d.subtalkerDoSample
        subtalkerTemperature = try c.decodeIfPresent(Float.self, forKey: .subtalkerTemperature) ?? d.subtalkerTemperature
        subtalkerTopK = try c.decodeIfPresent(Int.self, forKey: .subtalkerTopK) ?? d.subtalkerTopK
        subtalkerTopP = try c.decodeIfPresent(Float.self, forKey: .subtalkerTopP) ?? d.subtalkerTopP
        maxNewTokens = try c.decodeIfPresent(Int.self, forKey: .maxNewTokens) ?? d.maxNewTokens
        // The frame cap of every request comes from here: a file must not lift it past what a
        // session can hold, nor make sampling divide by zero.
        func check(_ ok: Bool, _ key: CodingKeys, _ why: String) throws {
            if !ok { throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: why) }
        }
        try check((2...Self.maximumNewTokens).contains(maxNewTokens), .maxNewTokens, "must be in 2...\(Self.maximumNewTokens)")
        try check(temperature > 0 && temperature.isFinite, .temperature, "must be a positive number")
        try check(subtalkerTemperature > 0 && subtalkerTemperature.isFinite, .subtalkerTemperature, "must be a positive number")
        try check(topK >= 0, .topK, "must be 0 or more")
        try check(subtalkerTopK >= 0, .subtalkerTopK, "must be 0 or more")
        try check(topP > 0 && topP <= 1, .topP, "must be in (0, 1]")
        try check(subtalkerTopP > 0 && subtalkerTopP <= 1, .subtalkerTopP, "must be in (0, 1]")
        try check(repetitionPenalty > 0 && repetitionPenalty.isFinite, .repetitionPenalty, "must be a positive number")
    }

    /// The highest max_new_tokens a generation_config.json may set (8192 ships: 655 s of audio).
    public static let maximumNewTokens = 65_536
}

enum JSONFile {
    static func decode<T: Decodable>(_ type: T.Type, path: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else { throw ConfigurationError.missingFile(path: path) }
        return try decode(type, data: data, source: path)
    }

    /// `source` names the data in error messages (a path, or a GGUF metadata key).
    static func decode<T: Decodable>(_ type: T.Type, data: Data, source path: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            let where_ = (context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".")
            throw ConfigurationError.malformed(path: path, reason: "required key \(where_) is missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw ConfigurationError.malformed(path: path, reason: "\(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type")
        } catch let DecodingError.dataCorrupted(context) {
            let at = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ConfigurationError.malformed(path: path, reason: at.isEmpty ? "not valid JSON" : "\(at): \(context.debugDescription)")
        }
    }
}
