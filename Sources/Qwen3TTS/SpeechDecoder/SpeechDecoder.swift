// The speech tokenizer decoder: 16 codes per frame -> 1920 samples at 24 kHz.
// Ports Qwen3TTSTokenizerV2Decoder (qwen_tts/core/tokenizer_12hz/modeling_qwen3_tts_tokenizer_v2.py,
// qwen-tts 0.1.1): split RVQ decode, causal pre-conv, sliding-window transformer, two ×2 upsamplers
// with ConvNeXt blocks, conv decoder with SnakeBeta and right-trimmed transposed convs, clamp.
import CTTSKernels
import TTSRuntime

struct SpeechDecoder: Sendable {
    let config: SpeechDecoderConfiguration
    let codebooks: [[Float]]           // numQuantizers tables [codebookSize][codebookDim/2]
    let firstProjection: Matrix        // [codebookDim, codebookDim/2] (1x1 conv, no bias)
    let restProjection: Matrix
    let preConv: CausalConv1d
    let inputProjection: Linear        // latent -> hidden
    let transformer: TransformerStack
    let outputProjection: Linear       // hidden -> latent
    let upsamplers: [(CausalConvTranspose1d, ConvNeXtBlock)]
    let inputConv: CausalConv1d        // latent -> decoder_dim, k7
    let blocks: [DecoderBlock]
    let finalSnake: SnakeBeta
    let outputConv: CausalConv1d       // -> 1 channel, k7

    var samplesPerFrame: Int { config.samplesPerFrame }

    /// `precision`: arithmetic of the conv decoder's convolutions (the input conv, the residual
    /// units and the output conv: nearly all of its work).
    init(weights w: WeightStore, config c: SpeechDecoderConfiguration, precision: ConvPrecision = .f32) throws {
        config = c
        let dim = c.codebookDim / 2
        var books: [[Float]] = []
        for q in 0..<c.numQuantizers {
            let rvq = q == 0 ? TensorNames.rvqFirst : TensorNames.rvqRest
            books.append(try loadCodebook(w, TensorNames.codebook(rvq, q == 0 ? 0 : q - 1), size: c.codebookSize, dim: dim))
        }
        codebooks = books
        firstProjection = try w.matrix("\(TensorNames.rvqFirst).output_proj.weight", rows: c.codebookDim, cols: dim, extraShape: [1])
        restProjection = try w.matrix("\(TensorNames.rvqRest).output_proj.weight", rows: c.codebookDim, cols: dim, extraShape: [1])
        // The quantizers' input projections only serve encoding.
        w.skip(prefix: "\(TensorNames.rvqFirst).input_proj.")
        w.skip(prefix: "\(TensorNames.rvqRest).input_proj.")
        preConv = try loadConv(w, TensorNames.preConv, in: c.codebookDim, out: c.latentDim, kernel: 3)

        let pt = TensorNames.preTransformer
        inputProjection = try w.linear("\(pt).input_proj", out: c.hiddenSize, in: c.latentDim, bias: true)
        outputProjection = try w.linear("\(pt).output_proj", out: c.latentDim, in: c.hiddenSize, bias: true)
        let shape = TransformerShape(hidden: c.hiddenSize, heads: c.numAttentionHeads, kvHeads: c.numKeyValueHeads,
                                     headDim: c.headDim, intermediate: c.intermediateSize, eps: Float(c.rmsNormEps),
                                     ropeTheta: c.ropeTheta, window: c.slidingWindow)
        let layers = try (0..<c.numHiddenLayers).map {
            try TransformerLayerWeights.load(w, prefix: TensorNames.preTransformerLayer($0), shape: shape, qkNorm: false, layerScale: true)
        }
        transformer = TransformerStack(shape: shape, layers: layers, finalNorm: try w.floats("\(pt).norm.weight", shape: [c.hiddenSize]))

        upsamplers = try c.upsamplingRatios.enumerated().map { i, factor in
            let p = TensorNames.upsample(i)
            return (try loadTransposed(w, "\(p).0.conv", in: c.latentDim, out: c.latentDim, kernel: factor, stride: factor),
                    try ConvNeXtBlock(w, prefix: "\(p).1", channels: c.latentDim))
        }
        inputConv = try loadConv(w, "\(TensorNames.decoderStage(0)).conv", in: c.latentDim, out: c.decoderDim, kernel: 7, precision: precision)
        blocks = try c.upsampleRates.enumerated().map { i, rate in
            try DecoderBlock(w, prefix: TensorNames.decoderStage(i + 1), in: c.decoderDim >> i, out: c.decoderDim >> (i + 1), rate: rate,
                             precision: precision)
        }
        let outDim = c.decoderDim >> c.upsampleRates.count
        finalSnake = try SnakeBeta(w, prefix: TensorNames.decoderStage(c.upsampleRates.count + 1), channels: outDim)
        outputConv = try loadConv(w, "\(TensorNames.decoderStage(c.upsampleRates.count + 2)).conv", in: outDim, out: 1, kernel: 7, precision: precision)
    }

