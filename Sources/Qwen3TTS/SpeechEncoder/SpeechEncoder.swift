// The speech tokenizer's encoder (spec §8): 24 kHz reference audio -> 16 codes per 1920 samples,
// for in-context voice cloning. Ports Qwen3TTSTokenizerV2Encoder, which is transformers' MimiModel
// without its decoder (modeling_mimi.py, transformers 4.57.3): a causal SEANet encoder (ELU,
// zero-padded causal convolutions, strided downsampling), an 8-layer causal transformer, a ×2
// downsampling convolution with replicate padding, then the split residual vector quantizer.
import Foundation
import TTSRuntime

struct SpeechEncoder: Sendable {
    struct ResidualBlock: Sendable {
        let conv1: CausalConv1d   // C -> C/compress, residual kernel, dilated
        let conv2: CausalConv1d   // C/compress -> C, k1
    }

    struct Stage: Sendable {
        let residuals: [ResidualBlock]
        let down: StridedCausalConv1d   // C -> 2C, k = 2·ratio, stride ratio
    }

    /// One residual vector quantizer: an optional 1×1 input projection, then nearest centroids.
    struct Quantizer: Sendable {
        let projection: Matrix?
        let codebooks: [Matrix]        // [size][dim]
        let halfNorms: [[Float]]       // ½‖c‖² per centroid

        /// x [t][hidden] -> codes [t][levels], each level quantizing what the previous left.
        func encode(_ x: [Float], frames t: Int, levels: Int, pool: ThreadPool?) -> [[Int]] {
            var r = x
            if let projection {
                r = [Float](repeating: 0, count: t * projection.rows)
                x.withUnsafeBufferPointer { xb in r.withUnsafeMutableBufferPointer { projection.multiply(xb.baseAddress!, $0.baseAddress!, n: t, pool: pool) } }
            }
            var codes = [[Int]](repeating: [], count: t)
            for level in 0..<levels {
                let book = codebooks[level], norms = halfNorms[level]
                let (size, dim) = (book.rows, book.cols)
                var dots = [Float](repeating: 0, count: t * size)
                r.withUnsafeBufferPointer { rb in dots.withUnsafeMutableBufferPointer { book.multiply(rb.baseAddress!, $0.baseAddress!, n: t, pool: pool) } }
                var centroid = [Float](repeating: 0, count: dim)
                for f in 0..<t {
                    // argmin ‖r - c‖² = argmin ½‖c‖² - r·c; the first of equal distances wins.
                    var best = 0, bestValue = Float.infinity
                    for c in 0..<size {
                        let v = norms[c] - dots[f * size + c]
                        if v < bestValue { bestValue = v; best = c }
                    }
                    codes[f].append(best)
                    centroid.withUnsafeMutableBufferPointer { book.row(best, into: $0.baseAddress!) }
                    for i in 0..<dim { r[f * dim + i] -= centroid[i] }
                }
            }
            return codes
        }
    }

    let config: SpeechEncoderConfiguration
    /// Code groups produced per frame (semantic + acoustic levels kept).
    let validQuantizers: Int
    let inputConv: CausalConv1d
    let stages: [Stage]
    let outputConv: CausalConv1d
    let transformer: TransformerStack
    let downsample: StridedCausalConv1d
    let semantic: Quantizer
    let acoustic: Quantizer

    /// Reference audio is encoded this many SEANet frames at a time, bounding the activations
    /// held at the 24 kHz stages (a whole number of frames, so only the last chunk is partial).
    static let chunkFrames = 25
    /// Transformer positions run per pass (the KV cache keeps every key: attention is full causal).
    static let transformerChunk = 256

