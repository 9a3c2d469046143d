// Every SIMD kernel against its scalar `_ref` twin, on odd shapes, for each instruction set this
// machine supports. Bound: max |simd - ref| / max(1, |ref|) <= 1e-5 (f32 accumulation order only).
import CTTSKernels
import Foundation
import Testing

typealias MatmulF32 = @convention(c) (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int64, Int64, Int64, Int64, Int64) -> Void
typealias MatmulBF16 = @convention(c) (UnsafePointer<UInt16>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int64, Int64, Int64, Int64, Int64) -> Void

struct ISAKernels: Sendable {
    let name: String
    let matmulF32: MatmulF32
    let matmulBF16: MatmulBF16
}

/// The SIMD implementations available on this machine.
let simdKernels: [ISAKernels] = {
    var list: [ISAKernels] = []
    #if arch(x86_64)
    if tts_cpu_supports(Int32(TTS_ISA_AVX2)) != 0 {
        list.append(ISAKernels(name: "avx2", matmulF32: tts_matmul_f32_avx2, matmulBF16: tts_matmul_bf16_avx2))
    }
    if tts_cpu_supports(Int32(TTS_ISA_AVX512)) != 0 {
        list.append(ISAKernels(name: "avx512", matmulF32: tts_matmul_f32_avx512, matmulBF16: tts_matmul_bf16_avx512))
    }
    #elseif arch(arm64)
    list.append(ISAKernels(name: "neon", matmulF32: tts_matmul_f32_neon, matmulBF16: tts_matmul_bf16_neon))
    #endif
    return list
}()

/// max |a - b| / max(1, |b|); infinity for a NaN or a length mismatch (max() would skip NaNs).
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).reduce(0) { worst, pair in
        let e = abs(pair.0 - pair.1) / max(1, abs(pair.1))
        return e.isNaN ? .infinity : max(worst, e)
    }
}

@Suite(.tags(.numerical)) struct SIMDTwinTests {
    static let shapes: [(rows: Int, cols: Int, n: Int)] = [(1, 1, 1), (3, 5, 1), (17, 31, 2), (33, 129, 3), (64, 1024, 1), (5, 48, 7), (130, 97, 5)]

    @Test func thisMachineHasSIMDPaths() {
        #if arch(x86_64) || arch(arm64)
        #expect(!simdKernels.isEmpty, "no AVX2/AVX-512 path is available, so the SIMD kernels went untested")
        #endif
    }

    @Test(arguments: shapes)
    func matmulMatchesRef(shape: (rows: Int, cols: Int, n: Int)) {
        let (rows, cols, n) = shape
        var rng = TestRandom(state: UInt64(rows * 7919 + cols * 31 + n))
        let w = rng.array(rows * cols), x = rng.array(cols * n)
        let wb = w.map { tts_f32_to_bf16($0) }
        var ref = [Float](repeating: 0, count: rows * n), refB = ref
        tts_matmul_f32_ref(w, x, &ref, Int64(rows), Int64(cols), Int64(n), 0, Int64(rows))
        tts_matmul_bf16_ref(wb, x, &refB, Int64(rows), Int64(cols), Int64(n), 0, Int64(rows))
        for k in simdKernels {
            var y = [Float](repeating: .nan, count: rows * n), yb = y
            k.matmulF32(w, x, &y, Int64(rows), Int64(cols), Int64(n), 0, Int64(rows))
            k.matmulBF16(wb, x, &yb, Int64(rows), Int64(cols), Int64(n), 0, Int64(rows))
            #expect(relativeError(y, ref) <= 1e-5, "\(k.name) f32 \(shape)")
            #expect(relativeError(yb, refB) <= 1e-5, "\(k.name) bf16 \(shape)")
            // A row range computes exactly those rows.
            if rows > 4 {
                var part = [Float](repeating: -9, count: rows * n)
                k.matmulF32(w, x, &part, Int64(rows), Int64(cols), Int64(n), 2, Int64(rows - 1))
                for t in 0..<n {
                    #expect(part[t * rows] == -9 && part[t * rows + rows - 1] == -9)
                    #expect(abs(part[t * rows + 2] - ref[t * rows + 2]) <= 1e-5 * max(1, abs(ref[t * rows + 2])))
                }
            }
        }
    }

    @Test func depthwiseConvAndSnakeMatchNaive() {
        let c = 5, k = 3, t = 6
        var rng = TestRandom(state: 77)
        let x = rng.array((t + k - 1) * c), w = rng.array(k * c), b = rng.array(c)
        var y = [Float](repeating: 0, count: t * c)
        tts_depthwise_conv_f32(x, w, b, &y, Int64(c), Int64(k), 0, Int64(t))
        for tt in 0..<t { for ch in 0..<c {
            var s = b[ch]
            for j in 0..<k { s += w[j * c + ch] * x[(tt + j) * c + ch] }
            #expect(abs(y[tt * c + ch] - s) < 1e-6)
        } }
        let a: [Float] = (0..<c).map { Float($0) * 0.3 + 0.5 }, ib: [Float] = (0..<c).map { 1 / (Float($0) + 1) }
        var z = [Float](repeating: 0, count: t * c)
        tts_snake_tm_f32(y, &z, a, ib, Int64(c), 0, Int64(t))
        for i in 0..<(t * c) {
            let s: Float = sinf(y[i] * a[i % c])
            let expected: Float = y[i] + s * s * ib[i % c]
            #expect(abs(z[i] - expected) < 1e-6)
        }
    }

    @Test func dispatchCanBeForced() {
        // The active path is a supported one, and selecting an unsupported one changes nothing.
        let active = tts_active_isa()
        #expect(tts_cpu_supports(active) != 0)
        #if arch(x86_64)
        #expect(tts_select_isa(Int32(TTS_ISA_NEON)) == 0)
        #expect(tts_active_isa() == active)
        #endif
    }
}

