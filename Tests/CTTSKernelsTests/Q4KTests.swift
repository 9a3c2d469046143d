// q4_k: ggml's block layout decoded independently of the kernels, quantization quality, and the
// integer matrix-vector products (reference and SIMD twins) against exact arithmetic.
import CTTSKernels
import Testing

/// ||a - b|| / ||b||: long dot products with cancellation make per-element relative errors meaningless.
func normError(_ a: [Float], _ b: [Float]) -> Double {
    var d = 0.0, n = 0.0
    for (x, y) in zip(a, b) {
        d += Double(x - y) * Double(x - y)
        n += Double(y) * Double(y)
    }
    return (d / max(n, 1e-30)).squareRoot()
}

@Suite(.tags(.numerical)) struct Q4KTests {
    /// A block built by hand from ggml's layout rules (not with the quantizer), decoded by the kernels.
    @Test func dequantizationFollowsGGMLLayout() {
        var rng = TestRandom(state: 77)
        func int(_ m: Int) -> Int { Int(abs(rng.next()) * 1_000_000) % m }
        let sc = (0..<8).map { _ in int(64) }, mn = (0..<8).map { _ in int(64) }
        let q = (0..<256).map { _ in int(16) }
        var block = [UInt8](repeating: 0, count: Int(TTS_Q4_K_BLOCK_BYTES))
        let d: UInt16 = tts_f32_to_f16(0.125), dmin: UInt16 = tts_f32_to_f16(0.0625)
        block[0] = UInt8(d & 0xFF); block[1] = UInt8(d >> 8)
        block[2] = UInt8(dmin & 0xFF); block[3] = UInt8(dmin >> 8)
        for j in 0..<4 {
            // bytes 0-3: scale j (6 bits) + top bits of scale j+4; bytes 4-7: min j + top bits of
            // min j+4; bytes 8-11: low nibbles of scale j+4 and min j+4.
            block[4 + j] = UInt8(sc[j] | ((sc[j + 4] >> 4) << 6))
            block[8 + j] = UInt8(mn[j] | ((mn[j + 4] >> 4) << 6))
            block[12 + j] = UInt8((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4))
        }
        for p in 0..<4 {
            for i in 0..<32 { block[16 + 32 * p + i] = UInt8(q[64 * p + i] | (q[64 * p + 32 + i] << 4)) }
        }
        var out = [Float](repeating: 0, count: 256)
        tts_dequantize_q4_k(block, &out, 256)
        for i in 0..<256 {
            let j = i / 32
            let expected = 0.125 * Float(sc[j]) * Float(q[i]) - 0.0625 * Float(mn[j])
            #expect(out[i] == expected, "value \(i)")
        }
    }

    @Test func quantizationErrorIsSmall() {
        var rng = TestRandom(state: 3)
        let n = 256 * 64
        // Rows with different magnitudes per sub-block, as real weights have.
        let x = rng.array(n).enumerated().map { $0.element * Float(($0.offset / 32) % 5 + 1) }
        var q = [UInt8](repeating: 0, count: n / 256 * Int(TTS_Q4_K_BLOCK_BYTES))
        var back = [Float](repeating: 0, count: n)
        tts_quantize_q4_k(x, &q, Int64(n))
        tts_dequantize_q4_k(q, &back, Int64(n))
        var err = 0.0, energy = 0.0
        for i in 0..<n {
            err += Double((back[i] - x[i]) * (back[i] - x[i]))
            energy += Double(x[i] * x[i])
        }
        // 4 bits over a uniform spread: the step is range/15, rms error about step/sqrt(12),
        // i.e. ~11% of the rms value for uniform data; the fitted scales and mins do better.
        #expect((err / energy).squareRoot() < 0.10, "relative rms error \((err / energy).squareRoot())")
        // All zero and constant blocks survive exactly.
        let flat = [Float](repeating: 0, count: 256) + [Float](repeating: -0.5, count: 256)
        var qf = [UInt8](repeating: 0, count: 2 * Int(TTS_Q4_K_BLOCK_BYTES))
        var bf = [Float](repeating: 1, count: 512)
        tts_quantize_q4_k(flat, &qf, 512)
        tts_dequantize_q4_k(qf, &bf, 512)
        #expect(bf.prefix(256).allSatisfy { $0 == 0 })
        #expect(bf.suffix(256).allSatisfy { abs($0 + 0.5) < 1e-3 })
    }

    /// The reference product equals exact arithmetic on the dequantized weights and activations;
    /// each SIMD twin matches it, on row ranges that start and end mid-matrix.
    @Test(arguments: [(1, 256), (5, 512), (17, 768), (33, 3072)])
    func matvecMatchesExactAndTwins(shape: (Int, Int)) {
        let (rows, cols) = shape
        var rng = TestRandom(state: UInt64(rows * 7 + cols))
        let w = rng.array(rows * cols), x = rng.array(cols).map { $0 * 3 }
        var q = [UInt8](repeating: 0, count: rows * cols / 256 * Int(TTS_Q4_K_BLOCK_BYTES))
        tts_quantize_q4_k(w, &q, Int64(w.count))
        var wd = [Float](repeating: 0, count: w.count)
        tts_dequantize_q4_k(q, &wd, Int64(w.count))
        var xq = [Int8](repeating: 0, count: cols), xs = [Float](repeating: 0, count: cols / 256), xsum = [Int32](repeating: 0, count: cols / 32)
        tts_q4_k_quantize_x(x, Int64(cols), &xq, &xs, &xsum)
        // Within a block, sub-block j of the activations sits at 128*(j/4) + [0, 64, 32, 96][j%4].
        func position(_ c: Int) -> Int {
            let j = (c % 256) / 32
            return (c / 256) * 256 + 128 * (j / 4) + [0, 64, 32, 96][j % 4] + c % 32
        }
        var exact = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            var s = 0.0
            for c in 0..<cols { s += Double(wd[r * cols + c]) * Double(xs[c / 256]) * Double(xq[position(c)]) }
            exact[r] = Float(s)
        }
        var ref = [Float](repeating: .nan, count: rows)
        tts_q4_k_matvec_ref(q, xq, xs, xsum, &ref, Int64(cols), 0, Int64(rows))
        #expect(normError(ref, exact) <= 1e-6, "ref \(shape)")
        // Activation quantization costs little against the f32 product with the same weights.
        var f32 = [Float](repeating: 0, count: rows)
        tts_matmul_q4_k(q, x, &f32, Int64(rows), Int64(cols), 1, 0, Int64(rows))
        #expect(normError(ref, f32) <= 2e-2, "int8 activations \(shape)")
        // xsum holds the sums of xq per 32 values.
        #expect(xsum[0] == xq[0..<32].reduce(0) { $0 + Int32($1) })
        var viaDispatch = [Float](repeating: .nan, count: rows)
        tts_q4_k_matvec(q, xq, xs, xsum, &viaDispatch, Int64(cols), 0, Int64(rows))
        #expect(normError(viaDispatch, ref) <= 1e-6, "dispatch \(shape)")
        #if arch(x86_64)
        typealias Kernel = @convention(c) (UnsafePointer<UInt8>?, UnsafePointer<Int8>?, UnsafePointer<Float>?, UnsafePointer<Int32>?,
                                           UnsafeMutablePointer<Float>?, Int64, Int64, Int64) -> Void
        var paths: [(String, Kernel)] = []
        if tts_cpu_supports(Int32(TTS_ISA_AVX2)) != 0 { paths.append(("avx2", tts_q4_k_matvec_avx2)) }
        if tts_cpu_supports(Int32(TTS_ISA_AVX512)) != 0 { paths.append(("avx512", tts_q4_k_matvec_avx512)) }
        for (name, f) in paths {
            var y = [Float](repeating: .nan, count: rows)
            let lo = rows > 2 ? 1 : 0, hi = rows > 2 ? rows - 1 : rows
            f(q, xq, xs, xsum, &y, Int64(cols), Int64(lo), Int64(hi))
            #expect(normError(Array(y[lo..<hi]), Array(ref[lo..<hi])) <= 1e-6, "\(name) \(shape)")
            #expect(y[0..<lo].allSatisfy(\.isNaN) && y[hi...].allSatisfy(\.isNaN), "\(name) wrote outside its rows")
        }
        #endif
    }

    @Test func simdDequantizationMatchesRef() {
        var rng = TestRandom(state: 21)
        let n = 256 * 12
        let x = rng.array(n).map { $0 * 4 }
        var q = [UInt8](repeating: 0, count: n / 256 * Int(TTS_Q4_K_BLOCK_BYTES))
        tts_quantize_q4_k(x, &q, Int64(n))
        var ref = [Float](repeating: 0, count: n), viaDispatch = [Float](repeating: .nan, count: n)
        tts_dequantize_q4_k_ref(q, &ref, Int64(n))
        tts_dequantize_q4_k(q, &viaDispatch, Int64(n))
        // d*sc*q - dmin*m: one fused multiply-subtract against a multiply then a subtract.
        #expect(relativeError(viaDispatch, ref) <= 1e-6)
        #if arch(x86_64)
        if tts_cpu_supports(Int32(TTS_ISA_AVX2)) != 0 {
            var simd = [Float](repeating: .nan, count: n)
            tts_dequantize_q4_k_avx2(q, &simd, Int64(n))
            #expect(relativeError(simd, ref) <= 1e-6)
        }
        #endif
    }

    /// Many tokens of quantized activations: equal to one reference matrix-vector product per token.
    @Test(arguments: [1, 3, 8, 11, 20])
    func tokenProductMatchesPerTokenMatvec(n: Int) {
        let rows = 13, cols = 768
        var rng = TestRandom(state: UInt64(n))
        let w = rng.array(rows * cols)
        var q = [UInt8](repeating: 0, count: rows * cols / 256 * Int(TTS_Q4_K_BLOCK_BYTES))
        tts_quantize_q4_k(w, &q, Int64(w.count))
        var xq: [Int8] = [], xd: [Float] = [], xsum: [Int32] = [], expected: [Float] = []
        for _ in 0..<n {
            let x = rng.array(cols)
            var tq = [Int8](repeating: 0, count: cols), td = [Float](repeating: 0, count: cols / 256), ts = [Int32](repeating: 0, count: cols / 32)
            tts_q4_k_quantize_x(x, Int64(cols), &tq, &td, &ts)
            var e = [Float](repeating: .nan, count: rows)
            tts_q4_k_matvec_ref(q, tq, td, ts, &e, Int64(cols), 0, Int64(rows))
            xq += tq; xd += td; xsum += ts; expected += e
        }
        var y = [Float](repeating: .nan, count: rows * n)
        tts_q4_k_matmul_tokens(q, xq, xd, xsum, &y, Int64(rows), Int64(cols), Int64(n), 0, Int64(rows))
        #expect(normError(y, expected) <= 1e-6, "dispatch (\(KernelPaths.active)) \(n) tokens")
        #if arch(x86_64)
        // The AVX-512 kernel that reads each weight once for all tokens, called by name.
        if n >= 2 && tts_cpu_supports(Int32(TTS_ISA_AVX512)) != 0 {
            var z = [Float](repeating: .nan, count: rows * n)
            tts_q4_k_matmul_tokens_avx512(q, xq, xd, xsum, &z, Int64(rows), Int64(cols), Int64(n), 1, Int64(rows - 1))
            for t in 0..<n {
                let got = Array(z[(t * rows + 1)..<((t + 1) * rows - 1)]), want = Array(expected[(t * rows + 1)..<((t + 1) * rows - 1)])
                #expect(normError(got, want) <= 1e-6, "avx512 \(n) tokens, token \(t)")
                #expect(z[t * rows].isNaN && z[(t + 1) * rows - 1].isNaN, "avx512 wrote outside its rows")
            }
        }
        #endif
    }

    /// Many tokens: rows dequantized and multiplied in f32, equal to the dequantized matrix product.
    @Test func manyTokenProductMatchesDequantized() {
        let rows = 9, cols = 512, n = 7
        var rng = TestRandom(state: 11)
        let w = rng.array(rows * cols), x = rng.array(cols * n)
        var q = [UInt8](repeating: 0, count: rows * cols / 256 * Int(TTS_Q4_K_BLOCK_BYTES))
        tts_quantize_q4_k(w, &q, Int64(w.count))
        var wd = [Float](repeating: 0, count: w.count)
        tts_dequantize_q4_k(q, &wd, Int64(w.count))
        var y = [Float](repeating: .nan, count: rows * n), expected = [Float](repeating: 0, count: rows * n)
        tts_matmul_q4_k(q, x, &y, Int64(rows), Int64(cols), Int64(n), 0, Int64(rows))
        for t in 0..<n {
            for r in 0..<rows {
                var s = 0.0
                for c in 0..<cols { s += Double(wd[r * cols + c]) * Double(x[t * cols + c]) }
                expected[t * rows + r] = Float(s)
            }
        }
        #expect(normError(y, expected) <= 1e-6)
    }
}