    init(weights w: WeightStore, config c: SpeechEncoderConfiguration, validQuantizers: Int) throws {
        config = c
        self.validQuantizers = validQuantizers
        let p = "\(TensorNames.speechEncoderPrefix)encoder.layers"
        var index = 0
        inputConv = try loadConv(w, "\(p).\(index).conv", in: 1, out: c.numFilters, kernel: c.kernelSize)
        index += 1
        var channels = c.numFilters
        var stages: [Stage] = []
        for ratio in c.upsamplingRatios.reversed() {
            var residuals: [ResidualBlock] = []
            for j in 0..<c.numResidualLayers {
                let hidden = channels / c.compress
                var dilation = 1
                for _ in 0..<j { dilation *= c.dilationGrowthRate }
                residuals.append(ResidualBlock(
                    conv1: try loadConv(w, "\(p).\(index).block.1.conv", in: channels, out: hidden, kernel: c.residualKernelSize, dilation: dilation),
                    conv2: try loadConv(w, "\(p).\(index).block.3.conv", in: hidden, out: channels, kernel: 1)))
                index += 1
            }
            index += 1  // ELU
            let name = "\(p).\(index).conv"
            stages.append(Stage(residuals: residuals, down: StridedCausalConv1d(
                weight: try w.floats("\(name).weight", shape: [2 * channels, channels, 2 * ratio]),
                bias: try w.floats("\(name).bias", shape: [2 * channels]),
                inChannels: channels, outChannels: 2 * channels, kernelSize: 2 * ratio, stride: ratio)))
            index += 1
            channels *= 2
        }
        self.stages = stages
        index += 1  // ELU
        outputConv = try loadConv(w, "\(p).\(index).conv", in: channels, out: c.hiddenSize, kernel: c.lastKernelSize)

        let shape = TransformerShape(hidden: c.hiddenSize, heads: c.numAttentionHeads, kvHeads: c.numKeyValueHeads,
                                     headDim: c.headDim, intermediate: c.intermediateSize, eps: Float(c.normEps),
                                     ropeTheta: c.ropeTheta, window: nil)
        let layers = try (0..<c.numHiddenLayers).map {
            try TransformerLayerWeights.loadMimi(w, prefix: "\(TensorNames.speechEncoderPrefix)encoder_transformer.layers.\($0)", shape: shape)
        }
        transformer = TransformerStack(shape: shape, layers: layers, finalNorm: [])

        let down = "\(TensorNames.speechEncoderPrefix)downsample.conv.weight"
        downsample = StridedCausalConv1d(weight: try w.floats(down, shape: [c.hiddenSize, c.hiddenSize, 4]), bias: nil,
                                         inChannels: c.hiddenSize, outChannels: c.hiddenSize, kernelSize: 4, stride: 2)

        func quantizer(_ kind: String, layers: Int, total: Int) throws -> Quantizer {
            let q = "\(TensorNames.speechEncoderPrefix)quantizer.\(kind)_residual_vector_quantizer"
            let dim = c.vectorQuantizationHiddenDimension
            let projection = dim == c.hiddenSize ? nil
                : try w.matrix("\(q).input_proj.weight", rows: dim, cols: c.hiddenSize, extraShape: [1])
            w.skip(prefix: "\(q).output_proj.")  // decoding only
            var books: [Matrix] = [], norms: [[Float]] = []
            for l in 0..<total {
                let prefix = "\(q).layers.\(l).codebook"
                if l >= layers { w.skip(prefix: "\(prefix)."); continue }
                let table = try loadCodebook(w, prefix, size: c.codebookSize, dim: c.codebookDim, sum: "embed_sum")
                _ = try w.floats("\(prefix).initialized", shape: [1])
                books.append(Matrix(floats: table, rows: c.codebookSize, cols: c.codebookDim))
                norms.append((0..<c.codebookSize).map { r in
                    var s: Float = 0
                    for i in 0..<c.codebookDim { s += table[r * c.codebookDim + i] * table[r * c.codebookDim + i] }
                    return s / 2
                })
            }
            return Quantizer(projection: projection, codebooks: books, halfNorms: norms)
        }
        semantic = try quantizer("semantic", layers: 1, total: c.numSemanticQuantizers)
        acoustic = try quantizer("acoustic", layers: validQuantizers - 1, total: c.numQuantizers - c.numSemanticQuantizers)
    }

