// `talker_config` of config.json: the talker stack plus every codec token id.

public struct TalkerConfiguration: Codable, Sendable, Equatable {
    public var stack: TransformerConfiguration
    public var textVocabSize: Int
    public var textHiddenSize: Int
    public var codecPadId: Int
    public var codecBosId: Int
    public var codecEosTokenId: Int
    public var codecThinkId: Int
    public var codecNothinkId: Int
    public var codecThinkBosId: Int
    public var codecThinkEosId: Int
    /// Language name (lower case) -> codec id; includes the dialect entries.
    public var codecLanguageId: [String: Int]
    /// CustomVoice speaker name (lower case) -> codec id; empty for other model types.
    public var speakerIds: [String: Int]
    /// Speaker name -> dialect language name, for speakers that speak a dialect.
    public var speakerDialects: [String: String]
    public var codePredictor: TransformerConfiguration

    enum CodingKeys: String, CodingKey {
        case textVocabSize = "text_vocab_size", textHiddenSize = "text_hidden_size"
        case codecPadId = "codec_pad_id", codecBosId = "codec_bos_id", codecEosTokenId = "codec_eos_token_id"
        case codecThinkId = "codec_think_id", codecNothinkId = "codec_nothink_id"
        case codecThinkBosId = "codec_think_bos_id", codecThinkEosId = "codec_think_eos_id"
        case codecLanguageId = "codec_language_id", speakerIds = "spk_id", speakerDialects = "spk_is_dialect"
        case codePredictor = "code_predictor_config"
    }

    public init(from decoder: Decoder) throws {
        stack = try TransformerConfiguration(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        textVocabSize = try c.decode(Int.self, forKey: .textVocabSize)
        textHiddenSize = try c.decode(Int.self, forKey: .textHiddenSize)
        codecPadId = try c.decode(Int.self, forKey: .codecPadId)
        codecBosId = try c.decode(Int.self, forKey: .codecBosId)
        codecEosTokenId = try c.decode(Int.self, forKey: .codecEosTokenId)
        codecThinkId = try c.decode(Int.self, forKey: .codecThinkId)
        codecNothinkId = try c.decode(Int.self, forKey: .codecNothinkId)
        codecThinkBosId = try c.decode(Int.self, forKey: .codecThinkBosId)
        codecThinkEosId = try c.decode(Int.self, forKey: .codecThinkEosId)
        codecLanguageId = Dictionary(uniqueKeysWithValues: try c.decode([String: Int].self, forKey: .codecLanguageId).map { ($0.key.lowercased(), $0.value) })
        // spk_id values are ints in the shipped configs; a one-element list is accepted too.
        var speakers: [String: Int] = [:]
        if let raw = try c.decodeIfPresent([String: FlexibleInt].self, forKey: .speakerIds) {
            for (k, v) in raw { speakers[k.lowercased()] = v.value }
        }
        speakerIds = speakers
        var dialects: [String: String] = [:]
        if let raw = try c.decodeIfPresent([String: StringOrFalse].self, forKey: .speakerDialects) {
            for (k, v) in raw { if let d = v.value { dialects[k.lowercased()] = d.lowercased() } }
        }
        speakerDialects = dialects
        codePredictor = try c.decode(TransformerConfiguration.self, forKey: .codePredictor)
    }

    public func encode(to encoder: Encoder) throws {
        try stack.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(textVocabSize, forKey: .textVocabSize)
        try c.encode(textHiddenSize, forKey: .textHiddenSize)
        try c.encode(codecPadId, forKey: .codecPadId)
        try c.encode(codecBosId, forKey: .codecBosId)
        try c.encode(codecEosTokenId, forKey: .codecEosTokenId)
        try c.encode(codecThinkId, forKey: .codecThinkId)
        try c.encode(codecNothinkId, forKey: .codecNothinkId)
        try c.encode(codecThinkBosId, forKey: .codecThinkBosId)
        try c.encode(codecThinkEosId, forKey: .codecThinkEosId)
        try c.encode(codecLanguageId, forKey: .codecLanguageId)
        try c.encode(speakerIds, forKey: .speakerIds)
        try c.encode(speakerDialects, forKey: .speakerDialects)
        try c.encode(codePredictor, forKey: .codePredictor)
    }

    func validate(path: String) throws {
        try stack.validate(path: path, prefix: "talker_config")
        try codePredictor.validate(path: path, prefix: "talker_config.code_predictor_config")
        func need(_ ok: Bool, _ key: String, _ reason: String) throws {
            if !ok { throw ConfigurationError.invalid(path: path, key: "talker_config.\(key)", reason: reason) }
        }
        let codecIds = [("codec_pad_id", codecPadId), ("codec_bos_id", codecBosId), ("codec_eos_token_id", codecEosTokenId),
                        ("codec_think_id", codecThinkId), ("codec_nothink_id", codecNothinkId),
                        ("codec_think_bos_id", codecThinkBosId), ("codec_think_eos_id", codecThinkEosId)]
        for (key, id) in codecIds {
            try need(id >= 0 && id < stack.vocabSize, key, "= \(id) is outside the codec vocabulary 0..<\(stack.vocabSize)")
        }
        for (name, id) in codecLanguageId {
            try need(id >= 0 && id < stack.vocabSize, "codec_language_id.\(name)", "= \(id) is outside the codec vocabulary")
        }
        for (name, id) in speakerIds {
            try need(id >= 0 && id < stack.vocabSize, "spk_id.\(name)", "= \(id) is outside the codec vocabulary")
        }
        for (name, dialect) in speakerDialects {
            try need(codecLanguageId[dialect] != nil, "spk_is_dialect.\(name)", "names \(dialect), which codec_language_id lacks")
        }
        try need(textVocabSize > 0 && textHiddenSize > 0, "text_vocab_size", "and text_hidden_size must be positive")
        try need(codePredictor.numCodeGroups == stack.numCodeGroups, "code_predictor_config.num_code_groups",
                 "(\(codePredictor.numCodeGroups)) differs from num_code_groups (\(stack.numCodeGroups))")
        try need(codePredictor.vocabSize <= stack.vocabSize, "code_predictor_config.vocab_size", "exceeds the talker codec vocabulary")
        try need(stack.vocabSize >= 1024 && codecEosTokenId >= stack.vocabSize - 1024, "codec_eos_token_id",
                 "must lie in the last 1024 codec ids (the suppressed control range)")
    }
}

/// An Int, or a one-element list holding an Int.
struct FlexibleInt: Codable, Sendable {
    let value: Int
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let v = try? c.decode(Int.self) { value = v; return }
        let list = try c.decode([Int].self)
        guard list.count == 1 else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected an id or a one-element list")
        }
        value = list[0]
    }
    func encode(to encoder: Encoder) throws { var c = encoder.singleValueContainer(); try c.encode(value) }
}

/// A dialect name, or `false` for "no dialect".
struct StringOrFalse: Codable, Sendable {
    let value: String?
    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { value = s; return }
        let b = try c.decode(Bool.self)
        guard !b else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected a dialect name or false") }
        value = nil
    }
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value { try c.encode(value) } else { try c.encode(false) }
    }
}