    /// Decodes frames of codes (each `numQuantizers` values in 0..<codebookSize) in one pass:
    /// one streaming step from a fresh state.
    func decode(_ frames: [[Int]], pool: ThreadPool? = nil, observe: ((String, [Float], Int) -> Void)? = nil) -> [Float] {
        decode(frames, state: makeState(), pool: pool, observe: observe)
    }

    func makeState() -> SpeechDecoderState { SpeechDecoderState(self) }

    /// Decodes the next frames of a stream: because every layer is causal and `state` carries
    /// what each layer still needs (conv input tails, the windowed KV cache with continuing
    /// positions, each transposed conv's previous input), any split of a code sequence into
    /// calls yields the samples of one-shot decoding. Signals are token-major [time][channels];
    /// `observe` receives named stage outputs (token-major, with their channel count).
    func decode(_ frames: [[Int]], state st: SpeechDecoderState, pool: ThreadPool? = nil,
                observe: ((String, [Float], Int) -> Void)? = nil) -> [Float] {
        let t = frames.count
        guard t > 0 else { return [] }
        let x = front(frames, state: st, pool: pool, observe: observe)
        let audio = stack(x, frames: t, state: st, pool: pool, observe: observe)
        st.frames += t
        return audio
    }

    /// Frames of context the layers after the transformer look back over (their receptive
    /// field, rounded up, plus one): beyond it, their state no longer depends on older frames.
    var stackContextFrames: Int {
        var frames = 0.0
        var rate = 1  // samples per frame at the current stage
        for (up, block) in upsamplers {
            frames += Double(up.kernelSize - up.stride > 0 ? 1 : 0) / Double(rate)
            rate *= up.stride
            frames += Double(block.depthwise.history) / Double(rate)
        }
        frames += Double(inputConv.history) / Double(rate)
        for block in blocks {
            frames += 1 / Double(rate)  // the transposed conv's previous input
            rate *= block.upsample.stride
            frames += Double(block.units.reduce(0) { $0 + $1.conv1.history + $1.conv2.history }) / Double(rate)
        }
        frames += Double(outputConv.history) / Double(rate)
        return Int(frames.rounded(.up)) + 1
    }

    /// Starts a stream from `frames` of context that are not to be heard (in-context cloning's
    /// reference): the RVQ, pre-conv and transformer run over all of them (the transformer's
    /// state reaches far back), the convolution stack only over the last `stackContextFrames`,
    /// which leaves every convolution holding what decoding all of them would have left (up to
    /// float summation order, as for any chunking of a stream). Returns the samples of the last
    /// frame. `stackFrames` overrides the reach (tests show a shorter one is not enough).
    func prime(_ frames: [[Int]], state st: SpeechDecoderState, pool: ThreadPool? = nil, stackFrames: Int? = nil) -> [Float] {
        precondition(st.frames == 0, "priming starts a stream")
        let t = frames.count
        guard t > 0 else { return [] }
        let x = front(frames, state: st, pool: pool, observe: nil)
        let keep = min(t, stackFrames ?? stackContextFrames), width = config.latentDim
        let audio = stack(Array(x[((t - keep) * width)...]), frames: keep, state: st, pool: pool, observe: nil)
        st.frames += t
        return Array(audio.suffix(samplesPerFrame))
    }

