// Every checkpoint tensor name the engine reads, in one place (spec §10).

enum TensorNames {
    static let talker = "talker"
    static let talkerModel = "talker.model"
    static let textEmbedding = "talker.model.text_embedding.weight"
    static let codecEmbedding = "talker.model.codec_embedding.weight"
    static let talkerNorm = "talker.model.norm.weight"
    static let textProjectionFC1 = "talker.text_projection.linear_fc1"
    static let textProjectionFC2 = "talker.text_projection.linear_fc2"
    static let codecHead = "talker.codec_head.weight"
    static func talkerLayer(_ i: Int) -> String { "talker.model.layers.\(i)" }

    static let codePredictorNorm = "talker.code_predictor.model.norm.weight"
    static let codePredictorProjection = "talker.code_predictor.small_to_mtp_projection"
    static func codePredictorLayer(_ i: Int) -> String { "talker.code_predictor.model.layers.\(i)" }
    static func codePredictorEmbedding(_ j: Int) -> String { "talker.code_predictor.model.codec_embedding.\(j).weight" }
    static func codePredictorHead(_ j: Int) -> String { "talker.code_predictor.lm_head.\(j).weight" }

    static let speakerEncoderPrefix = "speaker_encoder."

    // speech_tokenizer/model.safetensors
    static let speechEncoderPrefix = "encoder."
    static let rvqFirst = "decoder.quantizer.rvq_first"
    static let rvqRest = "decoder.quantizer.rvq_rest"
    static func codebook(_ rvq: String, _ layer: Int) -> String { "\(rvq).vq.layers.\(layer)._codebook" }
    static let preConv = "decoder.pre_conv.conv"
    static let preTransformer = "decoder.pre_transformer"
    static func preTransformerLayer(_ i: Int) -> String { "decoder.pre_transformer.layers.\(i)" }
    static func upsample(_ i: Int) -> String { "decoder.upsample.\(i)" }
    static func decoderStage(_ i: Int) -> String { "decoder.decoder.\(i)" }
}