@Suite(.tags(.numerical)) struct Q8Tests {
    @Test func f16RoundTripsEveryFiniteValue() {
        for h in 0..<65536 {
            let f = tts_f16_to_f32(UInt16(h))
            if f.isNaN { continue }
            #expect(tts_f32_to_f16(f) == UInt16(h), "f16 \(h)")
        }
        #expect(tts_f32_to_f16(65520) == 0x7C00)  // rounds to infinity
        #expect(tts_f32_to_f16(1e-9) == 0)
    }

    @Test func quantizationErrorIsWithinHalfAStep() {
        var rng = TestRandom(state: 5)
        let x = rng.array(32 * 40).enumerated().map { $0.element * Float($0.offset % 7 + 1) }
        var q = [UInt8](repeating: 0, count: 40 * Int(TTS_Q8_0_BLOCK_BYTES))
        var back = [Float](repeating: 0, count: x.count)
        tts_quantize_q8_0(x, &q, Int64(x.count))
        tts_dequantize_q8_0(q, &back, Int64(x.count))
        for b in 0..<40 {
            let block = x[(b * 32)..<(b * 32 + 32)]
            let step = block.map { abs($0) }.max()! / 127
            for i in 0..<32 {
                // half a step from rounding, plus the f16 rounding of the scale (2^-11 relative)
                #expect(abs(back[b * 32 + i] - x[b * 32 + i]) <= step * 0.5 + abs(x[b * 32 + i]) * 0.0005 + 1e-7)
            }
        }
    }

    @Test(arguments: [(1, 32, 1), (5, 64, 1), (9, 96, 2), (33, 1024, 1), (7, 160, 5), (6, 64, 300), (3, 32, 4)])
    func q8MatmulMatchesRef(shape: (Int, Int, Int)) {
        let (rows, cols, n) = shape
        var rng = TestRandom(state: UInt64(rows + cols * 3 + n))
        let w = rng.array(rows * cols), x = rng.array(cols * n)
        var q = [UInt8](repeating: 0, count: rows * cols / 32 * Int(TTS_Q8_0_BLOCK_BYTES))
        tts_quantize_q8_0(w, &q, Int64(w.count))
        var ref = [Float](repeating: 0, count: rows * n)
        tts_matmul_q8_0_ref(q, x, &ref, Int64(rows), Int64(cols), Int64(n), 0, Int64(rows))
        // The dispatching entry (its many-token path dequantizes rows and runs the f32 product).
        var viaDispatch = [Float](repeating: .nan, count: rows * n)
        tts_matmul_q8_0(q, x, &viaDispatch, Int64(rows), Int64(cols), Int64(n), 0, Int64(rows))
        #expect(relativeError(viaDispatch, ref) <= 1e-5, "dispatch q8_0 \(shape)")
        #if arch(x86_64)
        var paths: [(String, @convention(c) (UnsafePointer<UInt8>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int64, Int64, Int64, Int64, Int64) -> Void)] = []
        if tts_cpu_supports(Int32(TTS_ISA_AVX2)) != 0 { paths.append(("avx2", tts_matmul_q8_0_avx2)) }
        if tts_cpu_supports(Int32(TTS_ISA_AVX512)) != 0 { paths.append(("avx512", tts_matmul_q8_0_avx512)) }
        for (name, f) in paths {
            var y = [Float](repeating: .nan, count: rows * n)
            f(q, x, &y, Int64(rows), Int64(cols), Int64(n), 0, Int64(rows))
            #expect(relativeError(y, ref) <= 1e-5, "\(name) q8_0 \(shape)")
        }
        #endif
    }
}

