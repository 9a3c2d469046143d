// The Winograd F(4,4) kernel-7 convolution against a double-precision direct convolution, its
// dispatched path against its scalar twin, and its work splits against the whole.
import CTTSKernels
import Testing

/// Transformed and packed weights for tts_conv7_wino_f32 from PyTorch-layout [cout][cin][7].
func winogradWeights(_ w: [Float], cin: Int, cout: Int) -> [Float] {
    var packed = [Float](repeating: .nan, count: Int(tts_conv7_wino_packed_count(Int64(cin), Int64(cout))))
    tts_conv7_wino_pack_f32(w, &packed, Int64(cin), Int64(cout))
    return packed
}

@Suite(.tags(.numerical)) struct WinogradTests {
    typealias Kernel = (UnsafePointer<Float>, UnsafePointer<Float>, UnsafePointer<Float>?, UnsafeMutablePointer<Float>, Int64, Int64,
                        Int64, Int64, Int64, Int64, Int64, Int64, UnsafeMutablePointer<Float>) -> Void

    /// Runs `kernel` over tile blocks [b0, b1) and channels [o0, o1) into `y`.
    func run(_ kernel: Kernel, _ x: [Float], _ packed: [Float], _ b: [Float]?, _ y: inout [Float],
             _ s: (cin: Int, cout: Int, dilation: Int, t: Int), blocks: Range<Int>, channels: Range<Int>) {
        let n = Int(tts_conv7_wino_scratch_count(Int64(s.cin), Int64(s.cout), Int64(s.dilation), Int64(blocks.count)))
        var scratch = [Float](repeating: .nan, count: n)
        kernel(x, packed, b, &y, Int64(s.cin), Int64(s.cout), Int64(s.dilation), Int64(s.t), Int64(blocks.lowerBound),
               Int64(blocks.upperBound), Int64(channels.lowerBound), Int64(channels.upperBound), &scratch)
    }

    /// Shapes with fewer frames than one tile block (4 * dilation), partial channel blocks,
    /// tails of every length, and the decoder's dilations 1, 3 and 9.
    @Test(arguments: [(5, 37, 1, 1), (16, 40, 3, 70), (33, 96, 9, 131), (64, 64, 1, 4), (7, 70, 2, 23), (96, 33, 9, 5),
                      (40, 64, 3, 600)])
    func matchesDirectConvolution(shape: (cin: Int, cout: Int, dilation: Int, t: Int)) {
        let (cin, cout, d, t) = shape
        var rng = TestRandom(state: UInt64(cin * 7919 + cout * 31 + d * 7 + t))
        let x = rng.array((t + 6 * d) * cin), w = rng.array(cout * cin * 7), b = rng.array(cout)
        let packed = winogradWeights(w, cin: cin, cout: cout)
        let exact = exactConv(x, w, b, (cin, cout, 7, d, t))
        let blocks = 0..<Int(tts_conv7_wino_blocks(Int64(t), Int64(d)))
        var ref = [Float](repeating: .nan, count: t * cout), fast = ref
        run(tts_conv7_wino_f32_ref, x, packed, b, &ref, shape, blocks: blocks, channels: 0..<cout)
        run(tts_conv7_wino_f32, x, packed, b, &fast, shape, blocks: blocks, channels: 0..<cout)
        // Winograd rounds transformed values up to ~30 times the inputs: measured at most 3.4e-5
        // (relative above 1, absolute below; outputs reach ~10 here) where the direct GEMM stays
        // within 1e-5 (ConvGemmTwinTests). A wrong transform coefficient gives errors of order 1.
        #expect(relativeError(ref, exact) <= 1e-4, "ref \(shape): \(relativeError(ref, exact))")
        #expect(relativeError(fast, ref) <= 1e-4, "dispatch (\(KernelPaths.active)) against ref \(shape)")
        // Each SIMD path this CPU has, called by name rather than through dispatch, so a forced
        // TTS_KERNELS cannot turn this into scalar against scalar.
        for isa in KernelPaths.simd {
            var y = [Float](repeating: .nan, count: t * cout)
            run({ tts_conv7_wino_f32_isa(isa.id, $0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) }, x, packed, b, &y, shape,
                blocks: blocks, channels: 0..<cout)
            #expect(relativeError(y, exact) <= 1e-4, "\(isa.name) \(shape)")
            #expect(relativeError(y, ref) <= 1e-4, "\(isa.name) against ref \(shape)")
        }
    }

    /// Any split into tile blocks and output channels computes each output the same way, so
    /// the parts together equal the whole call bit for bit, and each part writes only its own.
    @Test(arguments: [(24, 70, 3, 61), (33, 96, 9, 131), (16, 64, 1, 9)])
    func splitsEqualTheWhole(shape: (cin: Int, cout: Int, dilation: Int, t: Int)) {
        let (cin, cout, d, t) = shape
        var rng = TestRandom(state: UInt64(cin + cout * 100 + t))
        let x = rng.array((t + 6 * d) * cin), w = rng.array(cout * cin * 7), b = rng.array(cout)
        let packed = winogradWeights(w, cin: cin, cout: cout)
        let blocks = Int(tts_conv7_wino_blocks(Int64(t), Int64(d)))
        var whole = [Float](repeating: .nan, count: t * cout)
        run(tts_conv7_wino_f32, x, packed, b, &whole, shape, blocks: 0..<blocks, channels: 0..<cout)
        var byBlocks = [Float](repeating: .nan, count: t * cout)
        let mid = blocks / 2
        run(tts_conv7_wino_f32, x, packed, b, &byBlocks, shape, blocks: 0..<mid, channels: 0..<cout)
        let firstHalf = min(t, mid * 4 * d) * cout
        let untouched = byBlocks[firstHalf...].allSatisfy { $0.isNaN }
        #expect(untouched, "the first blocks write past their frames")
        run(tts_conv7_wino_f32, x, packed, b, &byBlocks, shape, blocks: mid..<blocks, channels: 0..<cout)
        #expect(byBlocks == whole)
        var byChannels = [Float](repeating: .nan, count: t * cout)
        run(tts_conv7_wino_f32, x, packed, b, &byChannels, shape, blocks: 0..<blocks, channels: 32..<cout)
        #expect((0..<(t * cout)).allSatisfy { ($0 % cout < 32) == byChannels[$0].isNaN }, "a channel range writes outside itself")
        run(tts_conv7_wino_f32, x, packed, b, &byChannels, shape, blocks: 0..<blocks, channels: 0..<32)
        #expect(byChannels == whole)
        var unbiased = [Float](repeating: .nan, count: t * cout)
        run(tts_conv7_wino_f32, x, packed, nil, &unbiased, shape, blocks: 0..<blocks, channels: 0..<cout)
        #expect(relativeError(unbiased, (0..<(t * cout)).map { whole[$0] - b[$0 % cout] }) <= 1e-4, "without bias")
    }
}