/// q4_k repacked in VNNI order: the same values as q4_k, and products equal to the q4_k ones on
/// the same activations (only the order of the f32 sums differs).
@Suite(.tags(.numerical)) struct Q4KVnniTests {
    func quantized(rows: Int, cols: Int, seed: UInt64) -> [UInt8] {
        var rng = TestRandom(state: seed)
        // Magnitudes varying per sub-block, so scales and mins differ across lanes.
        let w = rng.array(rows * cols).enumerated().map { $0.element * Float(($0.offset / 32) % 7 + 1) }
        var q = [UInt8](repeating: 0, count: rows * cols / 256 * Int(TTS_Q4_K_BLOCK_BYTES))
        tts_quantize_q4_k(w, &q, Int64(w.count))
        return q
    }

    func repacked(_ q: [UInt8], rows: Int, cols: Int) -> (nib: [UInt8], meta: [UInt8]) {
        var nib = [UInt8](repeating: 0, count: rows * cols / 2)
        var meta = [UInt8](repeating: 0, count: rows * cols / 512 * Int(TTS_Q4_K_VNNI_META_BYTES))
        tts_q4_k_vnni_repack(q, Int64(rows), Int64(cols), &nib, &meta)
        return (nib, meta)
    }

    @Test func repackIsLossless() {
        let (rows, cols) = (3, 1536)
        let q = quantized(rows: rows, cols: cols, seed: 12)
        let (nib, meta) = repacked(q, rows: rows, cols: cols)
        let metaRow = cols / 512 * Int(TTS_Q4_K_VNNI_META_BYTES)
        for r in 0..<rows {
            var a = [Float](repeating: 0, count: cols), b = [Float](repeating: .nan, count: cols)
            q.withUnsafeBufferPointer { tts_dequantize_q4_k_ref($0.baseAddress! + r * cols / 256 * Int(TTS_Q4_K_BLOCK_BYTES), &a, Int64(cols)) }
            nib.withUnsafeBufferPointer { n in meta.withUnsafeBufferPointer { m in
                tts_q4_k_vnni_dequantize_row(n.baseAddress! + r * cols / 2, m.baseAddress! + r * metaRow, &b, Int64(cols))
            } }
            #expect(a == b, "row \(r)")
        }
    }

    /// The arranged activations hold the q4_k quantizer's values (as a multiset per group, and
    /// with the same scales and sums); the SIMD quantizer equals the reference bit for bit.
    @Test(arguments: [512, 1024, 3072])
    func activationQuantizersAgree(cols: Int) {
        var rng = TestRandom(state: UInt64(cols))
        var x = rng.array(cols).map { $0 * 5 }
        // Block 0 gets scale 1 exactly, so 2.5 and -3.5 are ties: both quantizers round them to even.
        x[0] = 127
        x[7] = 2.5
        x[8] = -3.5
        var plain = [Int8](repeating: 0, count: cols), pd = [Float](repeating: 0, count: cols / 256), ps = [Int32](repeating: 0, count: cols / 32)
        tts_q4_k_quantize_x(x, Int64(cols), &plain, &pd, &ps)
        var ref = [Int8](repeating: 0, count: cols), rd = [Float](repeating: .nan, count: cols / 256), rs = [Int32](repeating: 0, count: cols / 32)
        tts_q4_k_vnni_quantize_x_ref(x, Int64(cols), &ref, &rd, &rs)
        #expect(rd == pd && rs == ps)
        #expect(rd[0] == 1 && plain[7] == 2 && plain[8] == -4)
        for g in 0..<cols / 512 { #expect(ref[g * 512..<(g + 1) * 512].sorted() == plain[g * 512..<(g + 1) * 512].sorted(), "group \(g)") }
        var fast = [Int8](repeating: 0, count: cols), fd = [Float](repeating: .nan, count: cols / 256), fs = [Int32](repeating: 0, count: cols / 32)
        tts_q4_k_vnni_quantize_x(x, Int64(cols), &fast, &fd, &fs)
        #expect(fast == ref && fd == rd && fs == rs, "dispatch (\(KernelPaths.active))")
        #if arch(x86_64)
        if KernelPaths.avx512VNNI {
            var v = [Int8](repeating: 0, count: cols), vd = [Float](repeating: .nan, count: cols / 256), vs = [Int32](repeating: 0, count: cols / 32)
            tts_q4_k_vnni_quantize_x_avx512(x, Int64(cols), &v, &vd, &vs)
            #expect(v == ref && vd == rd && vs == rs, "avx512-vnni")
        }
        #endif
    }

    /// Reference and SIMD twin against the q4_k reference product, on row ranges that start and
    /// end mid-matrix, for one token and for several (the many-token kernel).
    @Test(arguments: [(1, 512, 1), (5, 1024, 1), (17, 1536, 1), (33, 3072, 1), (13, 1024, 3), (9, 2048, 8), (7, 512, 11)])
    func productsMatchQ4K(shape: (Int, Int, Int)) {
        let (rows, cols, n) = shape
        let q = quantized(rows: rows, cols: cols, seed: UInt64(rows * 7 + cols + n))
        let (nib, meta) = repacked(q, rows: rows, cols: cols)
        var rng = TestRandom(state: UInt64(n + 1))
        var expected: [Float] = [], xq: [Int8] = [], xd: [Float] = [], xsum: [Int32] = []
        for _ in 0..<n {
            let x = rng.array(cols).map { $0 * 3 }
            var pq = [Int8](repeating: 0, count: cols), pd = [Float](repeating: 0, count: cols / 256), ps = [Int32](repeating: 0, count: cols / 32)
            tts_q4_k_quantize_x(x, Int64(cols), &pq, &pd, &ps)
            var e = [Float](repeating: .nan, count: rows)
            tts_q4_k_matvec_ref(q, pq, pd, ps, &e, Int64(cols), 0, Int64(rows))
            expected += e
            var vq = [Int8](repeating: 0, count: cols), vd = [Float](repeating: 0, count: cols / 256), vs = [Int32](repeating: 0, count: cols / 32)
            tts_q4_k_vnni_quantize_x_ref(x, Int64(cols), &vq, &vd, &vs)
            xq += vq; xd += vd; xsum += vs
        }
        var ref = [Float](repeating: .nan, count: rows * n)
        for t in 0..<n {
            ref.withUnsafeMutableBufferPointer { y in
                tts_q4_k_vnni_matvec_ref(nib, meta, Array(xq[t * cols..<(t + 1) * cols]), Array(xd[t * cols / 256..<(t + 1) * cols / 256]),
                                         Array(xsum[t * cols / 32..<(t + 1) * cols / 32]), y.baseAddress! + t * rows, Int64(cols), 0, Int64(rows))
            }
        }
        // The integer sums are exact in both; only the f32 accumulation order differs.
        #expect(normError(ref, expected) <= 1e-6, "ref \(shape)")
        let lo = rows > 2 ? 1 : 0, hi = rows > 2 ? rows - 1 : rows
        var fast = [Float](repeating: .nan, count: rows * n)
        tts_q4_k_vnni_matmul_tokens(nib, meta, xq, xd, xsum, &fast, Int64(rows), Int64(cols), Int64(n), Int64(lo), Int64(hi))
        var outputs = [("dispatch (\(KernelPaths.active))", fast)]
        #if arch(x86_64)
        // The AVX-512 VNNI kernels by name: one token (matvec) and many (the token kernel).
        if KernelPaths.avx512VNNI {
            var z = [Float](repeating: .nan, count: rows * n)
            if n == 1 {
                tts_q4_k_vnni_matvec_avx512(nib, meta, xq, xd, xsum, &z, Int64(cols), Int64(lo), Int64(hi))
            } else {
                tts_q4_k_vnni_matmul_tokens_avx512(nib, meta, xq, xd, xsum, &z, Int64(rows), Int64(cols), Int64(n), Int64(lo), Int64(hi))
            }
            outputs.append(("avx512-vnni", z))
        }
        if KernelPaths.avxVNNI {
            var z = [Float](repeating: .nan, count: rows * n)
            tts_q4_k_vnni_matmul_tokens_avxvnni(nib, meta, xq, xd, xsum, &z, Int64(rows), Int64(cols), Int64(n), Int64(lo), Int64(hi))
            outputs.append(("avx-vnni", z))
        }
        #endif
        for (name, out) in outputs {
            for t in 0..<n {
                let y = Array(out[t * rows..<(t + 1) * rows]), r = Array(ref[t * rows..<(t + 1) * rows])
                #expect(normError(Array(y[lo..<hi]), Array(r[lo..<hi])) <= 1e-6, "\(name) \(shape) token \(t)")
                #expect(y[0..<lo].allSatisfy(\.isNaN) && y[hi...].allSatisfy(\.isNaN), "\(name) wrote outside its rows")
            }
        }
    }
}