    /// Codes -> split RVQ -> pre-conv -> transformer: [t][latent] at the frame rate.
    private func front(_ frames: [[Int]], state st: SpeechDecoderState, pool: ThreadPool?,
                       observe: ((String, [Float], Int) -> Void)?) -> [Float] {
        let t = frames.count, c = config
        var x = quantize(frames, pool: pool)
        observe?("quantized", x, c.codebookDim)
        x = preConv.stream(x, frames: t, tail: &st.preConv, pool: pool)
        observe?("pre_conv", x, c.latentDim)
        let y = runTransformer(x, frames: t, state: st, pool: pool)
        observe?("pre_transformer", y, c.latentDim)
        return y
    }

    /// The upsamplers and the SnakeBeta conv decoder: [t][latent] -> t * samplesPerFrame samples.
    private func stack(_ input: [Float], frames t: Int, state st: SpeechDecoderState, pool: ThreadPool?,
                       observe: ((String, [Float], Int) -> Void)?) -> [Float] {
        let c = config
        var x = input
        var frameCount = t
        for (i, (up, block)) in upsamplers.enumerated() {
            x = up.stream(x, frames: frameCount, previous: &st.upsample[i], pool: pool)
            frameCount *= up.stride
            x = convNeXt(block, x, frames: frameCount, tail: &st.convNeXt[i], pool: pool)
            observe?("upsample_\(i)", x, c.latentDim)
        }
        x = inputConv.stream(x, frames: frameCount, tail: &st.inputConv, pool: pool)
        observe?("decoder_0", x, c.decoderDim)
        // Block outputs alternate between two reusable buffers of the state: a chunk maps no
        // fresh pages for them (the last block's is 18 MB for 25 frames).
        let audio = x.withUnsafeBufferPointer { xb -> [Float] in
            var source = xb.baseAddress!
            for (i, block) in blocks.enumerated() {
                // The transposed conv is its phases conv (kernel 2: its tail is the previous input row).
                let up = block.upsample
                let y = (i % 2 == 0 ? st.blockOutputs.0 : st.blockOutputs.1).reserve(frameCount * up.stride * up.outChannels)
                snakeConv(block.snake, up.phases, source, frames: frameCount, tail: &st.blockUpsample[i], buffer: st.work.0, into: y,
                          pool: pool)
                frameCount *= up.stride
                for (u, unit) in block.units.enumerated() {
                    residual(unit, y, frames: frameCount, tail: &st.residual[i][u], state: st, pool: pool)
                }
                observe?("decoder_\(i + 1)", Array(UnsafeBufferPointer(start: y, count: frameCount * up.outChannels)), up.outChannels)
                source = UnsafePointer(y)
            }
            return [Float](unsafeUninitializedCapacity: frameCount) { a, count in
                snakeConv(finalSnake, outputConv, source, frames: frameCount, tail: &st.outputConv, buffer: st.work.0, into: a.baseAddress!,
                          pool: pool)
                for j in 0..<frameCount { a[j] = min(max(a[j], -1), 1) }
                count = frameCount
            }
        }
        precondition(audio.count == t * c.samplesPerFrame, "decoder produced \(audio.count) samples for \(t) frames")
        return audio
    }

    /// y = conv(snake(x)) for a stream whose conv input tail is `tail`: snake writes straight
    /// after the tail's rows in `buffer` (reused across chunks), so the conv's context is built
    /// without joining arrays, and `tail` becomes the last rows seen.
    private func snakeConv(_ snake: SnakeBeta, _ conv: CausalConv1d, _ x: UnsafePointer<Float>, frames t: Int, tail: inout [Float],
                           buffer: ScratchBuffer, into y: UnsafeMutablePointer<Float>, pool: ThreadPool?) {
        let c = conv.inChannels, history = conv.history
        let context = buffer.reserve((history + t) * c)
        tail.withUnsafeBufferPointer { context.update(from: $0.baseAddress!, count: history * c) }
        snake.run(x, context + history * c, frames: t, pool: pool)
        conv.apply(context: context, frames: t, into: y, pool: pool)
        tail = Array(UnsafeBufferPointer(start: context + t * c, count: history * c))
    }

