// The speaker encoder of the Base models (spec §9): log-mel frames -> one x-vector.
// Ports Qwen3TTSSpeakerEncoder (modeling_qwen3_tts.py, qwen-tts 0.1.1): an ECAPA-TDNN without
// batch norm whose convolutions all pad "same" by reflection.
import Foundation
import TTSRuntime

/// `speaker_encoder_config` of a Base checkpoint's config.json (shipped values as defaults).
public struct SpeakerEncoderConfiguration: Codable, Sendable, Equatable {
    public var melDim = 128
    public var encDim = 1024
    public var channels = [512, 512, 512, 512, 1536]
    public var kernelSizes = [5, 3, 3, 3, 1]
    public var dilations = [1, 2, 3, 4, 1]
    public var attentionChannels = 128
    public var res2netScale = 8
    public var seChannels = 128

    enum CodingKeys: String, CodingKey {
        case melDim = "mel_dim", encDim = "enc_dim", channels = "enc_channels", kernelSizes = "enc_kernel_sizes"
        case dilations = "enc_dilations", attentionChannels = "enc_attention_channels"
        case res2netScale = "enc_res2net_scale", seChannels = "enc_se_channels"
    }

    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = SpeakerEncoderConfiguration()
        melDim = try c.decodeIfPresent(Int.self, forKey: .melDim) ?? d.melDim
        encDim = try c.decodeIfPresent(Int.self, forKey: .encDim) ?? d.encDim
        channels = try c.decodeIfPresent([Int].self, forKey: .channels) ?? d.channels
        kernelSizes = try c.decodeIfPresent([Int].self, forKey: .kernelSizes) ?? d.kernelSizes
        dilations = try c.decodeIfPresent([Int].self, forKey: .dilations) ?? d.dilations
        attentionChannels = try c.decodeIfPresent(Int.self, forKey: .attentionChannels) ?? d.attentionChannels
        res2netScale = try c.decodeIfPresent(Int.self, forKey: .res2netScale) ?? d.res2netScale
        seChannels = try c.decodeIfPresent(Int.self, forKey: .seChannels) ?? d.seChannels
    }

    func validate() throws {
        func check(_ ok: Bool, _ what: String) throws {
            if !ok { throw ConfigurationError.invalid(path: "config.json", key: "speaker_encoder_config", reason: what) }
        }
        try check(channels.count >= 3 && channels.count == kernelSizes.count && channels.count == dilations.count,
                  "enc_channels, enc_kernel_sizes and enc_dilations must have the same length (at least 3)")
        try check(channels.dropFirst().dropLast().reduce(0, +) == channels.last!, "the last enc_channels must be the sum of the middle ones")
        try check(res2netScale >= 2 && channels.dropFirst().dropLast().allSatisfy { $0 % res2netScale == 0 },
                  "enc_channels must divide into enc_res2net_scale parts")
    }
}

/// A Conv1d with "same" reflect padding, on time-major signals [T][C]: the input is padded by
/// reflection and run through the causal convolution GEMM (as many output rows as input rows).
struct ReflectConv1d: Sendable {
    let inChannels: Int, outChannels: Int, kernel: Int, dilation: Int
    let conv: CausalConv1d
    /// FNV-1a (64-bit) over the weights in [kernel][out][in] order, then the bias: what voice
    /// files record of the final projection (SpeakerEncoder.fingerprint).
    let fingerprint: UInt64

    init(_ store: WeightStore, _ prefix: String, in cin: Int, out cout: Int, kernel k: Int, dilation d: Int) throws {
        let w = try store.floats("\(prefix).weight", shape: [cout, cin, k])
        let bias = try store.floats("\(prefix).bias", shape: [cout])
        conv = CausalConv1d(weight: w, bias: bias, inChannels: cin, outChannels: cout, kernelSize: k, dilation: d)
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ v: Float) {
            var bits = v.bitPattern
            for _ in 0..<4 {
                h = (h ^ UInt64(bits & 0xFF)) &* 0x0000_0100_0000_01B3
                bits >>= 8
            }
        }
        for j in 0..<k { for o in 0..<cout { for i in 0..<cin { mix(w[(o * cin + i) * k + j]) } } }
        for b in bias { mix(b) }
        fingerprint = h
        (inChannels, outChannels, kernel, dilation) = (cin, cout, k, d)
    }

    var padding: Int { dilation * (kernel - 1) }

    func callAsFunction(_ x: [Float], frames t: Int, pool: ThreadPool? = nil) -> [Float] {
        let left = padding / 2, cin = inChannels
        var padded = [Float](repeating: 0, count: (t + padding) * cin)
        x.withUnsafeBufferPointer { xs in
            padded.withUnsafeMutableBufferPointer { ps in
                for r in 0..<(t + padding) {
                    var s = r - left
                    if s < 0 { s = -s } else if s >= t { s = 2 * (t - 1) - s }
                    (ps.baseAddress! + r * cin).update(from: xs.baseAddress! + s * cin, count: cin)
                }
            }
        }
        var y = [Float](repeating: 0, count: t * outChannels)
        padded.withUnsafeBufferPointer { p in
            y.withUnsafeMutableBufferPointer { conv.apply(context: p.baseAddress!, frames: t, into: $0.baseAddress!, pool: pool) }
        }
        return y
    }
}