@Suite(.tags(.numerical)) struct AttentionTwinTests {
    typealias Attention = @convention(c) (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?,
                                          UnsafeMutablePointer<Float>?, Int64, Int64, Int64, Float) -> Void

    @Test(arguments: [(1, 8), (7, 64), (73, 128), (150, 128), (5, 20)])
    func attentionMatchesRef(shape: (keys: Int, dim: Int)) {
        let (keys, dim) = shape
        let stride = dim * 3 + 1
        var rng = TestRandom(state: UInt64(keys * 100 + dim))
        let q = rng.array(dim), k = rng.array(keys * stride), v = rng.array(keys * stride)
        var ref = [Float](repeating: 0, count: dim), scores = [Float](repeating: 0, count: keys)
        tts_attention_head_f32_ref(q, k, v, &ref, &scores, Int64(keys), Int64(dim), Int64(stride), 0.125)
        var paths: [(String, Attention)] = []
        #if arch(x86_64)
        if tts_cpu_supports(Int32(TTS_ISA_AVX2)) != 0 { paths.append(("avx2", tts_attention_head_f32_avx2)) }
        if tts_cpu_supports(Int32(TTS_ISA_AVX512)) != 0 { paths.append(("avx512", tts_attention_head_f32_avx512)) }
        #endif
        for (name, f) in paths {
            var out = [Float](repeating: .nan, count: dim), s = [Float](repeating: 0, count: keys)
            f(q, k, v, &out, &s, Int64(keys), Int64(dim), Int64(stride), 0.125)
            #expect(relativeError(out, ref) <= 1e-5, "\(name) attention \(shape)")
        }
    }

    typealias AttentionBF16KV = @convention(c) (UnsafePointer<Float>?, UnsafePointer<UInt16>?, UnsafePointer<UInt16>?, UnsafeMutablePointer<Float>?,
                                                UnsafeMutablePointer<Float>?, Int64, Int64, Int64, Float) -> Void

    /// A bf16 cache: each path (and dispatch) gives exactly what its f32 kernel gives on the
    /// widened keys and values, so the cache's precision is the only difference.
    @Test(arguments: [(1, 8), (7, 64), (73, 128), (150, 128), (5, 20)])
    func bf16CacheEqualsF32OnWidenedValues(shape: (keys: Int, dim: Int)) {
        let (keys, dim) = shape
        let stride = dim * 3 + 1
        var rng = TestRandom(state: UInt64(keys * 100 + dim + 7))
        let q = rng.array(dim)
        let kb = rng.array(keys * stride).map(tts_f32_to_bf16), vb = rng.array(keys * stride).map(tts_f32_to_bf16)
        let k = kb.map(tts_bf16_to_f32), v = vb.map(tts_bf16_to_f32)
        var paths: [(String, Attention, AttentionBF16KV)] = [("scalar", tts_attention_head_f32_ref, tts_attention_head_bf16kv_ref),
                                                             ("dispatch", tts_attention_head_f32, tts_attention_head_bf16kv)]
        #if arch(x86_64)
        if tts_cpu_supports(Int32(TTS_ISA_AVX2)) != 0 { paths.append(("avx2", tts_attention_head_f32_avx2, tts_attention_head_bf16kv_avx2)) }
        if tts_cpu_supports(Int32(TTS_ISA_AVX512)) != 0 { paths.append(("avx512", tts_attention_head_f32_avx512, tts_attention_head_bf16kv_avx512)) }
        #endif
        for (name, f32, bf16) in paths {
            var want = [Float](repeating: .nan, count: dim), got = want, s = [Float](repeating: 0, count: keys)
            f32(q, k, v, &want, &s, Int64(keys), Int64(dim), Int64(stride), 0.125)
            bf16(q, kb, vb, &got, &s, Int64(keys), Int64(dim), Int64(stride), 0.125)
            #expect(got.map(\.bitPattern) == want.map(\.bitPattern), "\(name) bf16-cache attention \(shape)")
            #expect(!got.contains { $0.isNaN })
        }
        var converted = [UInt16](repeating: 0, count: 5)
        tts_convert_f32_bf16([1, -2.5, 3.14159, 1e-30, .infinity], &converted, 5)
        #expect(converted == [1, -2.5, 3.14159, 1e-30, .infinity].map(tts_f32_to_bf16))
    }

    /// q8_0 quantization rounds as roundf (halves away from zero), exactly, with the block's
    /// scale 1 so that each value is its own quotient: halves, just-below-halves and a random mix.
    @Test func q8QuantizationRoundsLikeRoundf() {
        var x: [Float] = [127, 63.5, -63.5, 0.5, -0.5, 2.5, -2.5, 0.49999997, -0.49999997, 126.5, -126.5, 1.5, -1.5, 0, -0.0, 3.4999998]
        var rng = TestRandom(state: 5)
        x += rng.array(16).map { $0 * 120 }
        x[16] = 127
        for block in [Array(x[0..<32])] {
            var q = [UInt8](repeating: 0, count: Int(TTS_Q8_0_BLOCK_BYTES))
            tts_quantize_q8_0(block, &q, 32)
            let expected = block.map { UInt8(bitPattern: Int8(($0 * (1 / (127 / Float(127)))).rounded())) }
            #expect(Array(q[2...]) == expected)
        }
    }

    typealias AttentionValuesQ8 = @convention(c) (UnsafePointer<UInt8>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int64, Int64, Int64) -> Void

    /// A q8_0 cache: each path gives the f32 reference's attention on the dequantized keys and
    /// values, within float rounding (the score sums run in another order).
    @Test(arguments: [(1, 1, 32), (2, 7, 128), (2, 73, 128), (3, 150, 64), (4, 16, 96)])
    func q8CacheEqualsF32OnDequantizedValues(shape: (heads: Int, keys: Int, dim: Int)) {
        let (heads, keys, dim) = shape
        let rowBytes = dim / 32 * Int(TTS_Q8_0_BLOCK_BYTES)
        var rng = TestRandom(state: UInt64(heads * 1000 + keys * 10 + dim))
        let q = rng.array(heads * dim)
        var kq = [UInt8](repeating: 0, count: keys * rowBytes), vq = kq
        tts_quantize_q8_0(rng.array(keys * dim), &kq, Int64(keys * dim))
        tts_quantize_q8_0(rng.array(keys * dim), &vq, Int64(keys * dim))
        var k = [Float](repeating: 0, count: keys * dim), v = k
        tts_dequantize_q8_0(kq, &k, Int64(keys * dim))
        tts_dequantize_q8_0(vq, &v, Int64(keys * dim))
        var want = [Float](repeating: 0, count: heads * dim), s = [Float](repeating: 0, count: heads * keys)
        for h in 0..<heads {
            q.withUnsafeBufferPointer { qp in
                want.withUnsafeMutableBufferPointer { wp in
                    tts_attention_head_f32_ref(qp.baseAddress! + h * dim, k, v, wp.baseAddress! + h * dim, &s, Int64(keys), Int64(dim), Int64(dim), 0.11)
                }
            }
        }
        var paths: [(String, AttentionValuesQ8?)] = [("dispatch", nil), ("scalar", tts_attention_values_q8_0_ref)]
        #if arch(x86_64)
        if tts_cpu_supports(Int32(TTS_ISA_AVX2)) != 0 { paths.append(("avx2", tts_attention_values_q8_0_avx2)) }
        if tts_cpu_supports(Int32(TTS_ISA_AVX512)) != 0 { paths.append(("avx512", tts_attention_values_q8_0_avx512)) }
        #endif
        for (name, values) in paths {
            var got = [Float](repeating: .nan, count: heads * dim)
            if let values {
                tts_attention_group_q8kv_with(values, q, Int64(heads), kq, vq, &got, &s, Int64(keys), Int64(dim), 0.11)
            } else {
                tts_attention_group_q8kv(q, Int64(heads), kq, vq, &got, &s, Int64(keys), Int64(dim), 0.11)
            }
            #expect(relativeError(got, want) <= 1e-5, "\(name) q8_0-cache attention \(shape): \(relativeError(got, want))")
        }
    }

    typealias AttentionGroup = @convention(c) (UnsafePointer<Float>?, Int64, UnsafePointer<Float>?, UnsafePointer<Float>?,
                                               UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, Int64, Int64, Int64, Float) -> Void
    typealias AttentionGroupBF16KV = @convention(c) (UnsafePointer<Float>?, Int64, UnsafePointer<UInt16>?, UnsafePointer<UInt16>?,
                                                     UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, Int64, Int64, Int64, Float) -> Void

    /// Grouped-query attention: every head of a group gets exactly what the single-head kernel
    /// of the same path gives it, for both cache precisions, over key counts around the
    /// group kernels' blocks (8 and 16 keys) and head sizes with and without their fast path.
    @Test(arguments: [1, 2, 3, 4])
    func groupedHeadsEqualOneHeadAtATime(heads: Int) {
        var paths: [(String, Attention, AttentionBF16KV, AttentionGroup, AttentionGroupBF16KV)] = [
            ("dispatch", tts_attention_head_f32, tts_attention_head_bf16kv, tts_attention_group_f32, tts_attention_group_bf16kv)]
        #if arch(x86_64)
        if tts_cpu_supports(Int32(TTS_ISA_AVX512)) != 0 {
            paths.append(("avx512", tts_attention_head_f32_avx512, tts_attention_head_bf16kv_avx512,
                          tts_attention_group_f32_avx512, tts_attention_group_bf16kv_avx512))
        }
        #endif
        for dim in [128, 48, 20] {
            for keys in [1, 7, 8, 9, 15, 16, 17, 40, 73] {
                let stride = dim * 5 + 3
                var rng = TestRandom(state: UInt64(heads * 10_000 + keys * 100 + dim))
                let q = rng.array(heads * dim)
                let kb = rng.array(keys * stride).map(tts_f32_to_bf16), vb = rng.array(keys * stride).map(tts_f32_to_bf16)
                let k = rng.array(keys * stride), v = rng.array(keys * stride)
                for (name, one, oneBF16, group, groupBF16) in paths {
                    var want = [Float](repeating: .nan, count: heads * dim), wantBF16 = want
                    var s = [Float](repeating: 0, count: heads * keys)
                    for h in 0..<heads {
                        q.withUnsafeBufferPointer { qp in
                            want.withUnsafeMutableBufferPointer { wp in
                                one(qp.baseAddress! + h * dim, k, v, wp.baseAddress! + h * dim, &s, Int64(keys), Int64(dim), Int64(stride), 0.09)
                            }
                            wantBF16.withUnsafeMutableBufferPointer { wp in
                                oneBF16(qp.baseAddress! + h * dim, kb, vb, wp.baseAddress! + h * dim, &s, Int64(keys), Int64(dim), Int64(stride), 0.09)
                            }
                        }
                    }
                    var got = [Float](repeating: .nan, count: heads * dim), gotBF16 = got
                    group(q, Int64(heads), k, v, &got, &s, Int64(keys), Int64(dim), Int64(stride), 0.09)
                    groupBF16(q, Int64(heads), kb, vb, &gotBF16, &s, Int64(keys), Int64(dim), Int64(stride), 0.09)
                    let differing = zip(got, want).filter { $0.bitPattern != $1.bitPattern }.count
                    let differingBF16 = zip(gotBF16, wantBF16).filter { $0.bitPattern != $1.bitPattern }.count
                    #expect(differing == 0, "\(name) grouped f32: \(heads) heads, \(keys) keys, dim \(dim)")
                    #expect(differingBF16 == 0, "\(name) grouped bf16: \(heads) heads, \(keys) keys, dim \(dim)")
                    #expect(!got.contains { $0.isNaN } && !gotBF16.contains { $0.isNaN })
                }
            }
        }
    }
}