    /// x += conv2(snake2(conv1(snake1(x)))), conv1's left context carried in `tail`. The
    /// intermediate rows (the decoder's largest: 18 MB per array for 25 frames in the last block)
    /// live in the state's reusable buffers, so a chunk maps no fresh pages, and snake1 writes
    /// straight after the context rows, so nothing is copied to join them.
    private func residual(_ unit: ResidualUnit, _ x: UnsafeMutablePointer<Float>, frames t: Int, tail: inout [Float],
                          state st: SpeechDecoderState, pool: ThreadPool?) {
        let middle = st.work.1.reserve(t * unit.conv1.outChannels)
        snakeConv(unit.snake1, unit.conv1, x, frames: t, tail: &tail, buffer: st.work.0, into: middle, pool: pool)
        unit.snake2.run(middle, middle, frames: t, pool: pool)
        // k = 1: no context rows; the residual is added in place as each output is written.
        unit.conv2.apply(context: middle, frames: t, into: x, adding: x, pool: pool)
    }

    /// Split RVQ decode: proj_first(codebook_0[c0]) + proj_rest(Σ codebook_q[c_q]) -> [T][codebookDim].
    func quantize(_ frames: [[Int]], pool: ThreadPool?) -> [Float] {
        let t = frames.count, dim = config.codebookDim / 2, out = config.codebookDim
        var first = [Float](repeating: 0, count: t * dim), rest = [Float](repeating: 0, count: t * dim)
        for (f, codes) in frames.enumerated() {
            precondition(codes.count == config.numQuantizers, "frame \(f) has \(codes.count) codes")
            for q in 0..<config.numQuantizers {
                let code = min(max(codes[q], 0), config.codebookSize - 1)
                codebooks[q].withUnsafeBufferPointer { book in
                    let src = book.baseAddress! + code * dim
                    if q == 0 { for i in 0..<dim { first[f * dim + i] += src[i] } } else { for i in 0..<dim { rest[f * dim + i] += src[i] } }
                }
            }
        }
        var a = [Float](repeating: 0, count: t * out), b = [Float](repeating: 0, count: t * out)
        first.withUnsafeBufferPointer { fb in a.withUnsafeMutableBufferPointer { firstProjection.multiply(fb.baseAddress!, $0.baseAddress!, n: t, pool: pool) } }
        rest.withUnsafeBufferPointer { rb in b.withUnsafeMutableBufferPointer { restProjection.multiply(rb.baseAddress!, $0.baseAddress!, n: t, pool: pool) } }
        for i in 0..<(t * out) { a[i] += b[i] }
        return a
    }

    /// [T][latent] -> input_proj -> layers (window) -> norm -> output_proj -> [T][latent].
    func runTransformer(_ x: [Float], frames t: Int, state st: SpeechDecoderState, pool: ThreadPool?) -> [Float] {
        let c = config
        var h = [Float](repeating: 0, count: t * c.hiddenSize)
        var out = [Float](repeating: 0, count: t * c.latentDim)
        let cache = st.cache
        let scratch = TransformerScratch(pool: pool)
        // Keys older than the window are never attended to again: keep memory bounded.
        cache.keepLast(c.slidingWindow)
        x.withUnsafeBufferPointer { tb in
            h.withUnsafeMutableBufferPointer { hb in
                inputProjection(tb.baseAddress!, hb.baseAddress!, n: t, pool: pool)
                transformer.forward(hb.baseAddress!, count: t, cache: cache, scratch: scratch)
                transformer.normalize(hb.baseAddress!, hb.baseAddress!, count: t)
                out.withUnsafeMutableBufferPointer { outputProjection(hb.baseAddress!, $0.baseAddress!, n: t, pool: pool) }
            }
        }
        return out
    }

