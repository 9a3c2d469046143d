// Causal 1-D convolutions over token-major signals [time][channels], one GEMM per kernel tap.
import CTTSKernels

/// Splits [0, t) over the pool's threads (in multiples of 8 tokens) when there is enough work.
public func forTokenRanges(_ t: Int, work: Int, pool: ThreadPool?, _ body: @escaping (Int, Int) -> Void) {
    splitWork(t, granularity: 8, work: t >= 8 ? work : 0, threshold: 65_536, pool: pool, body)
}

/// Arithmetic of a convolution's products: f32, or bf16 weights and activations with f32 sums
/// (half the weight memory; AVX-512 BF16 dot products where the CPU has them).
public enum ConvPrecision: String, Sendable, CaseIterable {
    case f32, bf16
}

/// How a convolution computes its products.
public enum ConvAlgorithm: String, Sendable {
    /// One GEMM over all taps.
    case direct
    /// Kernel 7 in f32 only: Winograd F(4,4) over two 4-tap groups (`tts_conv7_wino_f32`), 13/28
    /// of the products of `direct`, equal to it up to rounding.
    case winograd
}

/// A causal Conv1d (stride 1): output frame t sees input frames t - (k-1)*dilation ... t.
/// Weights are packed in blocks of 32 output channels (`tts_conv_pack_f32`, or
/// `tts_conv_pack_bf16` in bf16), so the conv GEMM streams each block's taps in order; with
/// `.winograd`, as seven transformed convs packed the same way (six of kernel 2, one of kernel 1).
public struct CausalConv1d: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let dilation: Int
    public let precision: ConvPrecision
    public let algorithm: ConvAlgorithm
    let taps: ByteStorage   // the packed weights of `precision` and `algorithm`
    let bias: [Float]?

    /// `weight` in PyTorch layout [out][in][k].
    public init(weight: [Float], bias: [Float]?, inChannels: Int, outChannels: Int, kernelSize: Int, dilation: Int = 1,
                precision: ConvPrecision = .f32, algorithm: ConvAlgorithm = .direct) {
        precondition(weight.count == outChannels * inChannels * kernelSize, "conv weight does not match its shape")
        precondition(algorithm == .direct || (kernelSize == 7 && precision == .f32), "Winograd convs are f32 kernel 7")
        let (cin, cout, k) = (Int64(inChannels), Int64(outChannels), Int64(kernelSize))
        taps = weight.withUnsafeBufferPointer { w in
            switch precision {
            case .f32 where algorithm == .winograd:
                let n = Int(tts_conv7_wino_packed_count(cin, cout))
                return ByteStorage(count: n * 4) { tts_conv7_wino_pack_f32(w.baseAddress!, $0.assumingMemoryBound(to: Float.self), cin, cout) }
            case .f32:
                let n = Int(tts_conv_packed_count(cin, cout, k))
                return ByteStorage(count: n * 4) { tts_conv_pack_f32(w.baseAddress!, $0.assumingMemoryBound(to: Float.self), cin, cout, k) }
            case .bf16:
                let n = Int(tts_conv_packed_count_bf16(cin, cout, k))
                return ByteStorage(count: n * 2) { tts_conv_pack_bf16(w.baseAddress!, $0.assumingMemoryBound(to: UInt16.self), cin, cout, k) }
            }
        }
        self.bias = bias
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.dilation = dilation
        self.precision = precision
        self.algorithm = algorithm
    }

    /// Frames of left context the convolution looks at.
    public var history: Int { (kernelSize - 1) * dilation }

    /// Bytes of packed weights.
    public var weightBytes: Int { taps.count }

    /// x: [history + t][in] (the first `history` rows are left context) -> y: [t][out], plus
    /// `residual` [t][out] when given, which may be y itself (the direct f32 GEMM adds it as it
    /// writes each output; the other paths convolve into a buffer and add in a pass after).
    public func apply(context x: UnsafePointer<Float>, frames t: Int, into y: UnsafeMutablePointer<Float>,
                      adding residual: UnsafePointer<Float>? = nil, pool: ThreadPool?) {
        if let residual, precision != .f32 || algorithm != .direct {
            // The residual may be y itself: convolve into a buffer, then add.
            let n = t * outChannels
            let out = UnsafeMutablePointer<Float>.allocate(capacity: n)
            defer { out.deallocate() }
            apply(context: x, frames: t, into: out, pool: pool)
            for i in 0..<n { y[i] = out[i] + residual[i] }
            return
        }
        let (cin, cout, k, d) = (Int64(inChannels), Int64(outChannels), Int64(kernelSize), Int64(dilation))
        let work = t * inChannels * outChannels * kernelSize
        let b = bias
        switch precision {
        case .f32 where algorithm == .winograd:
            applyWinograd(context: x, frames: t, into: y, pool: pool)
        case .f32:
            let w = taps.pointer.assumingMemoryBound(to: Float.self)
            if splitsByChannels(frames: t) {
                splitWork((outChannels + 31) / 32, granularity: 1, work: work, threshold: 65_536, pool: pool) { lo, hi in
                    b.withOptionalPointer {
                        tts_conv_gemm_f32(x, w, $0, y, cin, cout, k, d, 0, Int64(t), Int64(lo * 32), min(Int64(hi * 32), cout), residual)
                    }
                }
            } else {
                forTokenRanges(t, work: work, pool: pool) { lo, hi in
                    b.withOptionalPointer { tts_conv_gemm_f32(x, w, $0, y, cin, cout, k, d, Int64(lo), Int64(hi), 0, cout, residual) }
                }
            }
        case .bf16:
            // Activations rounded to bf16 pairs once, then the bf16 GEMM.
            let rows = t + history, pairs = (inChannels + 1) / 2
            var xb = [UInt32](repeating: 0, count: rows * pairs)
            xb.withUnsafeMutableBufferPointer { tts_bf16_pairs(x, $0.baseAddress!, Int64(rows), cin) }
            let w = taps.pointer.assumingMemoryBound(to: UInt16.self)
            xb.withUnsafeBufferPointer { xbp in
                let xp = xbp.baseAddress!
                forTokenRanges(t, work: work, pool: pool) { lo, hi in
                    b.withOptionalPointer { tts_conv_gemm_bf16(xp, w, $0, y, cin, cout, k, d, Int64(lo), Int64(hi)) }
                }
            }
        }
    }
}