@Suite(.tags(.numerical)) struct SnakeTwinTests {
    typealias Snake = @convention(c) (UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, UnsafePointer<Float>?, UnsafePointer<Float>?, Int64, Int64, Int64) -> Void

    @Test func vectorSineMatchesSinf() {
        // Channels 37 (odd tail), activations up to +-300 (a*x up to ~900): |simd - ref| <= 1e-6 * max(1, |x|).
        let channels = 37, t = 64
        var rng = TestRandom(state: 99)
        let x = rng.array(channels * t).enumerated().map { $0.element * Float(1 + $0.offset % 300) }
        let a = rng.array(channels).map { 0.5 + abs($0) * 2.5 }, ib = rng.array(channels).map { 0.3 + abs($0) }
        var ref = [Float](repeating: 0, count: x.count)
        tts_snake_tm_f32_ref(x, &ref, a, ib, Int64(channels), 0, Int64(t))
        var paths: [(String, Snake)] = []
        #if arch(x86_64)
        if tts_cpu_supports(Int32(TTS_ISA_AVX2)) != 0 { paths.append(("avx2", tts_snake_tm_f32_avx2)) }
        if tts_cpu_supports(Int32(TTS_ISA_AVX512)) != 0 { paths.append(("avx512", tts_snake_tm_f32_avx512)) }
        #endif
        for (name, f) in paths {
            var y = [Float](repeating: .nan, count: x.count)
            f(x, &y, a, ib, Int64(channels), 0, Int64(t))
            var worst: Float = 0
            for i in 0..<x.count { worst = max(worst, abs(y[i] - ref[i]) / max(1, abs(x[i]))) }
            #expect(worst <= 1e-6, "\(name) snake: \(worst)")
        }
    }
}

