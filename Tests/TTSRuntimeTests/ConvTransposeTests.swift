// The causal transposed convolution (run as one kernel-2 conv over its output phases) against a
// direct ConvTranspose1d with the right trim, for every kernel/stride relation it allows, in chunks.
import Testing
@testable import TTSRuntime

@Suite(.tags(.numerical)) struct ConvTransposeTests {
    @Test(arguments: [(2, 2), (4, 2), (3, 2), (16, 8), (5, 3)])
    func phasesEqualDirectTransposedConv(shape: (k: Int, s: Int)) {
        let (k, s) = shape
        let (cin, cout, t) = (5, 37, 11)  // 37 output channels: not a whole 32-channel block
        var rng = SeededRNG(seed: UInt64(k * 10 + s))
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 } }
        let w = values(cin * cout * k), b = values(cout), x = values(t * cin)
        // Direct: y[r*s + j][o] += w[i][o][j] * x[r][i] over the full length, then keep t*s frames.
        var direct = [Double](repeating: 0, count: ((t - 1) * s + k) * cout)
        for r in 0..<t {
            for j in 0..<k {
                for o in 0..<cout {
                    for i in 0..<cin { direct[(r * s + j) * cout + o] += Double(w[(i * cout + o) * k + j]) * Double(x[r * cin + i]) }
                }
            }
        }
        let conv = CausalConvTranspose1d(weight: w, bias: b, inChannels: cin, outChannels: cout, kernelSize: k, stride: s)
        // Two chunks (4 + 7 frames) through the streaming state.
        var previous = conv.initialTail()
        let y = conv.stream(Array(x[0..<(4 * cin)]), frames: 4, previous: &previous)
            + conv.stream(Array(x[(4 * cin)...]), frames: 7, previous: &previous)
        #expect(y.count == t * s * cout)
        var worst = 0.0
        for f in 0..<(t * s) {
            for o in 0..<cout { worst = max(worst, abs(Double(y[f * cout + o]) - (direct[f * cout + o] + Double(b[o])))) }
        }
        #expect(worst < 1e-5, "k \(k) s \(s): max error \(worst)")
    }
}