extension CausalConv1d {
    /// Whether `apply` splits its work across threads by 32-channel blocks rather than by
    /// tokens: when the weights outweigh the input rows, each thread would otherwise read all
    /// the weights for a few tokens (the decoder's first blocks, and streams decoding a frame or
    /// two at a time).
    func splitsByChannels(frames t: Int) -> Bool {
        weightBytes > (t + history) * inChannels * 4 && outChannels > 32
    }

    /// The Winograd path of `apply`: parts of the work, each with its own scratch, split as the
    /// direct GEMM splits (by output-channel blocks when the weights outweigh the input rows,
    /// else by tile blocks of 4*dilation frames).
    private func applyWinograd(context x: UnsafePointer<Float>, frames t: Int, into y: UnsafeMutablePointer<Float>,
                               pool: ThreadPool?) {
        let (cin, cout, d) = (Int64(inChannels), Int64(outChannels), Int64(dilation))
        let tiles = Int(tts_conv7_wino_blocks(Int64(t), d))
        let channelBlocks = (outChannels + 31) / 32
        let byChannels = splitsByChannels(frames: t)
        let units = byChannels ? channelBlocks : tiles
        let threads = pool?.threadCount ?? 1
        let work = t * inChannels * outChannels * 4
        // Channel parts each transform the whole input into their own scratch: one per thread.
        let parts = threads > 1 && work >= 65_536 ? min(units, byChannels ? threads : 2 * threads) : 1
        let scratchCount = Int(tts_conv7_wino_scratch_count(cin, cout, d, Int64(byChannels ? tiles : (tiles + parts - 1) / parts)))
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: parts * scratchCount)
        defer { scratch.deallocate() }
        let w = taps.pointer.assumingMemoryBound(to: Float.self), b = bias
        let body: (Int) -> Void = { part in
            let lo = units * part / parts, hi = units * (part + 1) / parts
            guard lo < hi else { return }
            let s = scratch + part * scratchCount
            b.withOptionalPointer { bp in
                if byChannels {
                    tts_conv7_wino_f32(x, w, bp, y, cin, cout, d, Int64(t), 0, Int64(tiles), Int64(lo * 32), min(Int64(hi * 32), cout), s)
                } else {
                    tts_conv7_wino_f32(x, w, bp, y, cin, cout, d, Int64(t), Int64(lo), Int64(hi), 0, cout, s)
                }
            }
        }
        if parts > 1, let pool { pool.parallelFor(parts, body) } else { body(0) }
    }
}

extension Optional where Wrapped == [Float] {
    /// The array's base address, or nil.
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .some(let a): return a.withUnsafeBufferPointer { body($0.baseAddress!) }
        case .none: return body(nil)
        }
    }
}

