// A stack of pre-norm decoder layers: RMSNorm → GQA attention (RoPE, optional q/k RMSNorm,
// optional sliding window) → residual (optional LayerScale) → RMSNorm → SwiGLU MLP → residual.
// Ports Qwen3TTSTalkerDecoderLayer / Qwen3TTSDecoderLayer (qwen_tts/core/models/modeling_qwen3_tts.py)
// and Qwen3TTSTokenizerV2DecoderTransformerLayer (qwen_tts/core/tokenizer_12hz/...), qwen-tts 0.1.1.
// The Mimi encoder's layers (transformers' MimiTransformerLayer) use the same stack with LayerNorm
// (with bias) in place of RMSNorm and a GELU MLP (fc1, fc2) in place of SwiGLU.
import CTTSKernels
import TTSRuntime

struct TransformerShape: Sendable {
    var hidden: Int
    var heads: Int
    var kvHeads: Int
    var headDim: Int
    var intermediate: Int
    var eps: Float
    var ropeTheta: Double
    /// Key j is visible to query i iff i - window < j <= i; nil = plain causal.
    var window: Int?

    var qWidth: Int { heads * headDim }
    var kvWidth: Int { kvHeads * headDim }
}

struct TransformerLayerWeights: Sendable {
    let inputNorm: [Float]
    let postNorm: [Float]
    let q: Linear, k: Linear, v: Linear, o: Linear
    let qNorm: [Float]?
    let kNorm: [Float]?
    /// SwiGLU's gate; nil for a GELU MLP, where `up` is fc1 and `down` is fc2.
    let gate: Linear?
    let up: Linear, down: Linear
    let attentionScale: [Float]?
    let mlpScale: [Float]?
    /// LayerNorm biases (input, post-attention); nil for RMSNorm.
    var normBiases: (input: [Float], post: [Float])? = nil

    /// Loads one layer under `prefix` (e.g. "talker.model.layers.3").
    static func load(_ w: WeightStore, prefix: String, shape s: TransformerShape, qkNorm: Bool, layerScale: Bool) throws -> Self {
        TransformerLayerWeights(
            inputNorm: try w.floats("\(prefix).input_layernorm.weight", shape: [s.hidden]),
            postNorm: try w.floats("\(prefix).post_attention_layernorm.weight", shape: [s.hidden]),
            q: try w.linear("\(prefix).self_attn.q_proj", out: s.qWidth, in: s.hidden, bias: false),
            k: try w.linear("\(prefix).self_attn.k_proj", out: s.kvWidth, in: s.hidden, bias: false),
            v: try w.linear("\(prefix).self_attn.v_proj", out: s.kvWidth, in: s.hidden, bias: false),
            o: try w.linear("\(prefix).self_attn.o_proj", out: s.hidden, in: s.qWidth, bias: false),
            qNorm: qkNorm ? try w.floats("\(prefix).self_attn.q_norm.weight", shape: [s.headDim]) : nil,
            kNorm: qkNorm ? try w.floats("\(prefix).self_attn.k_norm.weight", shape: [s.headDim]) : nil,
            gate: try w.linear("\(prefix).mlp.gate_proj", out: s.intermediate, in: s.hidden, bias: false),
            up: try w.linear("\(prefix).mlp.up_proj", out: s.intermediate, in: s.hidden, bias: false),
            down: try w.linear("\(prefix).mlp.down_proj", out: s.hidden, in: s.intermediate, bias: false),
            attentionScale: layerScale ? try w.floats("\(prefix).self_attn_layer_scale.scale", shape: [s.hidden]) : nil,
            mlpScale: layerScale ? try w.floats("\(prefix).mlp_layer_scale.scale", shape: [s.hidden]) : nil)
    }

    /// Loads one MimiTransformerLayer (LayerNorm with bias, fc1 → GELU → fc2, LayerScale).
    static func loadMimi(_ w: WeightStore, prefix: String, shape s: TransformerShape) throws -> Self {
        var layer = TransformerLayerWeights(
            inputNorm: try w.floats("\(prefix).input_layernorm.weight", shape: [s.hidden]),
            postNorm: try w.floats("\(prefix).post_attention_layernorm.weight", shape: [s.hidden]),
            q: try w.linear("\(prefix).self_attn.q_proj", out: s.qWidth, in: s.hidden, bias: false),
            k: try w.linear("\(prefix).self_attn.k_proj", out: s.kvWidth, in: s.hidden, bias: false),
            v: try w.linear("\(prefix).self_attn.v_proj", out: s.kvWidth, in: s.hidden, bias: false),
            o: try w.linear("\(prefix).self_attn.o_proj", out: s.hidden, in: s.qWidth, bias: false),
            qNorm: nil, kNorm: nil, gate: nil,
            up: try w.linear("\(prefix).mlp.fc1", out: s.intermediate, in: s.hidden, bias: false),
            down: try w.linear("\(prefix).mlp.fc2", out: s.hidden, in: s.intermediate, bias: false),
            attentionScale: try w.floats("\(prefix).self_attn_layer_scale.scale", shape: [s.hidden]),
            mlpScale: try w.floats("\(prefix).mlp_layer_scale.scale", shape: [s.hidden]))
        layer.normBiases = (try w.floats("\(prefix).input_layernorm.bias", shape: [s.hidden]),
                            try w.floats("\(prefix).post_attention_layernorm.bias", shape: [s.hidden]))
        return layer
    }