@Suite(.tags(.numerical)) struct ActivationTwinTests {
    typealias SiluMul = @convention(c) (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int64) -> Void
    typealias RMSNorm = @convention(c) (UnsafePointer<Float>?, UnsafePointer<Float>?, UnsafeMutablePointer<Float>?, Int64, Float) -> Void
    typealias Softmax = @convention(c) (UnsafeMutablePointer<Float>?, Int64) -> Void

    static var paths: [(String, SiluMul, RMSNorm, Softmax)] {
        var list: [(String, SiluMul, RMSNorm, Softmax)] = []
        #if arch(x86_64)
        if tts_cpu_supports(Int32(TTS_ISA_AVX2)) != 0 {
            list.append(("avx2", tts_silu_mul_f32_avx2, tts_rmsnorm_f32_avx2, tts_softmax_f32_avx2))
        }
        if tts_cpu_supports(Int32(TTS_ISA_AVX512)) != 0 {
            list.append(("avx512", tts_silu_mul_f32_avx512, tts_rmsnorm_f32_avx512, tts_softmax_f32_avx512))
        }
        #endif
        return list
    }

    /// Gates over +-120 (past the exp clamp on both sides), every tail length; bound
    /// |simd - ref| <= 1e-6 * max(1, |ref|) (polynomial exp and division against libm expf).
    @Test(arguments: [1, 7, 16, 33, 100, 1024, 3072 + 5])
    func siluMulMatchesRef(n: Int) {
        var rng = TestRandom(state: UInt64(n) * 977)
        let gate = rng.array(n).enumerated().map { $0.element * Float([1, 8, 30, 120][$0.offset % 4]) }, up = rng.array(n).map { $0 * 3 }
        var ref = [Float](repeating: 0, count: n)
        tts_silu_mul_f32_ref(gate, up, &ref, Int64(n))
        for (name, silu, _, _) in Self.paths {
            var y = [Float](repeating: .nan, count: n)
            silu(gate, up, &y, Int64(n))
            #expect(relativeError(y, ref) <= 1e-6, "\(name) silu_mul n=\(n): \(relativeError(y, ref))")
            // In place over the gate, as the transformer calls it.
            var g = gate
            g.withUnsafeMutableBufferPointer { silu($0.baseAddress!, up, $0.baseAddress!, Int64(n)) }
            #expect(g == y, "\(name) silu_mul in place")
        }
    }

    /// Logits of 1 to 3077 values spread over +-60 with every fifth masked to -inf (as top-k
    /// does); bound 1e-6 absolute on the probabilities, and masked entries exactly 0.
    @Test(arguments: [1, 5, 16, 17, 200, 2048, 3077])
    func softmaxMatchesRef(n: Int) {
        var rng = TestRandom(state: UInt64(n) * 7)
        let x = rng.array(n).enumerated().map { $0.offset % 5 == 3 ? -Float.infinity : $0.element * 60 }
        var ref = x
        tts_softmax_f32_ref(&ref, Int64(n))
        for (name, _, _, softmax) in Self.paths {
            var y = x
            softmax(&y, Int64(n))
            #expect(relativeError(y, ref) <= 1e-6, "\(name) softmax n=\(n): \(relativeError(y, ref))")
            #expect(zip(x, y).allSatisfy { $0.0 != -.infinity || $0.1 == 0 }, "\(name) softmax: a masked logit got probability")
        }
    }

    /// Rows of 1 to 3077 values, magnitudes up to 50; bound 1e-6 relative (f32 lanes against a
    /// double sum of squares).
    @Test(arguments: [1, 5, 16, 63, 128, 1024, 2048 + 13, 3077])
    func rmsNormMatchesRef(n: Int) {
        var rng = TestRandom(state: UInt64(n) * 131)
        let x = rng.array(n).enumerated().map { $0.element * Float(1 + $0.offset % 50) }, w = rng.array(n).map { 1 + $0 }
        var ref = [Float](repeating: 0, count: n)
        tts_rmsnorm_f32_ref(x, w, &ref, Int64(n), 1e-6)
        for (name, _, norm, _) in Self.paths {
            var y = [Float](repeating: .nan, count: n)
            norm(x, w, &y, Int64(n), 1e-6)
            #expect(relativeError(y, ref) <= 1e-6, "\(name) rmsnorm n=\(n): \(relativeError(y, ref))")
            var inPlace = x
            inPlace.withUnsafeMutableBufferPointer { norm($0.baseAddress!, w, $0.baseAddress!, Int64(n), 1e-6) }
            #expect(inPlace == y, "\(name) rmsnorm in place")
        }
    }
}