    /// Mono 24 kHz samples -> ceil(n / 1920) frames of `validQuantizers` codes. `observe` receives
    /// the named stage outputs (token-major, with their channel count).
    func encode(_ audio: [Float], pool: ThreadPool?, observe: ((String, [Float], Int) -> Void)? = nil) -> [[Int]] {
        guard !audio.isEmpty else { return [] }
        let c = config
        // SEANet, chunk by chunk, each convolution carrying its left context.
        var tails = SEANetTails(self)
        var embeddings: [Float] = []
        let chunk = Self.chunkFrames * c.seanetStride
        var offset = 0
        while offset < audio.count {
            let n = min(chunk, audio.count - offset)
            embeddings += seanet(Array(audio[offset..<(offset + n)]), frames: n, tails: &tails, pool: pool)
            offset += n
        }
        let frames25 = embeddings.count / c.hiddenSize
        observe?("seanet", embeddings, c.hiddenSize)

        let cache = transformer.makeCache(capacity: frames25)
        let scratch = TransformerScratch(pool: pool)
        embeddings.withUnsafeMutableBufferPointer { e in
            var start = 0
            while start < frames25 {
                let n = min(Self.transformerChunk, frames25 - start)
                transformer.forward(e.baseAddress! + start * c.hiddenSize, count: n, cache: cache, scratch: scratch)
                start += n
            }
        }
        observe?("transformer", embeddings, c.hiddenSize)

        var downTail = downsample.replicatedTail(of: embeddings[0..<c.hiddenSize])
        let down = downsample.stream(embeddings, frames: frames25, tail: &downTail, replicateEnd: true, pool: pool)
        let frames = down.count / c.hiddenSize
        observe?("downsample", down, c.hiddenSize)

        let first = semantic.encode(down, frames: frames, levels: 1, pool: pool)
        let rest = acoustic.encode(down, frames: frames, levels: validQuantizers - 1, pool: pool)
        return (0..<frames).map { first[$0] + rest[$0] }
    }

    /// One chunk of samples through the SEANet encoder -> [chunk / stride][hidden].
    private func seanet(_ samples: [Float], frames n: Int, tails: inout SEANetTails, pool: ThreadPool?) -> [Float] {
        var x = inputConv.stream(samples, frames: n, tail: &tails.input, pool: pool)
        var t = n
        for (s, stage) in stages.enumerated() {
            for (r, block) in stage.residuals.enumerated() {
                var h = elu(x)
                h = block.conv1.stream(h, frames: t, tail: &tails.residual[s][r], pool: pool)
                h = elu(h)
                h = block.conv2.stream(h, frames: t, tail: &tails.pointwise, pool: pool)
                for i in 0..<x.count { x[i] += h[i] }
            }
            x = stage.down.stream(elu(x), frames: t, tail: &tails.down[s], pool: pool)
            t = (t + stage.down.stride - 1) / stage.down.stride
        }
        return outputConv.stream(elu(x), frames: t, tail: &tails.output, pool: pool)
    }

    /// What each SEANet convolution still needs of its input between chunks.
    struct SEANetTails {
        var input: [Float]
        var residual: [[[Float]]]
        var down: [[Float]]
        var output: [Float]
        var pointwise: [Float] = []

        init(_ e: SpeechEncoder) {
            input = e.inputConv.initialTail()
            residual = e.stages.map { $0.residuals.map { $0.conv1.initialTail() } }
            down = e.stages.map { $0.down.initialTail() }
            output = e.outputConv.initialTail()
        }
    }
}

/// ELU with α = 1: x for x > 0, e^x - 1 otherwise.
func elu(_ x: [Float]) -> [Float] {
    x.map { $0 > 0 ? $0 : Foundation.expm1($0) }
}
