// The talker: text embedding + projection, codec embedding, 28-layer Qwen3 stack, codec head.
// Ports Qwen3TTSTalkerForConditionalGeneration (qwen_tts/core/models/modeling_qwen3_tts.py, 0.1.1).
import CTTSKernels
import TTSRuntime

struct Talker: Sendable {
    let stack: TransformerStack
    let textEmbedding: Matrix      // [text vocab, text hidden]
    let textFC1: Linear            // text hidden -> text hidden (+bias)
    let textFC2: Linear            // text hidden -> hidden (+bias)
    let codecEmbedding: Matrix     // [codec vocab, hidden]
    let codecHead: Linear          // hidden -> codec vocab

    var hidden: Int { stack.shape.hidden }
    var codecVocab: Int { codecHead.outFeatures }

    init(stack: TransformerStack, textEmbedding: Matrix, textFC1: Linear, textFC2: Linear, codecEmbedding: Matrix, codecHead: Linear) {
        self.stack = stack
        self.textEmbedding = textEmbedding
        self.textFC1 = textFC1
        self.textFC2 = textFC2
        self.codecEmbedding = codecEmbedding
        self.codecHead = codecHead
    }

    init(weights w: WeightStore, config c: TalkerConfiguration) throws {
        let s = c.stack
        let shape = TransformerShape(hidden: s.hiddenSize, heads: s.numAttentionHeads, kvHeads: s.numKeyValueHeads,
                                     headDim: s.headDim, intermediate: s.intermediateSize, eps: Float(s.rmsNormEps),
                                     ropeTheta: s.ropeTheta, window: nil)
        let layers = try (0..<s.numHiddenLayers).map {
            try TransformerLayerWeights.load(w, prefix: TensorNames.talkerLayer($0), shape: shape, qkNorm: true, layerScale: false)
        }
        stack = TransformerStack(shape: shape, layers: layers, finalNorm: try w.floats(TensorNames.talkerNorm, shape: [s.hiddenSize]))
        textEmbedding = try w.matrix(TensorNames.textEmbedding, rows: c.textVocabSize, cols: c.textHiddenSize)
        textFC1 = try w.linear(TensorNames.textProjectionFC1, out: c.textHiddenSize, in: c.textHiddenSize, bias: true)
        textFC2 = try w.linear(TensorNames.textProjectionFC2, out: s.hiddenSize, in: c.textHiddenSize, bias: true)
        codecEmbedding = try w.matrix(TensorNames.codecEmbedding, rows: s.vocabSize, cols: s.hiddenSize)
        codecHead = Linear(weight: try w.matrix(TensorNames.codecHead, rows: s.vocabSize, cols: s.hiddenSize))
    }

    /// T(id) for each id: text_projection(text_embedding(id)), written as rows of `out` [n][hidden].
    func projectText(_ ids: [Int], into out: UnsafeMutablePointer<Float>) {
        let th = textEmbedding.cols
        var emb = [Float](repeating: 0, count: ids.count * th)
        var mid = [Float](repeating: 0, count: ids.count * th)
        emb.withUnsafeMutableBufferPointer { e in
            for (i, id) in ids.enumerated() { textEmbedding.row(id, into: e.baseAddress! + i * th) }
            mid.withUnsafeMutableBufferPointer { m in
                textFC1(e.baseAddress!, m.baseAddress!, n: ids.count)
                tts_silu_f32(m.baseAddress!, Int64(ids.count * th))
                textFC2(m.baseAddress!, out, n: ids.count)
            }
        }
    }

    /// Adds C(id) to `out` (one row).
    func addCodec(_ id: Int, into out: UnsafeMutablePointer<Float>) { codecEmbedding.addRow(id, into: out) }
}
