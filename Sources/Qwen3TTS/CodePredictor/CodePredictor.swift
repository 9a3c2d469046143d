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

/// Scratch space of the code predictor's batched passes (one driver's, reused every frame).
final class PredictorScratch {
    let transformer: TransformerScratch
    /// Inputs before the projection [2k][talker hidden], after it [2k][predictor hidden], the
    /// normed last rows [k][predictor hidden], and the heads' logits [k][codebook].
    let raw = ScratchBuffer(capacity: 1), input = ScratchBuffer(capacity: 1)
    let normed = ScratchBuffer(capacity: 1), logits = ScratchBuffer(capacity: 1)

    init(pool: ThreadPool?) { transformer = TransformerScratch(pool: pool) }
}

extension CodePredictor {
    /// A cache for one sequence's frames (the talker hidden, code 0, then one position per code).
    func makeCache() -> KVCache { stack.makeCache(capacity: groups + 1) }

    /// Codes 1..groups-1 of a frame for each of k sequences, as batched passes: hidden [k][talker
    /// hidden] (post-norm talker states), code0 [k], caches [k] (reset here). `select(i, logits)`
    /// picks sequence i's code from its logits (its own sampling and RNG). Returns each sequence's
    /// whole frame, code 0 first. Each sequence's codes equal predicting it alone.
    func predictFrames(hidden: [UnsafePointer<Float>], code0: [Int], caches: [KVCache], talker: Talker,
                       scratch: PredictorScratch, pool: ThreadPool?,
                       select: (Int, UnsafeMutableBufferPointer<Float>) -> Int) -> [[Int]] {
        let k = code0.count, d = talker.hidden, dcp = stack.shape.hidden
        scratch.raw.reserve(2 * k * d)
        scratch.input.reserve(2 * k * max(d, dcp))
        scratch.normed.reserve(k * dcp)
        scratch.logits.reserve(k * codebookSize)
        let raw = scratch.raw.pointer, input = scratch.input.pointer
        // Positions 0 and 1 of each sequence: its talker hidden and the talker's embedding of code 0.
        for i in 0..<k {
            caches[i].reset()
            (raw + 2 * i * d).update(from: hidden[i], count: d)
            talker.codecEmbedding.row(code0[i], into: raw + (2 * i + 1) * d)
        }
        project(raw, into: input, rows: 2 * k, talkerHidden: d, pool: pool)
        stack.forward(input, segments: caches.map { .init(cache: $0, rows: 2) }, scratch: scratch.transformer)
        var frames = code0.map { [$0] }
        for j in 0..<(groups - 1) {
            // The last position of each sequence: row 2i+1 after the first pass, row i after.
            for i in 0..<k {
                let last = j == 0 ? input + (2 * i + 1) * dcp : input + i * dcp
                stack.normalize(last, scratch.normed.pointer + i * dcp, count: 1)
            }
            heads[j](scratch.normed.pointer, scratch.logits.pointer, n: k, pool: pool)
            for i in 0..<k {
                let l = UnsafeMutableBufferPointer(start: scratch.logits.pointer + i * codebookSize, count: codebookSize)
                frames[i].append(select(i, l))
            }
            if j == groups - 2 { break }
            for i in 0..<k { embeddings[j].row(frames[i][j + 1], into: raw + i * d) }
            project(raw, into: input, rows: k, talkerHidden: d, pool: pool)
            stack.forward(input, segments: caches.map { .init(cache: $0, rows: 1) }, scratch: scratch.transformer)
        }
        return frames
    }

    /// out = small_to_mtp_projection(raw) over `rows` rows (or a copy when the widths agree).
    private func project(_ raw: UnsafeMutablePointer<Float>, into out: UnsafeMutablePointer<Float>, rows: Int,
                         talkerHidden d: Int, pool: ThreadPool?) {
        if let projection {
            projection(raw, out, n: rows, pool: pool)
        } else {
            out.update(from: raw, count: rows * d)
        }
    }
}