    /// x + gamma ⊙ pw2(gelu(pw1(LayerNorm(dwconv(x))))), token-major (gamma is folded into pw2,
    /// which adds x as it writes).
    func convNeXt(_ block: ConvNeXtBlock, _ x: [Float], frames t: Int, tail: inout [Float], pool: ThreadPool?) -> [Float] {
        let c = config.latentDim
        var tokens = block.depthwise.stream(x, frames: t, tail: &tail)
        block.normWeight.withUnsafeBufferPointer { w in
            block.normBias.withUnsafeBufferPointer { b in
                tokens.withUnsafeMutableBufferPointer { tb in
                    for i in 0..<t { tts_layernorm_f32(tb.baseAddress! + i * c, w.baseAddress!, b.baseAddress!, tb.baseAddress! + i * c, Int64(c), 1e-6) }
                }
            }
        }
        var hidden = [Float](unsafeUninitializedCapacity: t * 4 * c) { _, count in count = t * 4 * c }
        var y = x
        tokens.withUnsafeBufferPointer { tb in
            hidden.withUnsafeMutableBufferPointer { hb in
                block.pw1.apply(context: tb.baseAddress!, frames: t, into: hb.baseAddress!, pool: pool)
                tts_gelu_erf_f32(hb.baseAddress!, Int64(t * 4 * c))
                y.withUnsafeMutableBufferPointer {
                    block.pw2.apply(context: hb.baseAddress!, frames: t, into: $0.baseAddress!, adding: $0.baseAddress!, pool: pool)
                }
            }
        }
        return y
    }
}

/// [rows][cols] -> [cols][rows]
func transpose(_ x: [Float], rows: Int, cols: Int) -> [Float] {
    var y = [Float](repeating: 0, count: x.count)
    tts_transpose_f32(x, &y, Int64(rows), Int64(cols))
    return y
}

/// What the speech decoder remembers between streaming calls (one per stream, never shared).
final class SpeechDecoderState {
    var preConv: [Float]
    let cache: KVCache
    var upsample: [[Float]]
    var convNeXt: [[Float]]
    var inputConv: [Float]
    var blockUpsample: [[Float]]
    var residual: [[[Float]]]
    /// Reusable rows for the residual units (not part of the stream's state; never copied).
    let work = (ScratchBuffer(capacity: 1), ScratchBuffer(capacity: 1))
    /// Reusable rows for the blocks' outputs, used alternately (not part of the stream's state).
    let blockOutputs = (ScratchBuffer(capacity: 1), ScratchBuffer(capacity: 1))
    var outputConv: [Float]
    /// Frames decoded so far.
    var frames = 0

    init(_ d: SpeechDecoder) {
        preConv = d.preConv.initialTail()
        cache = d.transformer.makeCache(capacity: d.config.slidingWindow + 64)
        upsample = d.upsamplers.map { $0.0.initialTail() }
        convNeXt = d.upsamplers.map { $0.1.depthwise.initialTail() }
        inputConv = d.inputConv.initialTail()
        blockUpsample = d.blocks.map { $0.upsample.initialTail() }
        residual = d.blocks.map { $0.units.map { $0.conv1.initialTail() } }
        outputConv = d.outputConv.initialTail()
    }

    private init(copying o: SpeechDecoderState) {
        preConv = o.preConv
        cache = o.cache.copy()
        upsample = o.upsample
        convNeXt = o.convNeXt
        inputConv = o.inputConv
        blockUpsample = o.blockUpsample
        residual = o.residual
        outputConv = o.outputConv
        frames = o.frames
    }

    /// An independent copy (the arrays are values; the KV cache is duplicated).
    func copy() -> SpeechDecoderState { SpeechDecoderState(copying: self) }

    /// Bytes held, roughly (for cache budgets).
    var byteCount: Int {
        let tails = preConv.count + upsample.joined().count + convNeXt.joined().count + inputConv.count
            + blockUpsample.joined().count + residual.joined().joined().count + outputConv.count
        return (tails + 2 * cache.layerCount * cache.count * cache.width) * 4
    }
}

/// A primed decoder state kept for reuse; never mutated (sessions take copies).
final class FrozenDecoderState: @unchecked Sendable {
    let state: SpeechDecoderState
    /// The last context frame's samples.
    let lastFrame: [Float]
    init(_ state: SpeechDecoderState, lastFrame: [Float]) {
        self.state = state
        self.lastFrame = lastFrame
    }
}