    /// out[t] = norm(x[t]) for n rows: RMSNorm, or LayerNorm when `bias` is given.
    func normalize(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, rows n: Int, width d: Int,
                   weight: [Float], bias: [Float]?, eps: Float) {
        weight.withUnsafeBufferPointer { w in
            if let bias {
                bias.withUnsafeBufferPointer { b in
                    for t in 0..<n { tts_layernorm_f32(x + t * d, w.baseAddress!, b.baseAddress!, out + t * d, Int64(d), eps) }
                }
            } else {
                for t in 0..<n { tts_rmsnorm_f32(x + t * d, w.baseAddress!, out + t * d, Int64(d), eps) }
            }
        }
    }
}

/// Scratch space for running a stack over up to `tokens` positions at a time.
final class TransformerScratch {
    /// Threads for the matrix products (nil: the calling thread only).
    let pool: ThreadPool?
    /// Most positions one pass runs at once: a longer prefill runs in consecutive chunks, so its
    /// scratch (attention scores: rows × heads × keys) grows linearly with the prompt, not as n².
    var maxRows: Int
    init(pool: ThreadPool? = nil, maxRows: Int = TransformerScratch.defaultMaxRows) {
        self.pool = pool
        self.maxRows = max(maxRows, 1)
    }
    /// 256 rows: a whole ordinary prompt in one pass, and at most ~20 MB of talker scores at 1,300 keys.
    static let defaultMaxRows = 256
    /// Asked between the chunks of a long pass: true stops it there (the request was cancelled;
    /// the cache then holds only the rows done, and the caller discards the session).
    var shouldStop: (() -> Bool)?

    let normed = ScratchBuffer(capacity: 1), q = ScratchBuffer(capacity: 1), k = ScratchBuffer(capacity: 1)
    let v = ScratchBuffer(capacity: 1), attention = ScratchBuffer(capacity: 1), projected = ScratchBuffer(capacity: 1)
    let gate = ScratchBuffer(capacity: 1), up = ScratchBuffer(capacity: 1), scores = ScratchBuffer(capacity: 1)
    let cos = ScratchBuffer(capacity: 1), sin = ScratchBuffer(capacity: 1)

    func prepare(_ s: TransformerShape, tokens n: Int, keys: Int) {
        normed.reserve(n * s.hidden); projected.reserve(n * s.hidden)
        q.reserve(n * s.qWidth); attention.reserve(n * s.qWidth)
        k.reserve(n * s.kvWidth); v.reserve(n * s.kvWidth)
        gate.reserve(n * s.intermediate); up.reserve(n * s.intermediate)
        scores.reserve(keys); cos.reserve(s.headDim); sin.reserve(s.headDim)
    }
}

struct TransformerStack: Sendable {
    let shape: TransformerShape
    let layers: [TransformerLayerWeights]
    let finalNorm: [Float]
    let rope: RotaryEmbedding
    /// How caches made for this stack store keys and values (bf16 for the talker when its
    /// weights are quantized; f32, the exact path, otherwise).
    var kvPrecision = KVPrecision.f32

    init(shape: TransformerShape, layers: [TransformerLayerWeights], finalNorm: [Float]) {
        self.shape = shape
        self.layers = layers
        self.finalNorm = finalNorm
        rope = RotaryEmbedding(headDim: shape.headDim, theta: shape.ropeTheta)
    }

    func makeCache(capacity: Int = 64) -> KVCache {
        KVCache(layers: layers.count, heads: shape.kvHeads, headDim: shape.headDim, capacity: capacity, precision: kvPrecision)
    }

