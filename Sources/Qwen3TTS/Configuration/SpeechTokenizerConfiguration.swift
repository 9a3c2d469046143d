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
    /// The Mimi encoder (reference audio -> codes), used by in-context voice cloning.
    public var encoder: SpeechEncoderConfiguration?
    /// Code groups kept from the encoder's quantizers (the talker's 16).
    public var encoderValidNumQuantizers: Int?

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", outputSampleRate = "output_sample_rate"
        case decodeUpsampleRate = "decode_upsample_rate", decoder = "decoder_config"
        case encoder = "encoder_config", encoderValidNumQuantizers = "encoder_valid_num_quantizers"
    }

    func validate(path: String) throws {
        guard modelType == "qwen3_tts_tokenizer_12hz" else {
            throw ConfigurationError.invalid(path: path, key: "model_type", reason: "is \(modelType), expected qwen3_tts_tokenizer_12hz")
        }
        try decoder.validate(path: path)
        if let encoder {
            try encoder.validate(path: path)
            let valid = encoderValidNumQuantizers ?? decoder.numQuantizers
            guard valid == decoder.numQuantizers, valid <= encoder.numQuantizers else {
                throw ConfigurationError.invalid(path: path, key: "encoder_valid_num_quantizers",
                                                 reason: "= \(valid); it must equal the decoder's \(decoder.numQuantizers) quantizers and not exceed the encoder's \(encoder.numQuantizers)")
            }
            guard encoder.samplesPerFrame == decodeUpsampleRate else {
                throw ConfigurationError.invalid(path: path, key: "encoder_config.upsampling_ratios",
                                                 reason: "the encoder downsamples by \(encoder.samplesPerFrame), the decoder upsamples by \(decodeUpsampleRate)")
            }
        }
        guard decoder.samplesPerFrame == decodeUpsampleRate else {
            throw ConfigurationError.invalid(path: path, key: "decode_upsample_rate",
                                             reason: "= \(decodeUpsampleRate) but the decoder upsamples by \(decoder.samplesPerFrame)")
        }
    }
}

/// `encoder_config` (a MimiConfig): the SEANet encoder, its transformer, the ×2 downsampling and
/// the split RVQ. Absent keys take MimiConfig's defaults, which are the shipped values.
public struct SpeechEncoderConfiguration: Codable, Sendable, Equatable {
    public var samplingRate = 24000
    public var frameRate = 12.5
    public var audioChannels = 1
    public var numFilters = 64
    public var kernelSize = 7
    public var residualKernelSize = 3
    public var lastKernelSize = 3
    public var numResidualLayers = 1
    public var dilationGrowthRate = 2
    public var compress = 2
    public var upsamplingRatios = [8, 6, 5, 4]
    public var hiddenSize = 512
    public var numHiddenLayers = 8
    public var numAttentionHeads = 8
    public var numKeyValueHeads = 8
    public var headDim = 64
    public var intermediateSize = 2048
    public var hiddenAct = "gelu"
    public var normEps = 1e-5
    public var ropeTheta = 10000.0
    public var numQuantizers = 32
    public var numSemanticQuantizers = 1
    public var codebookSize = 2048
    public var codebookDim = 256
    public var vectorQuantizationHiddenDimension = 256
    public var padMode = "constant"
    public var useCausalConv = true
    public var useConvShortcut = false

