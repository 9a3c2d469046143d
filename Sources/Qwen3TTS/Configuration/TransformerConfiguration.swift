// Dimensions shared by the talker and the code predictor (Qwen3 decoder stacks).

/// One Qwen3-style decoder stack, as in `talker_config` and `code_predictor_config`.
public struct TransformerConfiguration: Codable, Sendable, Equatable {
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    public var rmsNormEps: Double
    public var ropeTheta: Double
    public var hiddenAct: String
    public var vocabSize: Int
    public var numCodeGroups: Int

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim"
        case rmsNormEps = "rms_norm_eps", ropeTheta = "rope_theta", hiddenAct = "hidden_act"
        case vocabSize = "vocab_size", numCodeGroups = "num_code_groups"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
        headDim = try c.decodeIfPresent(Int.self, forKey: .headDim) ?? hiddenSize / max(numAttentionHeads, 1)
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-6
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? 10000
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "silu"
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        numCodeGroups = try c.decodeIfPresent(Int.self, forKey: .numCodeGroups) ?? 16
    }

    func validate(path: String, prefix: String) throws {
        func need(_ ok: Bool, _ key: String, _ reason: String) throws {
            if !ok { throw ConfigurationError.invalid(path: path, key: "\(prefix).\(key)", reason: reason) }
        }
        try need(hiddenSize > 0, "hidden_size", "must be positive")
        try need(intermediateSize > 0, "intermediate_size", "must be positive")
        try need(numHiddenLayers > 0, "num_hidden_layers", "must be positive")
        try need(numAttentionHeads > 0, "num_attention_heads", "must be positive")
        try need(numKeyValueHeads > 0 && numAttentionHeads % numKeyValueHeads == 0,
                 "num_key_value_heads", "must divide num_attention_heads (\(numAttentionHeads))")
        try need(headDim > 0 && headDim % 2 == 0, "head_dim", "must be a positive even number")
        try need(rmsNormEps > 0, "rms_norm_eps", "must be positive")
        try need(ropeTheta > 0, "rope_theta", "must be positive")
        try need(hiddenAct == "silu", "hidden_act", "is \(hiddenAct); only silu is supported")
        try need(vocabSize > 0, "vocab_size", "must be positive")
        try need(numCodeGroups >= 2, "num_code_groups", "must be at least 2")
    }
}