    /// Runs every layer over n new positions (continuing `cache`), updating x [n][hidden] in place.
    /// `observe` sees the hidden state after each layer (for tests and diagnostics).
    /// Positions beyond `scratch.maxRows` run in consecutive chunks, each continuing the cache
    /// (each position attends to the same keys either way); `observe` needs one pass, so it is
    /// only given for short inputs (tests).
    func forward(_ x: UnsafeMutablePointer<Float>, count n: Int, cache: KVCache, scratch: TransformerScratch,
                 observe: ((Int, UnsafePointer<Float>) -> Void)? = nil) {
        forward(x, segments: [Segment(cache: cache, rows: n)], scratch: scratch, observe: observe)
    }

    /// Consecutive rows of one pass that continue one sequence's cache.
    struct Segment {
        let cache: KVCache
        let rows: Int
    }

    /// Runs every layer over the rows of several sequences at once (a batch): x holds each
    /// segment's rows in order, each segment continuing its own cache. The matrix products run
    /// over all rows together (one read of the weights); attention reads each row's own cache.
    /// A row's result does not depend on the other rows (the products are row-invariant,
    /// RowInvarianceTests), so a sequence gets the same bytes alone or in any batch.
    /// More than `scratch.maxRows` rows run in consecutive passes of at most that many, a segment
    /// split across passes where needed; `shouldStop` is asked between passes.
    func forward(_ x: UnsafeMutablePointer<Float>, segments: [Segment], scratch: TransformerScratch,
                 observe: ((Int, UnsafePointer<Float>) -> Void)? = nil) {
        let total = segments.reduce(0) { $0 + $1.rows }
        guard total > scratch.maxRows, observe == nil else { return forwardPass(x, segments: segments, scratch: scratch, observe: observe) }
        var pass: [Segment] = [], passRows = 0, done = 0
        func run() {
            forwardPass(x + (done - passRows) * shape.hidden, segments: pass, scratch: scratch, observe: nil)
            pass.removeAll(keepingCapacity: true)
            passRows = 0
        }
        for segment in segments {
            var left = segment.rows
            while left > 0 {
                if passRows == scratch.maxRows {
                    run()
                    if scratch.shouldStop?() == true { return }
                }
                let rows = min(left, scratch.maxRows - passRows)
                pass.append(Segment(cache: segment.cache, rows: rows))
                passRows += rows
                done += rows
                left -= rows
            }
        }
        if passRows > 0 { run() }
    }

