// Several matrices on one input as one parallel loop: equal to separate products bit for bit,
// for every storage kind (with the activations quantized once), and for a mix of kinds.
import Testing
@testable import TTSRuntime

@Suite(.tags(.numerical)) struct MatrixProductTests {
    func matrix(rows: Int, cols: Int, seed: UInt64, as type: WeightType) -> Matrix {
        var rng = SeededRNG(seed: seed)
        let values = (0..<rows * cols).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 }
        return Matrix(floats: values, rows: rows, cols: cols).converted(to: type).preparedForInference()
    }

    @Test(arguments: WeightType.allCases)
    func groupedEqualsSeparate(type: WeightType) {
        let pool = ThreadPool(threads: 2)
        let cols = 512, n = 3
        // Row counts that are not multiples of the 16-row split, so ranges straddle matrices.
        let ms = [matrix(rows: 40, cols: cols, seed: 1, as: type), matrix(rows: 24, cols: cols, seed: 2, as: type),
                  matrix(rows: 72, cols: cols, seed: 3, as: type == .f32 ? .q8_0 : type)]
        var rng = SeededRNG(seed: 9)
        let x = (0..<n * cols).map { _ in Float(Int(rng.next() % 2001) - 1000) / 500 }
        var separate = ms.map { [Float](repeating: .nan, count: n * $0.rows) }
        var grouped = separate
        x.withUnsafeBufferPointer { xb in
            for i in ms.indices { separate[i].withUnsafeMutableBufferPointer { ms[i].multiply(xb.baseAddress!, $0.baseAddress!, n: n, pool: pool) } }
            let outs = grouped.indices.map { i in UnsafeMutablePointer<Float>.allocate(capacity: n * ms[i].rows) }
            defer { outs.forEach { $0.deallocate() } }
            Matrix.multiply(Array(zip(ms, outs)), xb.baseAddress!, n: n, pool: pool)
            for i in ms.indices { grouped[i] = Array(UnsafeBufferPointer(start: outs[i], count: n * ms[i].rows)) }
        }
        #expect(grouped == separate, "\(type)")
        #expect(!separate.joined().contains { $0.isNaN })
    }
}

/// Batch invariance (issue 18): a token's product does not depend on how many other tokens are
/// multiplied with it. Every row of an n-token product equals the same token multiplied alone,
/// bit for bit, for every storage kind on the dispatched kernel path (the CI repeats this suite
/// with each slower path forced), so a request's codes cannot depend on what else is in a batch.
@Suite(.tags(.numerical)) struct RowInvarianceTests {
    @Test(arguments: WeightType.allCases)
    func eachTokenAsIfAlone(type: WeightType) {
        let pool = ThreadPool(threads: 2)
        // 768: q4_k and q8_0 that are not repacked for the integer kernels (not a multiple of 512).
        for cols in [512, 768, 1024] {
            var rng = SeededRNG(seed: UInt64(cols))
            let rows = 37
            let values = (0..<rows * cols).map { _ in Float(Int(rng.next() % 2001) - 1000) / 1000 }
            let m = Matrix(floats: values, rows: rows, cols: cols).converted(to: type).preparedForInference()
            let maxTokens = 17
            let x = (0..<maxTokens * cols).map { _ in Float(Int(rng.next() % 2001) - 1000) / 300 }
            var alone = [Float](repeating: .nan, count: maxTokens * rows)
            x.withUnsafeBufferPointer { xb in
                alone.withUnsafeMutableBufferPointer { yb in
                    for t in 0..<maxTokens { m.multiply(xb.baseAddress! + t * cols, yb.baseAddress! + t * rows, n: 1, pool: pool) }
                }
            }
            for n in [2, 3, 4, 5, 8, 9, 16, 17] {
                var together = [Float](repeating: .nan, count: n * rows)
                x.withUnsafeBufferPointer { xb in
                    together.withUnsafeMutableBufferPointer { m.multiply(xb.baseAddress!, $0.baseAddress!, n: n, pool: pool) }
                }
                let mismatched = (0..<n * rows).filter { together[$0].bitPattern != alone[$0].bitPattern }.count
                #expect(mismatched == 0, "\(type) (\(m.inputKind)), \(cols) columns, \(n) tokens: \(mismatched) of \(n * rows) outputs differ from the token alone")
            }
        }
    }
}