/// A causal depthwise Conv1d (groups == channels, stride 1, dilation 1). Weights [k][channels].
public struct CausalDepthwiseConv1d: Sendable {
    public let channels: Int
    public let kernelSize: Int
    let taps: [Float]
    let bias: [Float]?

    /// `weight` in PyTorch layout [channels][1][k].
    public init(weight: [Float], bias: [Float]?, channels: Int, kernelSize: Int) {
        precondition(weight.count == channels * kernelSize, "depthwise conv weight does not match its shape")
        var t = [Float](repeating: 0, count: weight.count)
        for c in 0..<channels { for j in 0..<kernelSize { t[j * channels + c] = weight[c * kernelSize + j] } }
        taps = t
        self.bias = bias
        self.channels = channels
        self.kernelSize = kernelSize
    }

    public var history: Int { kernelSize - 1 }
}

/// A causal ConvTranspose1d (stride s, kernel k with s <= k <= 2s): the full output is trimmed
/// on the right by k - s, so T input frames give T*s output frames.
///
/// Output frame t*s + m is bias + tap m applied to x[t] + tap m+s applied to x[t-1]. Read with the
/// s output frames of step t side by side ([t][s*out]), that is one causal Conv1d of kernel 2
/// (kernel 1 when k = s) over x with s*out output channels, so it runs on the packed conv GEMM
/// like every other convolution: one pass, each output summed in registers, written once.
public struct CausalConvTranspose1d: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let stride: Int
    /// The s output phases as one causal conv over (x[t-1], x[t]): [t][in] -> [t][s*out], which
    /// is [t*s][out]. With k > s its one row of history is the previous input row.
    public let phases: CausalConv1d

    /// `weight` in PyTorch layout [in][out][k].
    public init(weight: [Float], bias: [Float], inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int) {
        precondition(weight.count == inChannels * outChannels * kernelSize, "transposed conv weight does not match its shape")
        precondition(kernelSize >= stride && kernelSize <= 2 * stride, "transposed conv kernel must lie in [stride, 2*stride]")
        let (cin, cout, k, s) = (inChannels, outChannels, kernelSize, stride)
        let taps = k > s ? 2 : 1
        // [s*out][in][taps] in PyTorch conv layout; with two taps, tap 0 meets x[t-1] (original
        // tap m+s, zero where m+s >= k) and tap 1 meets x[t] (original tap m).
        var w = [Float](repeating: 0, count: s * cout * cin * taps)
        weight.withUnsafeBufferPointer { src in
            w.withUnsafeMutableBufferPointer { dst in
                // Each (o, i) reads its k taps from one place and writes s sequential streams.
                for o in 0..<cout {
                    for i in 0..<cin {
                        let from = (i * cout + o) * k
                        for m in 0..<s {
                            let to = ((m * cout + o) * cin + i) * taps
                            dst[to + taps - 1] = src[from + m]
                            if taps == 2 && m + s < k { dst[to] = src[from + m + s] }
                        }
                    }
                }
            }
        }
        phases = CausalConv1d(weight: w, bias: (0..<s).flatMap { _ in bias }, inChannels: cin, outChannels: s * cout,
                              kernelSize: taps)
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
    }
}

// MARK: - Streaming: each convolution carries the input rows it still needs.

extension CausalConv1d {
    /// A zero tail: the state before the first frame (equal to one-shot zero padding).
    public func initialTail() -> [Float] { [Float](repeating: 0, count: history * inChannels) }

    /// x [t][in] continuing a stream whose last `history` input rows are `tail` -> [t][out];
    /// `tail` becomes the last `history` rows seen.
    public func stream(_ x: [Float], frames t: Int, tail: inout [Float], pool: ThreadPool? = nil) -> [Float] {
        precondition(x.count == inChannels * t && tail.count == history * inChannels, "streaming conv input does not match its shape")
        // The kernel writes every output: no zero fill; a pointwise conv needs no context copy.
        let context = history == 0 ? x : tail + x
        let y = [Float](unsafeUninitializedCapacity: t * outChannels) { buffer, count in
            context.withUnsafeBufferPointer { apply(context: $0.baseAddress!, frames: t, into: buffer.baseAddress!, pool: pool) }
            count = t * outChannels
        }
        if history > 0 { tail = Array(context[(context.count - history * inChannels)...]) }
        return y
    }
}

extension CausalDepthwiseConv1d {
    public func initialTail() -> [Float] { [Float](repeating: 0, count: history * channels) }