/// Conv + ReLU.
struct TDNNBlock: Sendable {
    let conv: ReflectConv1d
    init(_ store: WeightStore, _ prefix: String, in cin: Int, out cout: Int, kernel: Int, dilation: Int) throws {
        conv = try ReflectConv1d(store, "\(prefix).conv", in: cin, out: cout, kernel: kernel, dilation: dilation)
    }
    func callAsFunction(_ x: [Float], frames t: Int, pool: ThreadPool?) -> [Float] { conv(x, frames: t, pool: pool).map { max($0, 0) } }
}

/// Columns [lo, lo + n) of a [T][C] signal.
private func columns(_ x: [Float], frames t: Int, channels c: Int, from lo: Int, count n: Int) -> [Float] {
    var out = [Float](repeating: 0, count: t * n)
    for f in 0..<t { for i in 0..<n { out[f * n + i] = x[f * c + lo + i] } }
    return out
}

struct SERes2NetBlock: Sendable {
    let tdnn1: TDNNBlock, tdnn2: TDNNBlock
    let res2net: [TDNNBlock]
    let se1: ReflectConv1d, se2: ReflectConv1d
    let channels: Int, scale: Int

    init(_ store: WeightStore, _ p: String, in cin: Int, out c: Int, scale: Int, se: Int, kernel: Int, dilation: Int) throws {
        tdnn1 = try TDNNBlock(store, "\(p).tdnn1", in: cin, out: c, kernel: 1, dilation: 1)
        res2net = try (0..<(scale - 1)).map {
            try TDNNBlock(store, "\(p).res2net_block.blocks.\($0)", in: c / scale, out: c / scale, kernel: kernel, dilation: dilation)
        }
        tdnn2 = try TDNNBlock(store, "\(p).tdnn2", in: c, out: c, kernel: 1, dilation: 1)
        se1 = try ReflectConv1d(store, "\(p).se_block.conv1", in: c, out: se, kernel: 1, dilation: 1)
        se2 = try ReflectConv1d(store, "\(p).se_block.conv2", in: se, out: c, kernel: 1, dilation: 1)
        (channels, self.scale) = (c, scale)
    }

    func callAsFunction(_ x: [Float], frames t: Int, pool: ThreadPool?) -> [Float] {
        let h = tdnn1(x, frames: t, pool: pool)
        let width = channels / scale
        var mixed = [Float](repeating: 0, count: t * channels)
        var previous: [Float] = []
        for s in 0..<scale {
            var part = columns(h, frames: t, channels: channels, from: s * width, count: width)
            if s >= 1 {
                if s >= 2 { for i in 0..<part.count { part[i] += previous[i] } }
                part = res2net[s - 1](part, frames: t, pool: pool)
            }
            for f in 0..<t { for i in 0..<width { mixed[f * channels + s * width + i] = part[f * width + i] } }
            previous = part
        }
        var y = tdnn2(mixed, frames: t, pool: pool)
        // Squeeze-excitation: channel means -> 1x1 + ReLU -> 1x1 + sigmoid -> channel gains.
        var mean = [Float](repeating: 0, count: channels)
        for f in 0..<t { for c in 0..<channels { mean[c] += y[f * channels + c] } }
        for c in 0..<channels { mean[c] /= Float(t) }
        let gains = se2(se1(mean, frames: 1).map { max($0, 0) }, frames: 1).map { 1 / (1 + exp(-$0)) }
        for f in 0..<t { for c in 0..<channels { y[f * channels + c] = y[f * channels + c] * gains[c] + x[f * channels + c] } }
        return y
    }
}

/// Log-mel frames [T][melDim] -> x-vector [encDim].
public struct SpeakerEncoder: Sendable {
    public let configuration: SpeakerEncoderConfiguration
    let first: TDNNBlock
    let blocks: [SERes2NetBlock]
    let mfa: TDNNBlock
    let aspTDNN: TDNNBlock, aspConv: ReflectConv1d
    let fc: ReflectConv1d
    /// Identifies the checkpoint's x-vector space (voice files record it).
    public let fingerprint: String