/// Double-precision causal convolution from PyTorch-layout weights [cout][cin][k], each input
/// and weight first passed through `value` (the bf16 tests round them as the kernel does).
func exactConv(_ x: [Float], _ w: [Float], _ b: [Float], _ shape: (cin: Int, cout: Int, k: Int, dilation: Int, t: Int),
               value: (Float) -> Double = { Double($0) }) -> [Float] {
    let (cin, cout, k, d, t) = shape
    var exact = [Float](repeating: 0, count: t * cout)
    for tt in 0..<t {
        for o in 0..<cout {
            var acc = Double(b[o])
            for j in 0..<k { for i in 0..<cin { acc += value(x[(tt + j * d) * cin + i]) * value(w[(o * cin + i) * k + j]) } }
            exact[tt * cout + o] = Float(acc)
        }
    }
    return exact
}

@Suite(.tags(.numerical)) struct ConvGemmTwinTests {
    /// Shapes with a partial last channel block, 1-3 tokens, tails of every length mod 8 and 3.
    @Test(arguments: [(3, 5, 1, 1, 9), (16, 40, 7, 3, 70), (33, 96, 7, 9, 131), (96, 32, 1, 1, 17), (7, 70, 3, 2, 2),
                      (64, 33, 5, 1, 1), (24, 64, 4, 1, 13)])
    func convGemmMatchesRef(shape: (cin: Int, cout: Int, k: Int, dilation: Int, t: Int)) {
        let (cin, cout, k, d, t) = shape
        var rng = TestRandom(state: UInt64(cin * 1000 + cout * 10 + k))
        let x = rng.array((t + (k - 1) * d) * cin), w = rng.array(cout * cin * k), b = rng.array(cout)
        var packed = [Float](repeating: .nan, count: Int(tts_conv_packed_count(Int64(cin), Int64(cout), Int64(k))))
        tts_conv_pack_f32(w, &packed, Int64(cin), Int64(cout), Int64(k))
        let exact = exactConv(x, w, b, shape)
        var ref = [Float](repeating: .nan, count: t * cout)
        tts_conv_gemm_f32_ref(x, packed, b, &ref, Int64(cin), Int64(cout), Int64(k), Int64(d), 0, Int64(t), 0, Int64(cout), nil)
        #expect(relativeError(ref, exact) <= 1e-5, "ref \(shape)")
        var paths: [(String, (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>?, UnsafeMutablePointer<Float>, Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64, UnsafePointer<Float>?) -> Void)] = [("dispatch", tts_conv_gemm_f32), ("ref", tts_conv_gemm_f32_ref)]
        #if arch(x86_64)
        if tts_cpu_supports(Int32(TTS_ISA_AVX2)) != 0 { paths.append(("avx2", tts_conv_gemm_f32_avx2)) }
        if tts_cpu_supports(Int32(TTS_ISA_AVX512)) != 0 { paths.append(("avx512", tts_conv_gemm_f32_avx512)) }
        #endif
        for (name, f) in paths {
            var y = [Float](repeating: .nan, count: t * cout)
            f(x, packed, b, &y, Int64(cin), Int64(cout), Int64(k), Int64(d), 0, Int64(t), 0, Int64(cout), nil)
            #expect(relativeError(y, ref) <= 1e-5, "\(name) \(shape)")
            // A residual added as the outputs are written, from another array and in place.
            let residual = rng.array(t * cout), withResidual = zip(ref, residual).map { $0 + $1 }
            var z = [Float](repeating: .nan, count: t * cout)
            f(x, packed, b, &z, Int64(cin), Int64(cout), Int64(k), Int64(d), 0, Int64(t), 0, Int64(cout), residual)
            #expect(relativeError(z, withResidual) <= 1e-5, "\(name) with a residual \(shape)")
            var inPlace = residual
            inPlace.withUnsafeMutableBufferPointer { p in
                f(x, packed, b, p.baseAddress!, Int64(cin), Int64(cout), Int64(k), Int64(d), 0, Int64(t), 0, Int64(cout), p.baseAddress!)
            }
            #expect(relativeError(inPlace, withResidual) <= 1e-5, "\(name) with a residual in place \(shape)")
            // Channel blocks from the second on (when there are two): only those columns written.
            if cout > 32 {
                var cols = [Float](repeating: -3, count: t * cout)
                f(x, packed, b, &cols, Int64(cin), Int64(cout), Int64(k), Int64(d), 0, Int64(t), 32, Int64(cout), nil)
                let inside = (0..<(t * cout)).filter { $0 % cout >= 32 }, outside = (0..<(t * cout)).filter { $0 % cout < 32 }
                #expect(outside.allSatisfy { cols[$0] == -3 }, "\(name) writes outside its channels")
                #expect(relativeError(inside.map { cols[$0] }, inside.map { ref[$0] }) <= 1e-5, "\(name) channel range \(shape)")
            }
            // A sub-range without bias writes only its own rows.
            guard t >= 3 else { continue }
            var part = [Float](repeating: -3, count: t * cout)
            f(x, packed, nil, &part, Int64(cin), Int64(cout), Int64(k), Int64(d), 1, Int64(t - 1), 0, Int64(cout), nil)
            #expect(part[0] == -3 && part[t * cout - 1] == -3, "\(name) writes outside its range")
            let unbiased = (cout..<((t - 1) * cout)).map { ref[$0] - b[$0 % cout] }
            #expect(relativeError(Array(part[cout..<((t - 1) * cout)]), unbiased) <= 1e-5, "\(name) without bias")
        }
    }
}

