// The talker: text embedding + projection, codec embedding, 28-layer Qwen3 stack, codec head.
// Ports Qwen3TTSTalkerForConditionalGeneration (qwen_tts/core/models/modeling_qwen3_tts.py, 0.1.1).
import CTTSKernels
import TTSRuntime

struct Talker: Sendable {
    var stack: TransformerStack
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

/// One sequence's talker state: its KV cache and the post-norm hidden state of its last position.
/// Owned by one generation session.
final class TalkerState {
    let cache: KVCache
    /// The final-norm output of the last position run (talker width).
    let normed: ScratchBuffer

    init(talker: Talker, capacity: Int) {
        cache = talker.stack.makeCache(capacity: capacity)
        normed = ScratchBuffer(capacity: talker.hidden)
    }

    var lastHidden: UnsafePointer<Float> { UnsafePointer(normed.pointer) }
}

extension Talker {
    /// Runs prompt rows [n][hidden] for one sequence (in passes of at most `scratch.maxRows`);
    /// leaves the post-norm last hidden in the state. The rows are consumed.
    func prefill(_ rows: UnsafeMutablePointer<Float>, count n: Int, state: TalkerState, scratch: TransformerScratch,
                 observe: ((Int, UnsafePointer<Float>) -> Void)? = nil) {
        stack.forward(rows, count: n, cache: state.cache, scratch: scratch, observe: observe)
        stack.normalize(rows + (n - 1) * hidden, state.normed.pointer, count: 1)
    }

    /// One new position for each of `states` as one batched pass: rows [k][hidden] (consumed),
    /// row i continuing states[i]. Each state's result equals stepping it alone, bit for bit.
    func step(_ rows: UnsafeMutablePointer<Float>, states: [TalkerState], scratch: TransformerScratch) {
        stack.forward(rows, segments: states.map { .init(cache: $0.cache, rows: 1) }, scratch: scratch)
        for (i, state) in states.enumerated() { stack.normalize(rows + i * hidden, state.normed.pointer, count: 1) }
    }

    /// codec_head logits of each state's last hidden, one product for all: out [k][codecVocab];
    /// `gathered` holds k × hidden values.
    func logits(_ states: [TalkerState], gathered: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>, pool: ThreadPool?) {
        for (i, state) in states.enumerated() { (gathered + i * hidden).update(from: state.lastHidden, count: hidden) }
        codecHead(gathered, out, n: states.count, pool: pool)
    }
}
