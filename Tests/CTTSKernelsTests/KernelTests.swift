import CTTSKernels
import Foundation
import Testing

/// Deterministic pseudo-random floats for kernel tests.
struct TestRandom {
    var state: UInt64
    mutating func next() -> Float {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int64(bitPattern: state >> 11) % 2_000_001 - 1_000_000) / 1_000_000
    }
    mutating func array(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
}

func maxRelativeError(_ a: [Float], _ b: [Double]) -> Double {
    var worst = 0.0
    for (x, y) in zip(a, b) { worst = max(worst, abs(Double(x) - y) / max(1, abs(y))) }
    return worst
}

@Suite(.tags(.numerical)) struct ConversionTests {
    @Test func bf16RoundTripAndRounding() {
        #expect(tts_bf16_to_f32(0x3F80) == 1.0)
        #expect(tts_f32_to_bf16(1.0) == 0x3F80)
        // 1 + 2^-8 lies exactly between two bf16 values: ties go to even (1.0).
        #expect(tts_f32_to_bf16(1.00390625) == 0x3F80)
        #expect(tts_f32_to_bf16(1.01171875) == 0x3F82)
        #expect(tts_bf16_to_f32(tts_f32_to_bf16(.nan)).isNaN)
    }

    @Test func f16KnownValues() {
        #expect(tts_f16_to_f32(0x3C00) == 1.0)
        #expect(tts_f16_to_f32(0xC000) == -2.0)
        #expect(tts_f16_to_f32(0x0001) == Float(5.960464477539063e-08))  // smallest subnormal
        #expect(tts_f16_to_f32(0x7C00) == .infinity)
        #expect(tts_f16_to_f32(0x7BFF) == 65504)
    }
}

@Suite(.tags(.numerical)) struct MatmulTests {
    @Test(arguments: [(1, 1, 1), (7, 13, 1), (33, 65, 3), (5, 130, 4)])
    func matchesDoublePrecision(shape: (Int, Int, Int)) {
        let (rows, cols, n) = shape
        var rng = TestRandom(state: UInt64(rows * 1000 + cols * 10 + n))
        let w = rng.array(rows * cols), x = rng.array(cols * n)
        var y = [Float](repeating: .nan, count: rows * n)
        tts_matmul_f32(w, x, &y, Int64(rows), Int64(cols), Int64(n), 0, Int64(rows))
        var expected = [Double](repeating: 0, count: rows * n)
        for t in 0..<n { for r in 0..<rows { for c in 0..<cols { expected[t * rows + r] += Double(w[r * cols + c]) * Double(x[t * cols + c]) } } }
        #expect(maxRelativeError(y, expected) < 1e-5)

        let wb = w.map { tts_f32_to_bf16($0) }
        var yb = [Float](repeating: .nan, count: rows * n)
        tts_matmul_bf16(wb, x, &yb, Int64(rows), Int64(cols), Int64(n), 0, Int64(rows))
        var expectedB = [Double](repeating: 0, count: rows * n)
        for t in 0..<n { for r in 0..<rows { for c in 0..<cols { expectedB[t * rows + r] += Double(tts_bf16_to_f32(wb[r * cols + c])) * Double(x[t * cols + c]) } } }
        #expect(maxRelativeError(yb, expectedB) < 1e-5)
    }

    @Test func rowPartitionComputesOnlyItsRows() {
        var rng = TestRandom(state: 9)
        let w = rng.array(6 * 4), x = rng.array(4)
        var y = [Float](repeating: -7, count: 6)
        tts_matmul_f32(w, x, &y, 6, 4, 1, 2, 4)
        #expect(y[0] == -7 && y[1] == -7 && y[4] == -7 && y[5] == -7)
        #expect(y[2] != -7 && y[3] != -7)
    }
}