    /// Streaming form of `callAsFunction` (see CausalConv1d.stream).
    public func stream(_ x: [Float], frames t: Int, tail: inout [Float]) -> [Float] {
        precondition(x.count == channels * t && tail.count == history * channels, "streaming depthwise conv input does not match its shape")
        let context = tail + x
        var y = [Float](repeating: 0, count: t * channels)
        context.withUnsafeBufferPointer { p in
            taps.withUnsafeBufferPointer { w in
                y.withUnsafeMutableBufferPointer { yb in
                    (bias ?? []).withUnsafeBufferPointer { b in
                        tts_depthwise_conv_f32(p.baseAddress!, w.baseAddress!, bias == nil ? nil : b.baseAddress!, yb.baseAddress!,
                                               Int64(channels), Int64(kernelSize), 0, Int64(t))
                    }
                }
            }
        }
        tail = Array(context[(context.count - history * channels)...])
        return y
    }
}

extension CausalConvTranspose1d {
    /// The previous input row before the first frame: zeros.
    public func initialTail() -> [Float] { [Float](repeating: 0, count: inChannels) }

    /// x [t][in] -> [t*stride][out]; `previous` is x[-1] (the last input of the previous call)
    /// and becomes x[t-1].
    public func stream(_ x: [Float], frames t: Int, previous: inout [Float], pool: ThreadPool? = nil) -> [Float] {
        precondition(x.count == inChannels * t && previous.count == inChannels, "streaming transposed conv input does not match its shape")
        let context = phases.history == 0 ? x : previous + x  // row r is x[r-1]
        let y = [Float](unsafeUninitializedCapacity: t * stride * outChannels) { yb, count in
            context.withUnsafeBufferPointer { phases.apply(context: $0.baseAddress!, frames: t, into: yb.baseAddress!, pool: pool) }
            count = t * stride * outChannels
        }
        previous = Array(x[((t - 1) * inChannels)...])
        return y
    }
}

/// A causal Conv1d with stride s and a kernel that is a whole number of strides (SEANet's k = 2s
/// downsampling convolutions). Left padding is k - s; a partial last frame is completed on the
/// right. Every s input rows [s][in] are one row of s*in channels, so this is a stride-1 causal
/// convolution with k/s taps over the folded signal, run by the same GEMM kernel.
public struct StridedCausalConv1d: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let stride: Int
    let folded: CausalConv1d

    /// `weight` in PyTorch layout [out][in][k], with k a multiple of `stride`.
    public init(weight: [Float], bias: [Float]?, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int) {
        precondition(stride > 0 && kernelSize % stride == 0, "strided conv kernel must be a multiple of its stride")
        precondition(weight.count == outChannels * inChannels * kernelSize, "conv weight does not match its shape")
        let taps = kernelSize / stride, foldedIn = stride * inChannels
        var w = [Float](repeating: 0, count: outChannels * foldedIn * taps)
        for o in 0..<outChannels {
            for j in 0..<stride {
                for i in 0..<inChannels {
                    for a in 0..<taps {
                        w[(o * foldedIn + j * inChannels + i) * taps + a] = weight[(o * inChannels + i) * kernelSize + a * stride + j]
                    }
                }
            }
        }
        folded = CausalConv1d(weight: w, bias: bias, inChannels: foldedIn, outChannels: outChannels, kernelSize: taps)
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.stride = stride
    }

    /// Zero left padding: the state before the first frame.
    public func initialTail() -> [Float] { folded.initialTail() }

    /// Left padding that repeats `row` (PyTorch's "replicate" mode).
    public func replicatedTail(of row: ArraySlice<Float>) -> [Float] {
        precondition(row.count == inChannels, "replicated row does not match the input width")
        let rows = folded.history * stride
        return [Float]((0..<rows).map { _ in row }.joined())
    }

    /// x [t][in] continuing a stream -> [ceil(t/s)][out]. Only the final call of a stream may
    /// have t not divisible by s: its last frame is completed with zero rows, or with copies of
    /// the last row when `replicateEnd` is set.
    public func stream(_ x: [Float], frames t: Int, tail: inout [Float], replicateEnd: Bool = false, pool: ThreadPool? = nil) -> [Float] {
        precondition(x.count == t * inChannels, "strided conv input does not match its shape")
        let frames = (t + stride - 1) / stride
        var padded = x
        let missing = frames * stride - t
        if missing > 0 {
            if replicateEnd && t > 0 {
                let last = x[((t - 1) * inChannels)...]
                for _ in 0..<missing { padded.append(contentsOf: last) }
            } else {
                padded.append(contentsOf: repeatElement(0, count: missing * inChannels))
            }
        }
        return folded.stream(padded, frames: frames, tail: &tail, pool: pool)
    }
}