    enum CodingKeys: String, CodingKey {
        case samplingRate = "sampling_rate", frameRate = "frame_rate", audioChannels = "audio_channels"
        case numFilters = "num_filters", kernelSize = "kernel_size", residualKernelSize = "residual_kernel_size"
        case lastKernelSize = "last_kernel_size", numResidualLayers = "num_residual_layers"
        case dilationGrowthRate = "dilation_growth_rate", compress, upsamplingRatios = "upsampling_ratios"
        case hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers", numAttentionHeads = "num_attention_heads"
        case numKeyValueHeads = "num_key_value_heads", headDim = "head_dim", intermediateSize = "intermediate_size"
        case hiddenAct = "hidden_act", normEps = "norm_eps", ropeTheta = "rope_theta", numQuantizers = "num_quantizers"
        case numSemanticQuantizers = "num_semantic_quantizers", codebookSize = "codebook_size", codebookDim = "codebook_dim"
        case vectorQuantizationHiddenDimension = "vector_quantization_hidden_dimension", padMode = "pad_mode"
        case useCausalConv = "use_causal_conv", useConvShortcut = "use_conv_shortcut"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var d = SpeechEncoderConfiguration()
        func read<T: Decodable>(_ key: CodingKeys, _ field: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { field = v }
        }
        try read(.samplingRate, &d.samplingRate); try read(.frameRate, &d.frameRate); try read(.audioChannels, &d.audioChannels)
        try read(.numFilters, &d.numFilters); try read(.kernelSize, &d.kernelSize); try read(.residualKernelSize, &d.residualKernelSize)
        try read(.lastKernelSize, &d.lastKernelSize); try read(.numResidualLayers, &d.numResidualLayers)
        try read(.dilationGrowthRate, &d.dilationGrowthRate); try read(.compress, &d.compress)
        try read(.upsamplingRatios, &d.upsamplingRatios); try read(.hiddenSize, &d.hiddenSize)
        try read(.numHiddenLayers, &d.numHiddenLayers); try read(.numAttentionHeads, &d.numAttentionHeads)
        // MimiConfig: head_dim defaults to hidden_size / heads, kv heads to heads.
        d.headDim = d.hiddenSize / max(d.numAttentionHeads, 1)
        d.numKeyValueHeads = d.numAttentionHeads
        try read(.numKeyValueHeads, &d.numKeyValueHeads); try read(.headDim, &d.headDim)
        try read(.intermediateSize, &d.intermediateSize); try read(.hiddenAct, &d.hiddenAct); try read(.normEps, &d.normEps)
        try read(.ropeTheta, &d.ropeTheta); try read(.numQuantizers, &d.numQuantizers)
        try read(.numSemanticQuantizers, &d.numSemanticQuantizers); try read(.codebookSize, &d.codebookSize)
        try read(.codebookDim, &d.codebookDim); try read(.vectorQuantizationHiddenDimension, &d.vectorQuantizationHiddenDimension)
        try read(.padMode, &d.padMode); try read(.useCausalConv, &d.useCausalConv); try read(.useConvShortcut, &d.useConvShortcut)
        self = d
    }

    /// Input samples per 25 Hz SEANet frame.
    public var seanetStride: Int { upsamplingRatios.reduce(1, *) }
    /// Input samples per code frame: the SEANet stride times the ×2 downsampling.
    public var samplesPerFrame: Int { seanetStride * 2 }

    func validate(path: String) throws {
        func need(_ ok: Bool, _ key: String, _ reason: String) throws {
            if !ok { throw ConfigurationError.invalid(path: path, key: "encoder_config.\(key)", reason: reason) }
        }
        try need(audioChannels == 1, "audio_channels", "must be 1")
        try need(useCausalConv, "use_causal_conv", "must be true (the shipped encoder is causal)")
        try need(padMode == "constant", "pad_mode", "is \(padMode); only constant (zero) padding is supported")
        try need(!useConvShortcut, "use_conv_shortcut", "must be false")
        try need(hiddenAct == "gelu", "hidden_act", "is \(hiddenAct); only gelu is supported")
        try need(numSemanticQuantizers == 1, "num_semantic_quantizers", "must be 1")
        try need(numQuantizers > 1, "num_quantizers", "must exceed 1")
        try need(!upsamplingRatios.isEmpty && upsamplingRatios.allSatisfy { $0 > 0 }, "upsampling_ratios", "must be positive")
        try need(numFilters > 0 && compress > 0 && numFilters % compress == 0, "compress", "must divide num_filters")
        try need(numResidualLayers >= 0 && dilationGrowthRate > 0, "num_residual_layers", "must be non-negative")
        try need(kernelSize > 0 && residualKernelSize > 0 && lastKernelSize > 0, "kernel_size", "must be positive")
        try need(numKeyValueHeads > 0 && numAttentionHeads % numKeyValueHeads == 0, "num_key_value_heads", "must divide num_attention_heads")
        try need(headDim > 0 && headDim % 2 == 0, "head_dim", "must be a positive even number")
        try need(codebookDim == vectorQuantizationHiddenDimension, "codebook_dim",
                 "must equal vector_quantization_hidden_dimension (the quantizers' projected width)")
        // The ×2 downsampling follows from frame_rate = samples per second / SEANet stride / 2.
        try need(abs(Double(samplingRate) / Double(seanetStride) / 2 - frameRate) < 1e-9, "frame_rate",
                 "must be sampling_rate / prod(upsampling_ratios) / 2")
    }
}