    /// Loads `<prefix>blocks.*`, `mfa`, `asp`, `fc` (the checkpoint's `speaker_encoder.` tensors).
    public init(weights store: WeightStore, config c: SpeakerEncoderConfiguration, prefix: String = "speaker_encoder.") throws {
        try c.validate()
        configuration = c
        first = try TDNNBlock(store, "\(prefix)blocks.0", in: c.melDim, out: c.channels[0], kernel: c.kernelSizes[0], dilation: c.dilations[0])
        blocks = try (1..<(c.channels.count - 1)).map { i in
            try SERes2NetBlock(store, "\(prefix)blocks.\(i)", in: c.channels[i - 1], out: c.channels[i], scale: c.res2netScale,
                               se: c.seChannels, kernel: c.kernelSizes[i], dilation: c.dilations[i])
        }
        let last = c.channels.last!
        mfa = try TDNNBlock(store, "\(prefix)mfa", in: last, out: last, kernel: c.kernelSizes.last!, dilation: c.dilations.last!)
        aspTDNN = try TDNNBlock(store, "\(prefix)asp.tdnn", in: 3 * last, out: c.attentionChannels, kernel: 1, dilation: 1)
        aspConv = try ReflectConv1d(store, "\(prefix)asp.conv", in: c.attentionChannels, out: last, kernel: 1, dilation: 1)
        fc = try ReflectConv1d(store, "\(prefix)fc", in: 2 * last, out: c.encDim, kernel: 1, dilation: 1)
        fingerprint = String(fc.fingerprint, radix: 16)
    }

    /// The smallest number of mel frames the reflect padding allows.
    public var minimumFrames: Int {
        let pads = zip(configuration.kernelSizes, configuration.dilations).map { ($0 - 1) * $1 }
        return (pads.max() ?? 0) / 2 + (pads.max() ?? 0) % 2 + 1
    }

    /// Each block's output [T][C] (for tests), then the x-vector.
    public func run(mel: [Float], frames t: Int, pool: ThreadPool? = nil) throws -> (blocks: [[Float]], xvector: [Float]) {
        guard t >= minimumFrames else {
            throw SynthesisError.invalidOption(name: "reference audio", reason: "is too short: \(t) mel frames, at least \(minimumFrames) needed")
        }
        precondition(mel.count == t * configuration.melDim, "mel frames do not match the mel width")
        var outputs = [first(mel, frames: t, pool: pool)]
        for b in blocks { outputs.append(b(outputs.last!, frames: t, pool: pool)) }
        // Multi-layer aggregation of the SE-Res2Net outputs.
        let last = configuration.channels.last!
        var cat = [Float](repeating: 0, count: t * last)
        var offset = 0
        for o in outputs.dropFirst() {
            let c = o.count / t
            for f in 0..<t { for i in 0..<c { cat[f * last + offset + i] = o[f * c + i] } }
            offset += c
        }
        let h = mfa(cat, frames: t, pool: pool)
        let pooled = attentiveStatistics(h, frames: t, channels: last, pool: pool)
        return (outputs, fc(pooled, frames: 1))
    }

    /// Mean and standard deviation over time weighted by a per-channel softmax attention whose
    /// input is each frame beside the utterance's plain mean and deviation.
    func attentiveStatistics(_ x: [Float], frames t: Int, channels c: Int, pool: ThreadPool?) -> [Float] {
        func stats(_ weight: (Int, Int) -> Float) -> (mean: [Float], std: [Float]) {
            var mean = [Float](repeating: 0, count: c), std = [Float](repeating: 0, count: c)
            for f in 0..<t { for i in 0..<c { mean[i] += weight(f, i) * x[f * c + i] } }
            for f in 0..<t { for i in 0..<c { let d = x[f * c + i] - mean[i]; std[i] += weight(f, i) * d * d } }
            return (mean, std.map { max($0, 1e-12).squareRoot() })
        }
        let global = stats { _, _ in 1 / Float(t) }
        var context = [Float](repeating: 0, count: t * 3 * c)
        for f in 0..<t {
            for i in 0..<c {
                context[f * 3 * c + i] = x[f * c + i]
                context[f * 3 * c + c + i] = global.mean[i]
                context[f * 3 * c + 2 * c + i] = global.std[i]
            }
        }
        var scores = aspConv(aspTDNN(context, frames: t, pool: pool).map { tanh($0) }, frames: t, pool: pool)
        for i in 0..<c {  // softmax over time, per channel
            var m = -Float.infinity
            for f in 0..<t { m = max(m, scores[f * c + i]) }
            var sum: Float = 0
            for f in 0..<t { scores[f * c + i] = exp(scores[f * c + i] - m); sum += scores[f * c + i] }
            for f in 0..<t { scores[f * c + i] /= sum }
        }
        let weighted = stats { f, i in scores[f * c + i] }
        return weighted.mean + weighted.std
    }
}
