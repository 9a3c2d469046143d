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
