// speech_tokenizer/config.json (Qwen3TTSTokenizerV2Config): the decoder's dimensions.

public struct SpeechDecoderConfiguration: Codable, Sendable, Equatable {
    public var latentDim: Int
    public var codebookDim: Int
    public var codebookSize: Int
    public var decoderDim: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int
    public var headDim: Int
    public var rmsNormEps: Double
    public var ropeTheta: Double
    public var slidingWindow: Int
    public var numQuantizers: Int
    public var numSemanticQuantizers: Int
    public var upsampleRates: [Int]
    public var upsamplingRatios: [Int]
    public var hiddenAct: String

    enum CodingKeys: String, CodingKey {
        case latentDim = "latent_dim", codebookDim = "codebook_dim", codebookSize = "codebook_size"
        case decoderDim = "decoder_dim", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
        case numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim", rmsNormEps = "rms_norm_eps"
        case ropeTheta = "rope_theta", slidingWindow = "sliding_window", numQuantizers = "num_quantizers"
        case numSemanticQuantizers = "num_semantic_quantizers", upsampleRates = "upsample_rates"
        case upsamplingRatios = "upsampling_ratios", hiddenAct = "hidden_act"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        latentDim = try c.decode(Int.self, forKey: .latentDim)
        // codebook_dim and head_dim are not in the decoder config class: they must come from JSON.
        codebookDim = try c.decode(Int.self, forKey: .codebookDim)
        codebookSize = try c.decode(Int.self, forKey: .codebookSize)
        decoderDim = try c.decode(Int.self, forKey: .decoderDim)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
        headDim = try c.decode(Int.self, forKey: .headDim)
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-5
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? 10000
        slidingWindow = try c.decodeIfPresent(Int.self, forKey: .slidingWindow) ?? 72
        numQuantizers = try c.decode(Int.self, forKey: .numQuantizers)
        numSemanticQuantizers = try c.decodeIfPresent(Int.self, forKey: .numSemanticQuantizers) ?? 1
        upsampleRates = try c.decode([Int].self, forKey: .upsampleRates)
        upsamplingRatios = try c.decode([Int].self, forKey: .upsamplingRatios)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "silu"
    }

    /// Output samples per code frame: the product of all upsampling factors.
    public var samplesPerFrame: Int { (upsampleRates + upsamplingRatios).reduce(1, *) }

    func validate(path: String) throws {
        func need(_ ok: Bool, _ key: String, _ reason: String) throws {
            if !ok { throw ConfigurationError.invalid(path: path, key: "decoder_config.\(key)", reason: reason) }
        }
        try need(codebookDim > 0 && codebookDim % 2 == 0, "codebook_dim", "must be a positive even number")
        try need(numSemanticQuantizers == 1, "num_semantic_quantizers", "must be 1")
        try need(numQuantizers > 1, "num_quantizers", "must exceed 1")
        try need(numKeyValueHeads > 0 && numAttentionHeads % numKeyValueHeads == 0, "num_key_value_heads", "must divide num_attention_heads")
        try need(headDim > 0 && headDim % 2 == 0, "head_dim", "must be a positive even number")
        try need(slidingWindow > 0, "sliding_window", "must be positive")
        try need(!upsampleRates.isEmpty && upsampleRates.allSatisfy { $0 > 0 }, "upsample_rates", "must be positive")
        try need(upsamplingRatios.allSatisfy { $0 > 0 }, "upsampling_ratios", "must be positive")
        try need(decoderDim % (1 << upsampleRates.count) == 0, "decoder_dim", "must be divisible by 2^\(upsampleRates.count)")
        try need(hiddenAct == "silu", "hidden_act", "is \(hiddenAct); only silu is supported")
    }
}

public struct SpeechTokenizerConfiguration: Codable, Sendable, Equatable {
    public var modelType: String
    public var outputSampleRate: Int
    public var decodeUpsampleRate: Int
    public var decoder: SpeechDecoderConfiguration

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", outputSampleRate = "output_sample_rate"
        case decodeUpsampleRate = "decode_upsample_rate", decoder = "decoder_config"
    }

    func validate(path: String) throws {
        guard modelType == "qwen3_tts_tokenizer_12hz" else {
            throw ConfigurationError.invalid(path: path, key: "model_type", reason: "is \(modelType), expected qwen3_tts_tokenizer_12hz")
        }
        try decoder.validate(path: path)
        guard decoder.samplesPerFrame == decodeUpsampleRate else {
            throw ConfigurationError.invalid(path: path, key: "decode_upsample_rate",
                                             reason: "= \(decodeUpsampleRate) but the decoder upsamples by \(decoder.samplesPerFrame)")
        }
    }
}