@Suite(.tags(.numerical)) struct ConvolutionTests {
    @Test func groupedDilatedConvMatchesNaive() {
        let cin = 4, cout = 6, k = 3, dil = 2, groups = 2, tin = 11
        var rng = TestRandom(state: 3)
        let x = rng.array(cin * tin), w = rng.array(cout * (cin / groups) * k), b = rng.array(cout)
        let tout = tin - dil * (k - 1)
        var y = [Float](repeating: .nan, count: cout * tout)
        tts_conv1d_f32(x, w, b, &y, Int64(cin), Int64(tin), Int64(cout), Int64(k), 1, Int64(dil), Int64(groups), 0, Int64(cout))
        var expected = [Double](repeating: 0, count: cout * tout)
        for co in 0..<cout {
            let g = co / (cout / groups)
            for t in 0..<tout {
                var s = Double(b[co])
                for ci in 0..<(cin / groups) { for kk in 0..<k {
                    s += Double(w[(co * (cin / groups) + ci) * k + kk]) * Double(x[(g * (cin / groups) + ci) * tin + t + kk * dil])
                } }
                expected[co * tout + t] = s
            }
        }
        #expect(maxRelativeError(y, expected) < 1e-5)
    }

    @Test func transposedConvMatchesNaive() {
        let cin = 3, cout = 2, k = 4, stride = 2, tin = 5
        var rng = TestRandom(state: 4)
        let x = rng.array(cin * tin), w = rng.array(cin * cout * k), b = rng.array(cout)
        let tout = (tin - 1) * stride + k
        var y = [Float](repeating: .nan, count: cout * tout)
        tts_conv_transpose1d_f32(x, w, b, &y, Int64(cin), Int64(tin), Int64(cout), Int64(k), Int64(stride), 0, Int64(cout))
        var expected = [Double](repeating: 0, count: cout * tout)
        for co in 0..<cout { for i in 0..<tout { expected[co * tout + i] = Double(b[co]) } }
        for ci in 0..<cin { for co in 0..<cout { for t in 0..<tin { for kk in 0..<k {
            expected[co * tout + t * stride + kk] += Double(x[ci * tin + t]) * Double(w[(ci * cout + co) * k + kk])
        } } } }
        #expect(maxRelativeError(y, expected) < 1e-5)
    }
}

@Suite(.tags(.numerical)) struct ElementwiseTests {
    @Test func softmaxSumsToOneAndKeepsOrder() {
        var x: [Float] = [1, 3, -2, 1000, 999]
        tts_softmax_f32(&x, Int64(x.count))
        #expect(abs(x.reduce(0, +) - 1) < 1e-6)
        #expect(x[3] > x[4] && x[4] > x[1])
    }

    @Test func rmsNormAndLayerNorm() {
        let x: [Float] = [1, 2, 3, 4]
        var y = [Float](repeating: 0, count: 4)
        tts_rmsnorm_f32(x, [1, 1, 2, 1], &y, 4, 0)
        let rms = Float((30.0 / 4).squareRoot())
        #expect(abs(y[2] - 2 * 3 / rms) < 1e-6)
        tts_layernorm_f32(x, [1, 1, 1, 1], [0, 0, 0, 1], &y, 4, 0)
        #expect(abs(y[0] + 1.3416408) < 1e-5 && abs(y[3] - 2.3416408) < 1e-5)
    }

    @Test func ropeRotatesHalvesAsPairs() {
        var x: [Float] = [1, 0, 0, 1]  // pairs (x0, x2) and (x1, x3)
        let c: [Float] = [0, 1], s: [Float] = [1, 0]
        tts_rope_rotate_half_f32(&x, c, s, 4)
        #expect(x == [0, 0, 1, 1])
    }

    @Test func snakeBetaFormula() {
        let x: [Float] = [0.5, -1]
        var y = [Float](repeating: 0, count: 2)
        tts_snake_beta_f32(x, &y, [0.1], [0.2], 1, 2)
        let a = exp(Float(0.1)), b = exp(Float(0.2))
        #expect(abs(y[1] - (-1 + pow(sin(-a), 2) / (b + 1e-9))) < 1e-6)
    }
}