@Suite(.tags(.numerical)) struct Q8VnniTests {
    func quantized(rows: Int, cols: Int, seed: UInt64) -> [UInt8] {
        var rng = TestRandom(state: seed)
        let w = rng.array(rows * cols)
        var q = [UInt8](repeating: 0, count: rows * cols / 32 * Int(TTS_Q8_0_BLOCK_BYTES))
        tts_quantize_q8_0(w, &q, Int64(w.count))
        return q
    }

    @Test func repackIsLossless() {
        let (rows, cols) = (3, 1024)
        let q = quantized(rows: rows, cols: cols, seed: 11)
        var wq = [UInt8](repeating: 0, count: rows * cols), ws = [UInt16](repeating: 0, count: rows * cols / 32)
        tts_q8_vnni_repack(q, Int64(rows), Int64(cols), &wq, &ws)
        for r in 0..<rows {
            var a = [Float](repeating: 0, count: cols), b = a
            q.withUnsafeBufferPointer { tts_dequantize_q8_0($0.baseAddress! + r * cols / 32 * Int(TTS_Q8_0_BLOCK_BYTES), &a, Int64(cols)) }
            wq.withUnsafeBufferPointer { w in ws.withUnsafeBufferPointer { s in
                tts_q8_vnni_dequantize_row(w.baseAddress! + r * cols, s.baseAddress! + r * cols / 32, &b, Int64(cols))
            } }
            #expect(a == b)
        }
    }

    @Test(arguments: [(1, 512), (5, 1024), (16, 1536), (33, 3072)])
    func vnniMatvecMatchesRefAndQ8(shape: (Int, Int)) {
        let (rows, cols) = shape
        let q = quantized(rows: rows, cols: cols, seed: UInt64(rows * 7 + cols))
        var rng = TestRandom(state: 5)
        let x = rng.array(cols)
        var wq = [UInt8](repeating: 0, count: rows * cols), ws = [UInt16](repeating: 0, count: rows * cols / 32)
        tts_q8_vnni_repack(q, Int64(rows), Int64(cols), &wq, &ws)
        var xq = [Int8](repeating: 0, count: cols), xs = [Float](repeating: 0, count: cols / 32), xsum = [Int32](repeating: 0, count: cols / 32)
        tts_q8_vnni_quantize_x(x, Int64(cols), &xq, &xs, &xsum)
        var ref = [Float](repeating: 0, count: rows)
        tts_q8_vnni_matvec_ref(wq, ws, xq, xs, xsum, &ref, Int64(cols), 0, Int64(rows))
        var fast = [Float](repeating: .nan, count: rows)
        tts_q8_vnni_matvec(wq, ws, xq, xs, xsum, &fast, Int64(cols), 0, Int64(rows))
        #expect(relativeError(fast, ref) <= 1e-5, "dispatch (\(KernelPaths.active)) vs ref \(shape)")
        #if arch(x86_64)
        // Each integer kernel this CPU has, by name, on a row range inside the matrix.
        typealias Matvec = @convention(c) (UnsafePointer<UInt8>?, UnsafePointer<UInt16>?, UnsafePointer<Int8>?, UnsafePointer<Float>?,
                                           UnsafePointer<Int32>?, UnsafeMutablePointer<Float>?, Int64, Int64, Int64) -> Void
        let kernels: [(String, Matvec)] = (KernelPaths.avx512VNNI ? [("avx512-vnni", tts_q8_vnni_matvec_avx512)] : [])
            + (KernelPaths.avxVNNI ? [("avx-vnni", tts_q8_vnni_matvec_avxvnni)] : [])
        for (name, kernel) in kernels {
            var z = [Float](repeating: .nan, count: rows)
            let lo = rows > 2 ? 1 : 0, hi = rows > 2 ? rows - 1 : rows
            kernel(wq, ws, xq, xs, xsum, &z, Int64(cols), Int64(lo), Int64(hi))
            #expect(relativeError(Array(z[lo..<hi]), Array(ref[lo..<hi])) <= 1e-5, "\(name) vs ref \(shape)")
            #expect(z[0..<lo].allSatisfy(\.isNaN) && z[hi...].allSatisfy(\.isNaN), "\(name) wrote outside its rows")
        }
        #endif
        // Against q8_0 weights with f32 activations: only the activation quantization differs.
        var exact = [Float](repeating: 0, count: rows)
        tts_matmul_q8_0_ref(q, x, &exact, Int64(rows), Int64(cols), 1, 0, Int64(rows))
        let scale = exact.map(abs).max()! + 1e-6
        #expect(zip(ref, exact).allSatisfy { abs($0 - $1) <= 0.02 * scale }, "activation quantization \(shape)")
    }
}

