// CausalConv1d with the Winograd algorithm against the direct GEMM: streamed in chunks, on one
// thread and on two (split by tile blocks, and by channel blocks when the weights outweigh the
// input rows).
import Testing
@testable import TTSRuntime

@Suite(.tags(.numerical)) struct WinogradConvTests {
    @Test(arguments: [(24, 70, 3, [5, 60, 1]), (96, 96, 9, [31, 200]), (64, 128, 1, [2, 1, 3])])
    func streamsLikeTheDirectConv(shape: (c: Int, cout: Int, dilation: Int, chunks: [Int])) {
        let (cin, cout, d, chunks) = shape
        var rng = SeededRNG(seed: UInt64(cin * 100 + d))
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 } }
        let w = values(cout * cin * 7), b = values(cout)
        let direct = CausalConv1d(weight: w, bias: b, inChannels: cin, outChannels: cout, kernelSize: 7, dilation: d)
        let wino = CausalConv1d(weight: w, bias: b, inChannels: cin, outChannels: cout, kernelSize: 7, dilation: d,
                                algorithm: .winograd)
        #expect(wino.algorithm == .winograd && wino.weightBytes >= 2 * direct.weightBytes - 7 * 4 * 32 * cin * 2)
        let pool = ThreadPool(threads: 2)
        var tails = (direct.initialTail(), wino.initialTail(), wino.initialTail())
        var worst: Float = 0, scale: Float = 1
        for t in chunks {
            let x = values(t * cin)
            let a = direct.stream(x, frames: t, tail: &tails.0)
            let one = wino.stream(x, frames: t, tail: &tails.1)
            let two = wino.stream(x, frames: t, tail: &tails.2, pool: pool)
            #expect(one == two, "two threads differ from one (\(t) frames)")
            for (p, q) in zip(a, one) { worst = max(worst, abs(p - q)); scale = max(scale, abs(p)) }
        }
        #expect(tails.0 == tails.1)
        // Winograd's rounding: a few 1e-6 of the outputs' scale (measured below 1e-5 here).
        #expect(worst <= 2e-5 * scale, "max |Δ| \(worst) at scale \(scale)")
    }

    /// `apply(adding:)` with the residual in the output array itself, on every path.
    @Test(arguments: [(ConvPrecision.f32, ConvAlgorithm.direct), (.f32, .winograd), (.bf16, .direct)])
    func residualAddedInPlace(kind: (precision: ConvPrecision, algorithm: ConvAlgorithm)) {
        let (cin, cout, d, t) = (20, 40, 3, 33)
        var rng = SeededRNG(seed: 7)
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 } }
        let conv = CausalConv1d(weight: values(cout * cin * 7), bias: values(cout), inChannels: cin, outChannels: cout, kernelSize: 7,
                                dilation: d, precision: kind.precision, algorithm: kind.algorithm)
        let x = values((t + conv.history) * cin), residual = values(t * cout)
        var plain = [Float](repeating: 0, count: t * cout), summed = residual
        x.withUnsafeBufferPointer { xp in
            plain.withUnsafeMutableBufferPointer { conv.apply(context: xp.baseAddress!, frames: t, into: $0.baseAddress!, pool: nil) }
            summed.withUnsafeMutableBufferPointer {
                conv.apply(context: xp.baseAddress!, frames: t, into: $0.baseAddress!, adding: $0.baseAddress!, pool: ThreadPool(threads: 2))
            }
        }
        let worst = zip(summed, zip(plain, residual)).map { abs($0 - ($1.0 + $1.1)) }.max() ?? .infinity
        #expect(worst <= 1e-5, "\(kind): \(worst)")
    }
}