    private func forwardPass(_ x: UnsafeMutablePointer<Float>, segments: [Segment], scratch: TransformerScratch,
                             observe: ((Int, UnsafePointer<Float>) -> Void)?) {
        let s = shape
        let n = segments.reduce(0) { $0 + $1.rows }
        guard n > 0 else { return }
        // Per row: its segment, the index of its cache entry, and its absolute position (RoPE).
        var rowSegment = [Int](repeating: 0, count: n), rowEntry = rowSegment, rowPosition = rowSegment
        var keysMax = 0, row = 0
        for (si, segment) in segments.enumerated() {
            let start = segment.cache.count, position0 = segment.cache.nextPosition
            segment.cache.reserve(extra: segment.rows)
            for i in 0..<segment.rows {
                (rowSegment[row], rowEntry[row], rowPosition[row]) = (si, start + i, position0 + i)
                row += 1
            }
            keysMax = max(keysMax, start + segment.rows)
        }
        scratch.prepare(s, tokens: n, keys: n * s.heads * keysMax)
        let xn = scratch.normed.pointer, q = scratch.q.pointer, k = scratch.k.pointer, v = scratch.v.pointer
        let att = scratch.attention.pointer, proj = scratch.projected.pointer
        let cosT = scratch.cos.pointer, sinT = scratch.sin.pointer, scores = scratch.scores.pointer
        let eps = s.eps
        let scale = 1 / Float(s.headDim).squareRoot()
        let group = s.heads / s.kvHeads

        for (li, layer) in layers.enumerated() {
            // Attention block.
            layer.normalize(x, xn, rows: n, width: s.hidden, weight: layer.inputNorm, bias: layer.normBiases?.input, eps: eps)
            Linear.apply([(layer.q, q), (layer.k, k), (layer.v, v)], xn, n: n, pool: scratch.pool)
            for t in 0..<n {
                rope.table(position: rowPosition[t], cos: cosT, sin: sinT)
                for h in 0..<s.heads {
                    let qh = q + t * s.qWidth + h * s.headDim
                    if let qn = layer.qNorm { qn.withUnsafeBufferPointer { tts_rmsnorm_f32(qh, $0.baseAddress!, qh, Int64(s.headDim), eps) } }
                    tts_rope_rotate_half_f32(qh, cosT, sinT, Int64(s.headDim))
                }
                for h in 0..<s.kvHeads {
                    let kh = k + t * s.kvWidth + h * s.headDim
                    if let kn = layer.kNorm { kn.withUnsafeBufferPointer { tts_rmsnorm_f32(kh, $0.baseAddress!, kh, Int64(s.headDim), eps) } }
                    tts_rope_rotate_half_f32(kh, cosT, sinT, Int64(s.headDim))
                }
            }
            // Each segment's cache of this layer, looked up once per layer (not per row and head).
            let keyBases = segments.map { $0.cache.keys(layer: li) }, valueBases = segments.map { $0.cache.values(layer: li) }
            let headStrides = segments.map(\.cache.headStride)
            for t in 0..<n {
                let cache = segments[rowSegment[t]].cache
                cache.store(k + t * s.kvWidth, into: keyBases[rowSegment[t]], entry: rowEntry[t])
                cache.store(v + t * s.kvWidth, into: valueBases[rowSegment[t]], entry: rowEntry[t])
            }
            // One task per (row, key/value head): the query heads sharing that key/value head
            // run together (each key and value row read once for them). Each task has its own
            // rows of `scores`. Every cache of one stack has the stack's precision.
            let precision = segments[0].cache.precision, rowBytes = precision.rowBytes(headDim: s.headDim)
            let attend = { (task: Int) in
                let t = task / s.kvHeads, kh = task % s.kvHeads
                let pos = rowEntry[t]
                let lo = s.window.map { max(0, pos - $0 + 1) } ?? 0
                let offset = kh * headStrides[rowSegment[t]] + lo * rowBytes
                let keys = keyBases[rowSegment[t]] + offset, values = valueBases[rowSegment[t]] + offset
                let first = t * s.heads + kh * group
                let (qh, out, sc) = (q + first * s.headDim, att + first * s.headDim, scores + first * keysMax)
                let (heads, count, dim) = (Int64(group), Int64(pos - lo + 1), Int64(s.headDim))
                switch precision {
                case .f32:
                    tts_attention_group_f32(qh, heads, keys.assumingMemoryBound(to: Float.self), values.assumingMemoryBound(to: Float.self),
                                            out, sc, count, dim, dim, scale)
                case .bf16:
                    tts_attention_group_bf16kv(qh, heads, keys.assumingMemoryBound(to: UInt16.self), values.assumingMemoryBound(to: UInt16.self),
                                               out, sc, count, dim, dim, scale)
                case .q8_0:
                    tts_attention_group_q8kv(qh, heads, keys.assumingMemoryBound(to: UInt8.self), values.assumingMemoryBound(to: UInt8.self),
                                             out, sc, count, dim, scale)
                }
            }
            let tasks = n * s.kvHeads
            splitWork(tasks, granularity: 1, work: n * s.heads * min(keysMax, s.window ?? keysMax) * s.headDim, threshold: 16_384,
                      pool: scratch.pool) { lo, hi in for task in lo..<hi { attend(task) } }
            layer.o(att, proj, n: n, pool: scratch.pool)
            addResidual(x, proj, scale: layer.attentionScale, count: n)

            // MLP block.
            layer.normalize(x, xn, rows: n, width: s.hidden, weight: layer.postNorm, bias: layer.normBiases?.post, eps: eps)
            let g = scratch.gate.pointer, u = scratch.up.pointer
            if let gate = layer.gate {
                Linear.apply([(gate, g), (layer.up, u)], xn, n: n, pool: scratch.pool)
                tts_silu_mul_f32(g, u, g, Int64(n * s.intermediate))
                layer.down(g, proj, n: n, pool: scratch.pool)
            } else {
                layer.up(xn, u, n: n, pool: scratch.pool)
                tts_gelu_erf_f32(u, Int64(n * s.intermediate))
                layer.down(u, proj, n: n, pool: scratch.pool)
            }
            addResidual(x, proj, scale: layer.mlpScale, count: n)
            observe?(li, UnsafePointer(x))
        }
        for segment in segments { segment.cache.advance(by: segment.rows) }
    }

    /// x[t] += (scale ⊙) y[t]
    private func addResidual(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, scale: [Float]?, count n: Int) {
        let d = shape.hidden
        if let scale {
            scale.withUnsafeBufferPointer { sc in
                for t in 0..<n { for i in 0..<d { x[t * d + i] += sc[i] * y[t * d + i] } }
            }
        } else {
            for i in 0..<(n * d) { x[i] += y[i] }
        }
    }

    /// Final RMSNorm of n rows: out[t] = norm(x[t]).
    func normalize(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) {
        finalNorm.withUnsafeBufferPointer { w in
            for t in 0..<n { tts_rmsnorm_f32(x + t * shape.hidden, w.baseAddress!, out + t * shape.hidden, Int64(shape.hidden), shape.eps) }
        }
    }
}
