// The code predictor ("sub-talker"): 5 Qwen3 layers that produce codes 1..15 of a frame from the
// talker's post-norm hidden state and code 0.
// Ports Qwen3TTSTalkerCodePredictorModelForConditionalGeneration (modeling_qwen3_tts.py, 0.1.1).
import CTTSKernels
import TTSRuntime

struct CodePredictor: Sendable {
    let stack: TransformerStack
    /// small_to_mtp_projection (talker width -> predictor width); nil when the widths agree.
    let projection: Linear?
    /// codec_embedding.{j}: [codebook, talker hidden], j = 0 ..< groups-1 (embeds code j+1).
    let embeddings: [Matrix]
    /// lm_head.{j}: predictor hidden -> codebook, j = 0 ..< groups-1 (predicts code j+1).
    let heads: [Linear]

    var groups: Int { embeddings.count + 1 }
    var codebookSize: Int { heads[0].outFeatures }

    init(stack: TransformerStack, projection: Linear?, embeddings: [Matrix], heads: [Linear]) {
        self.stack = stack
        self.projection = projection
        self.embeddings = embeddings
        self.heads = heads
    }

    init(weights w: WeightStore, config c: TalkerConfiguration) throws {
        let p = c.codePredictor
        let shape = TransformerShape(hidden: p.hiddenSize, heads: p.numAttentionHeads, kvHeads: p.numKeyValueHeads,
                                     headDim: p.headDim, intermediate: p.intermediateSize, eps: Float(p.rmsNormEps),
                                     ropeTheta: p.ropeTheta, window: nil)
        let layers = try (0..<p.numHiddenLayers).map {
            try TransformerLayerWeights.load(w, prefix: TensorNames.codePredictorLayer($0), shape: shape, qkNorm: true, layerScale: false)
        }
        stack = TransformerStack(shape: shape, layers: layers, finalNorm: try w.floats(TensorNames.codePredictorNorm, shape: [p.hiddenSize]))
        let talkerHidden = c.stack.hiddenSize
        projection = talkerHidden == p.hiddenSize ? nil
            : try w.linear(TensorNames.codePredictorProjection, out: p.hiddenSize, in: talkerHidden, bias: true)
        embeddings = try (0..<(p.numCodeGroups - 1)).map {
            try w.matrix(TensorNames.codePredictorEmbedding($0), rows: p.vocabSize, cols: talkerHidden)
        }
        heads = try (0..<(p.numCodeGroups - 1)).map {
            Linear(weight: try w.matrix(TensorNames.codePredictorHead($0), rows: p.vocabSize, cols: p.hiddenSize))
        }
    }
}

extension CodePredictor {
    /// out += Σ of a frame's code embeddings: code 0 from the talker's codec table, code i from
    /// this predictor's table i-1 (the talker input of the next step, and of reference frames).
    func addFrame(_ codes: [Int], talker: Talker, into out: UnsafeMutablePointer<Float>) {
        talker.addCodec(codes[0], into: out)
        for i in 1..<codes.count { embeddings[i - 1].addRow(codes[i], into: out) }
    }
}
