// CausalConv1d with the Winograd algorithm against the direct GEMM: streamed in chunks, on one
// thread and on two (split by tile blocks, and by channel blocks when the weights outweigh the
// input rows).
import Testing
@testable import TTSRuntime

@Suite struct WinogradConvTests {
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
}
