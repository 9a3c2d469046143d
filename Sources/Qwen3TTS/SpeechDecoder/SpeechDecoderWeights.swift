// Loading of the speech tokenizer decoder's weights (speech_tokenizer/model.safetensors, `decoder.*`).
import CTTSKernels
import Foundation
import TTSRuntime

/// SnakeBeta, stored as logs; kept as a = exp(log_alpha) and 1 / (exp(log_beta) + 1e-9).
struct SnakeBeta: Sendable {
    let a: [Float]
    let inverseB: [Float]

    init(_ w: WeightStore, prefix: String, channels: Int) throws {
        a = try w.floats("\(prefix).alpha", shape: [channels]).map { Foundation.exp($0) }
        inverseB = try w.floats("\(prefix).beta", shape: [channels]).map { 1 / (Foundation.exp($0) + 1e-9) }
    }

    /// Token-major x [t][channels] -> y (may be x).
    func run(_ xp: UnsafePointer<Float>, _ yp: UnsafeMutablePointer<Float>, frames t: Int, pool: ThreadPool?) {
        let c = a.count
        let (a, b) = (self.a, self.inverseB)
        forTokenRanges(t, work: t * c * 16, pool: pool) { lo, hi in
            a.withUnsafeBufferPointer { ab in
                b.withUnsafeBufferPointer { bb in
                    tts_snake_tm_f32(xp, yp, ab.baseAddress!, bb.baseAddress!, Int64(c), Int64(lo), Int64(hi))
                }
            }
        }
    }
}

/// ConvNeXt block used after each 2x upsampling: causal depthwise conv k7, LayerNorm, MLP, gamma.
struct ConvNeXtBlock: Sendable {
    let depthwise: CausalDepthwiseConv1d
    let normWeight: [Float], normBias: [Float]
    /// The pointwise linears as kernel-1 convs (the packed conv GEMM), pw2 with gamma folded
    /// into its rows and bias: x + gamma ⊙ (W2 h + b2) = x + (gamma ⊙ W2) h + gamma ⊙ b2.
    let pw1: CausalConv1d, pw2: CausalConv1d

    init(_ w: WeightStore, prefix: String, channels c: Int) throws {
        depthwise = CausalDepthwiseConv1d(weight: try w.floats("\(prefix).dwconv.conv.weight", shape: [c, 1, 7]),
                                          bias: try w.floats("\(prefix).dwconv.conv.bias", shape: [c]),
                                          channels: c, kernelSize: 7)
        normWeight = try w.floats("\(prefix).norm.weight", shape: [c])
        normBias = try w.floats("\(prefix).norm.bias", shape: [c])
        pw1 = CausalConv1d(weight: try w.floats("\(prefix).pwconv1.weight", shape: [4 * c, c]),
                           bias: try w.floats("\(prefix).pwconv1.bias", shape: [4 * c]), inChannels: c, outChannels: 4 * c, kernelSize: 1)
        let gamma = try w.floats("\(prefix).gamma", shape: [c])
        var w2 = try w.floats("\(prefix).pwconv2.weight", shape: [c, 4 * c]), b2 = try w.floats("\(prefix).pwconv2.bias", shape: [c])
        for o in 0..<c {
            for i in 0..<(4 * c) { w2[o * 4 * c + i] *= gamma[o] }
            b2[o] *= gamma[o]
        }
        pw2 = CausalConv1d(weight: w2, bias: b2, inChannels: 4 * c, outChannels: c, kernelSize: 1)
    }
}

/// Residual unit: x + conv2(snake2(conv1(snake1(x)))), conv1 k7 dilated, conv2 k1.
struct ResidualUnit: Sendable {
    let snake1: SnakeBeta, conv1: CausalConv1d, snake2: SnakeBeta, conv2: CausalConv1d

    init(_ w: WeightStore, prefix: String, channels c: Int, dilation: Int, precision: ConvPrecision) throws {
        snake1 = try SnakeBeta(w, prefix: "\(prefix).act1", channels: c)
        // Winograd takes 13/28 of the products of the decoder's dominant convolutions (f32 only).
        let fast: ConvAlgorithm = precision == .f32 ? .winograd : .direct
        conv1 = try loadConv(w, "\(prefix).conv1.conv", in: c, out: c, kernel: 7, dilation: dilation, precision: precision,
                             algorithm: fast)
        snake2 = try SnakeBeta(w, prefix: "\(prefix).act2", channels: c)
        conv2 = try loadConv(w, "\(prefix).conv2.conv", in: c, out: c, kernel: 1, precision: precision)
    }
}

/// One upsampling block of the conv decoder: SnakeBeta → transposed conv (×rate) → 3 residual units.
struct DecoderBlock: Sendable {
    let snake: SnakeBeta
    let upsample: CausalConvTranspose1d
    let units: [ResidualUnit]

    init(_ w: WeightStore, prefix: String, in cin: Int, out cout: Int, rate: Int, precision: ConvPrecision) throws {
        snake = try SnakeBeta(w, prefix: "\(prefix).block.0", channels: cin)
        upsample = try loadTransposed(w, "\(prefix).block.1.conv", in: cin, out: cout, kernel: 2 * rate, stride: rate)
        precondition(upsample.phases.history == 1, "a decoder block's transposed conv keeps one row of history")
        units = try [1, 3, 9].enumerated().map { i, d in
            try ResidualUnit(w, prefix: "\(prefix).block.\(i + 2)", channels: cout, dilation: d, precision: precision)
        }
    }
}

func loadConv(_ w: WeightStore, _ prefix: String, in cin: Int, out cout: Int, kernel: Int, dilation: Int = 1, bias: Bool = true,
              precision: ConvPrecision = .f32, algorithm: ConvAlgorithm = .direct) throws -> CausalConv1d {
    CausalConv1d(weight: try w.floats("\(prefix).weight", shape: [cout, cin, kernel]),
                 bias: bias ? try w.floats("\(prefix).bias", shape: [cout]) : nil,
                 inChannels: cin, outChannels: cout, kernelSize: kernel, dilation: dilation, precision: precision,
                 algorithm: algorithm)
}

func loadTransposed(_ w: WeightStore, _ prefix: String, in cin: Int, out cout: Int, kernel: Int, stride: Int) throws -> CausalConvTranspose1d {
    CausalConvTranspose1d(weight: try w.floats("\(prefix).weight", shape: [cin, cout, kernel]),
                          bias: try w.floats("\(prefix).bias", shape: [cout]),
                          inChannels: cin, outChannels: cout, kernelSize: kernel, stride: stride)
}

/// Codebook vectors as one [size][dim] table: centroids = sum / max(cluster_usage, 1e-5); `sum` names the running-sum tensor
/// (`embedding_sum` in the decoder, `embed_sum` in the Mimi encoder).
func loadCodebook(_ w: WeightStore, _ prefix: String, size: Int, dim: Int, sum: String = "embedding_sum") throws -> [Float] {
    var table = try w.floats("\(prefix).\(sum)", shape: [size, dim])
    let usage = try w.floats("\(prefix).cluster_usage", shape: [size])
    for r in 0..<size {
        let u = max(usage[r], 1e-5)
        for c in 0..<dim { table[r * dim + c] /= u }
    }
    return table
}