@Suite(.tags(.numerical)) struct ConvBF16Tests {
    /// The bf16 conv against double-precision arithmetic on the bf16-rounded weights and inputs:
    /// only the f32 summation differs. Odd input widths (a zero-padded pair), partial channel
    /// blocks and token tails included.
    @Test(arguments: [(3, 5, 1, 1, 9), (16, 40, 7, 3, 70), (33, 96, 7, 9, 131), (96, 32, 1, 1, 17), (7, 70, 3, 2, 2)])
    func bf16ConvMatchesRoundedArithmetic(shape: (cin: Int, cout: Int, k: Int, dilation: Int, t: Int)) {
        let (cin, cout, k, d, t) = shape
        var rng = TestRandom(state: UInt64(cin * 7 + cout * 3 + k))
        let rows = t + (k - 1) * d
        let x = rng.array(rows * cin), w = rng.array(cout * cin * k), b = rng.array(cout)
        var packed = [UInt16](repeating: 0xFFFF, count: Int(tts_conv_packed_count_bf16(Int64(cin), Int64(cout), Int64(k))))
        tts_conv_pack_bf16(w, &packed, Int64(cin), Int64(cout), Int64(k))
        let pairs = (cin + 1) / 2
        var xb = [UInt32](repeating: 0, count: rows * pairs)
        tts_bf16_pairs(x, &xb, Int64(rows), Int64(cin))
        let exact = exactConv(x, w, b, shape) { Double(tts_bf16_to_f32(tts_f32_to_bf16($0))) }
        var ref = [Float](repeating: .nan, count: t * cout)
        tts_conv_gemm_bf16_ref(xb, packed, b, &ref, Int64(cin), Int64(cout), Int64(k), Int64(d), 0, Int64(t))
        #expect(relativeError(ref, exact) <= 1e-5, "ref \(shape)")
        var y = [Float](repeating: .nan, count: t * cout)
        tts_conv_gemm_bf16(xb, packed, b, &y, Int64(cin), Int64(cout), Int64(k), Int64(d), 0, Int64(t))
        #expect(relativeError(y, ref) <= 1e-5, "dispatch (\(KernelPaths.active), avx512-bf16 in use: \(tts_conv_bf16_fast())) \(shape)")
        #if arch(x86_64)
        if KernelPaths.avx512BF16 {
            var z = [Float](repeating: .nan, count: t * cout)
            tts_conv_gemm_bf16_avx512(xb, packed, b, &z, Int64(cin), Int64(cout), Int64(k), Int64(d), 0, Int64(t))
            #expect(relativeError(z, ref) <= 1e-5, "avx512-bf16 \(shape)")
        }
        #endif
    }
}
