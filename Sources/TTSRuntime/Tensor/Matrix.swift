// Read-only weight matrices in their stored type, and owned f32 storage.
import CTTSKernels

/// Immutable f32 storage owned by Swift (converted weights, precomputed tables).
///
/// Sendable because the buffer is filled once in `init` and never written afterwards.
public final class FloatStorage: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    public init(_ values: [Float]) {
        count = values.count
        pointer = .allocate(capacity: max(count, 1))
        values.withUnsafeBufferPointer { pointer.initialize(from: $0.baseAddress!, count: count) }
    }

    deinit { pointer.deallocate() }
}

/// Immutable raw bytes owned by Swift (converted or quantized weights), 64-byte aligned.
///
/// Sendable because the bytes are written once by the initialiser's `fill` and never after.
public final class ByteStorage: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let count: Int

    public init(count: Int, fill: (UnsafeMutableRawPointer) -> Void) {
        self.count = count
        pointer = .allocate(byteCount: max(count, 1), alignment: 64)
        fill(pointer)
    }

    deinit { pointer.deallocate() }
}

/// How a weight matrix is stored.
public enum WeightType: String, Sendable, CaseIterable {
    case f32
    case bf16
    /// ggml q8_0: blocks of 32 int8 with an f16 scale (8.5 bits per weight).
    case q8_0
    /// ggml q4_K: super-blocks of 256 with 6-bit sub-block scales and mins (4.5 bits per weight).
    case q4_k

    /// Values per block: a matrix's rows must be whole blocks.
    public var blockSize: Int {
        switch self {
        case .f32, .bf16: return 1
        case .q8_0: return 32
        case .q4_k: return 256
        }
    }

    /// Whether a matrix with `cols` columns can be stored this way.
    public func supports(cols: Int) -> Bool { cols % blockSize == 0 }
}

/// A row-major [rows, cols] weight matrix. Storage is either read in place from a mapped file
/// (f32 or bf16) or owned f32; `owner` keeps whichever alive.
public struct Matrix: Sendable {
    public enum Storage: @unchecked Sendable {
        case f32(UnsafePointer<Float>)
        case bf16(UnsafePointer<UInt16>)
        /// cols/32 blocks of TTS_Q8_0_BLOCK_BYTES per row.
        case q8_0(UnsafePointer<UInt8>)
        /// q8_0 repacked for integer dot products: quants [rows][cols] in VNNI order, f16 scales
        /// [rows][cols/32] (see tts_kernels.h). Same values as q8_0.
        case q8Vnni(quants: UnsafePointer<UInt8>, scales: UnsafePointer<UInt16>)
        /// cols/256 blocks of TTS_Q4_K_BLOCK_BYTES per row (ggml q4_K).
        case q4_k(UnsafePointer<UInt8>)
        /// q4_k repacked for integer dot products: nibbles [rows][cols/2] in VNNI order, scales
        /// [rows][cols/512][TTS_Q4_K_VNNI_META_BYTES] (see tts_kernels.h). Same values as q4_k.
        case q4kVnni(nibbles: UnsafePointer<UInt8>, meta: UnsafePointer<UInt8>)
    }

    public var weightType: WeightType {
        switch storage {
        case .f32: return .f32
        case .bf16: return .bf16
        case .q8_0, .q8Vnni: return .q8_0
        case .q4_k, .q4kVnni: return .q4_k
        }
    }

    public let rows: Int
    public let cols: Int
    public let storage: Storage
    let owner: any Sendable

    public init(rows: Int, cols: Int, storage: Storage, owner: any Sendable) {
        self.rows = rows
        self.cols = cols
        self.storage = storage
        self.owner = owner
    }

    public init(floats: [Float], rows: Int, cols: Int) {
        precondition(floats.count == rows * cols, "matrix data does not match its shape")
        let s = FloatStorage(floats)
        self.init(rows: rows, cols: cols, storage: .f32(UnsafePointer(s.pointer)), owner: s)
    }

    /// Bytes of weight data read by one full product.
    public var byteCount: Int {
        switch storage {
        case .f32: return rows * cols * 4
        case .bf16: return rows * cols * 2
        case .q8_0, .q8Vnni: return rows * (cols / 32) * Int(TTS_Q8_0_BLOCK_BYTES)
        case .q4_k: return rows * (cols / 256) * Int(TTS_Q4_K_BLOCK_BYTES)
        case .q4kVnni: return rows * (cols / 2) + rows * (cols / 512) * Int(TTS_Q4_K_VNNI_META_BYTES)
        }
    }

    /// Writes row `r` as f32 into `out` (cols values).
    public func row(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(r >= 0 && r < rows, "row \(r) out of range 0..<\(rows)")
        switch storage {
        case .f32(let p): out.update(from: p + r * cols, count: cols)
        case .bf16(let p): tts_convert_bf16_f32(p + r * cols, out, Int64(cols))
        case .q8_0(let p): tts_dequantize_q8_0(p + r * (cols / 32) * Int(TTS_Q8_0_BLOCK_BYTES), out, Int64(cols))
        case .q8Vnni(let q, let s): tts_q8_vnni_dequantize_row(q + r * cols, s + r * (cols / 32), out, Int64(cols))
        case .q4_k(let p): tts_dequantize_q4_k(p + r * (cols / 256) * Int(TTS_Q4_K_BLOCK_BYTES), out, Int64(cols))
        case .q4kVnni(let q, let m):
            tts_q4_k_vnni_dequantize_row(q + r * (cols / 2), m + r * (cols / 512) * Int(TTS_Q4_K_VNNI_META_BYTES), out, Int64(cols))
        }
    }

    /// Adds row `r` (as f32) into `out`.
    public func addRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(r >= 0 && r < rows, "row \(r) out of range 0..<\(rows)")
        switch storage {
        case .f32(let p):
            let src = p + r * cols
            for i in 0..<cols { out[i] += src[i] }
        case .bf16(let p):
            let src = p + r * cols
            for i in 0..<cols { out[i] += tts_bf16_to_f32(src[i]) }
        case .q8_0, .q8Vnni, .q4_k, .q4kVnni:
            var tmp = [Float](repeating: 0, count: cols)
            tmp.withUnsafeMutableBufferPointer { row(r, into: $0.baseAddress!) }
            for i in 0..<cols { out[i] += tmp[i] }
        }
    }

    /// A q8_0 or q4_k matrix repacked for the integer dot-product kernels when this CPU has them
    /// and the width allows (a multiple of 512); any other matrix is returned as it is. Lossless.
    public func preparedForInference() -> Matrix {
        guard cols % 512 == 0 else { return self }
        switch storage {
        case .q8_0(let src) where tts_q8_vnni_supported() != 0:
            let nb = cols / 32
            let s = ByteStorage(count: rows * cols + rows * nb * 2) { p in
                tts_q8_vnni_repack(src, Int64(rows), Int64(cols), p.assumingMemoryBound(to: UInt8.self),
                                   (p + rows * cols).assumingMemoryBound(to: UInt16.self))
            }
            releaseSource(src)
            let quants = UnsafePointer(s.pointer.assumingMemoryBound(to: UInt8.self))
            let scales = UnsafePointer((s.pointer + rows * cols).assumingMemoryBound(to: UInt16.self))
            return Matrix(rows: rows, cols: cols, storage: .q8Vnni(quants: quants, scales: scales), owner: s)
        case .q4_k(let src) where tts_q4_k_vnni_supported() != 0:
            let nibbleBytes = rows * cols / 2
            let s = ByteStorage(count: nibbleBytes + rows * (cols / 512) * Int(TTS_Q4_K_VNNI_META_BYTES)) { p in
                tts_q4_k_vnni_repack(src, Int64(rows), Int64(cols), p.assumingMemoryBound(to: UInt8.self),
                                     (p + nibbleBytes).assumingMemoryBound(to: UInt8.self))
            }
            releaseSource(src)
            let nibbles = UnsafePointer(s.pointer.assumingMemoryBound(to: UInt8.self))
            let meta = UnsafePointer((s.pointer + nibbleBytes).assumingMemoryBound(to: UInt8.self))
            return Matrix(rows: rows, cols: cols, storage: .q4kVnni(nibbles: nibbles, meta: meta), owner: s)
        default:
            return self
        }
    }

    /// The source bytes of a repacked matrix are no longer read: let a mapped file's pages leave memory.
    private func releaseSource(_ src: UnsafePointer<UInt8>) {
        if let file = owner as? MappedFile {
            file.release(offset: UnsafeRawPointer(src) - file.base, length: byteCount)
        }
    }

    /// The same matrix stored as `type` (rows converted one at a time). A quantized type whose
    /// block does not divide the width keeps the matrix as it is.
    public func converted(to type: WeightType) -> Matrix {
        if type == weightType || !type.supports(cols: cols) { return self }
        var row = [Float](repeating: 0, count: cols)
        switch type {
        case .f32:
            let s = ByteStorage(count: rows * cols * 4) { p in
                let f = p.assumingMemoryBound(to: Float.self)
                for r in 0..<rows { self.row(r, into: f + r * cols) }
            }
            return Matrix(rows: rows, cols: cols, storage: .f32(UnsafePointer(s.pointer.assumingMemoryBound(to: Float.self))), owner: s)
        case .bf16:
            let s = ByteStorage(count: rows * cols * 2) { p in
                let h = p.assumingMemoryBound(to: UInt16.self)
                row.withUnsafeMutableBufferPointer { buf in
                    for r in 0..<rows {
                        self.row(r, into: buf.baseAddress!)
                        for c in 0..<cols { h[r * cols + c] = tts_f32_to_bf16(buf[c]) }
                    }
                }
            }
            return Matrix(rows: rows, cols: cols, storage: .bf16(UnsafePointer(s.pointer.assumingMemoryBound(to: UInt16.self))), owner: s)
        case .q8_0:
            let s = quantizedRows(blockBytes: Int(TTS_Q8_0_BLOCK_BYTES), blockSize: 32, row: &row, tts_quantize_q8_0)
            return Matrix(rows: rows, cols: cols, storage: .q8_0(UnsafePointer(s.pointer.assumingMemoryBound(to: UInt8.self))), owner: s)
        case .q4_k:
            let s = quantizedRows(blockBytes: Int(TTS_Q4_K_BLOCK_BYTES), blockSize: 256, row: &row, tts_quantize_q4_k)
            return Matrix(rows: rows, cols: cols, storage: .q4_k(UnsafePointer(s.pointer.assumingMemoryBound(to: UInt8.self))), owner: s)
        }
    }

    /// Every row as f32, then quantized by `quantize` into rows of cols/blockSize blocks.
    private func quantizedRows(blockBytes: Int, blockSize: Int, row: inout [Float],
                               _ quantize: (UnsafePointer<Float>, UnsafeMutablePointer<UInt8>, Int64) -> Void) -> ByteStorage {
        let rowBytes = (cols / blockSize) * blockBytes
        return ByteStorage(count: rows * rowBytes) { p in
            let q = p.assumingMemoryBound(to: UInt8.self)
            row.withUnsafeMutableBufferPointer { buf in
                for r in 0..<rows {
                    self.row(r, into: buf.baseAddress!)
                    quantize(buf.baseAddress!, q + r * rowBytes, Int64(cols))
                }
            }
        }
    }

    /// The whole matrix as f32 values (copied).
    public func toFloats() -> [Float] {
        [Float](unsafeUninitializedCapacity: rows * cols) { buf, n in
            for r in 0..<rows { row(r, into: buf.baseAddress! + r * cols) }
            n = rows * cols
        }
    }

    /// y[t][r] = sum_c W[r][c] * x[t][c] for n tokens, rows split over `pool`'s threads
    /// (each row is computed by one thread, so the result does not depend on the thread count).
    public func multiply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int, pool: ThreadPool? = nil) {
        Matrix.multiply([(self, y)], x, n: n, pool: pool)
    }

    /// Several matrices applied to the same input, each into its own output (y [n][rows]), as one
    /// parallel loop over all their rows; the input is quantized once when they share a storage
    /// kind and width (q, k and v; gate and up). Each row is still computed by one thread, so the
    /// results equal separate multiplies bit for bit.
    public static func multiply(_ parts: [(Matrix, UnsafeMutablePointer<Float>)], _ x: UnsafePointer<Float>, n: Int,
                                pool: ThreadPool? = nil) {
        guard let first = parts.first?.0 else { return }
        let kind = first.inputKind
        if parts.contains(where: { $0.0.inputKind != kind || $0.0.cols != first.cols }) {
            for (m, y) in parts { multiply([(m, y)], x, n: n, pool: pool) }
            return
        }
        let input = PreparedInput(kind: kind, x: x, n: n, cols: first.cols)
        let total = parts.reduce(0) { $0 + $1.0.rows }
        splitWork(total, granularity: 16, work: total * first.cols * max(n, 1), threshold: 32_768, pool: pool) { lo, hi in
            var offset = 0
            for (m, y) in parts {
                let a = max(lo, offset) - offset, b = min(hi, offset + m.rows) - offset
                if a < b { m.multiplyRows(input, y, a, b) }
                offset += m.rows
            }
        }
    }

    /// How a product's activations are prepared for this storage.
    var inputKind: PreparedInput.Kind {
        switch storage {
        case .f32, .bf16, .q8_0: return .float
        case .q8Vnni: return .q8Vnni
        case .q4_k: return .q4k
        case .q4kVnni: return .q4kVnni
        }
    }

    /// Rows [lo, hi) of the product for every token of `input` (y [n][rows]).
    func multiplyRows(_ input: PreparedInput, _ y: UnsafeMutablePointer<Float>, _ lo: Int, _ hi: Int) {
        let (r, c, n) = (Int64(rows), Int64(cols), Int64(input.n))
        switch storage {
        case .f32(let w): tts_matmul_f32(w, input.x, y, r, c, n, Int64(lo), Int64(hi))
        case .bf16(let w): tts_matmul_bf16(w, input.x, y, r, c, n, Int64(lo), Int64(hi))
        case .q8_0(let w): tts_matmul_q8_0(w, input.x, y, r, c, n, Int64(lo), Int64(hi))
        case .q4_k(let w): tts_q4_k_matmul_tokens(w, input.xq, input.xs, input.xsum, y, r, c, n, Int64(lo), Int64(hi))
        case .q4kVnni(let q, let m): tts_q4_k_vnni_matmul_tokens(q, m, input.xq, input.xs, input.xsum, y, r, c, n, Int64(lo), Int64(hi))
        case .q8Vnni(let q, let s):
            // Per block of 64 rows (which stays in cache), every token through the integer kernel.
            let nb = cols / 32
            var a = lo
            while a < hi {
                let b = min(hi, a + 64)
                for t in 0..<input.n {
                    tts_q8_vnni_matvec(q, s, input.xq + t * cols, input.xs + t * nb, input.xsum + t * nb, y + t * rows,
                                       c, Int64(a), Int64(b))
                }
                a = b
            }
        }
    }
}

/// The activations of one product, quantized once for every matrix that reads them: int8 with a
/// scale per 32 values (q8_0 in VNNI order) or per 256 (q4_k, in its own arrangement); f32 as given.
final class PreparedInput {
    enum Kind { case float, q8Vnni, q4k, q4kVnni }
    let x: UnsafePointer<Float>
    let n: Int
    let xq: UnsafeMutablePointer<Int8>
    let xs: UnsafeMutablePointer<Float>
    let xsum: UnsafeMutablePointer<Int32>

    init(kind: Kind, x: UnsafePointer<Float>, n: Int, cols: Int) {
        self.x = x
        self.n = n
        let scales = kind == .q8Vnni ? cols / 32 : cols / 256
        let quantized = kind != .float
        xq = .allocate(capacity: quantized ? n * cols : 0)
        xs = .allocate(capacity: quantized ? n * scales : 0)
        xsum = .allocate(capacity: quantized ? n * (cols / 32) : 0)
        for t in 0..<(quantized ? n : 0) {
            let (xt, q, d, sum) = (x + t * cols, xq + t * cols, xs + t * scales, xsum + t * (cols / 32))
            switch kind {
            case .q8Vnni: tts_q8_vnni_quantize_x(xt, Int64(cols), q, d, sum)
            case .q4k: tts_q4_k_quantize_x(xt, Int64(cols), q, d, sum)
            case .q4kVnni: tts_q4_k_vnni_quantize_x(xt, Int64(cols), q, d, sum)
            case .float: break
            }
        }
    }

    deinit {
        xq.deallocate()
        xs.deallocate()
        xsum.deallocate()
    }
}

/// A linear layer y = W x (+ b), weight [out, in].
public struct Linear: Sendable {
    public let weight: Matrix
    public let bias: [Float]?

    public init(weight: Matrix, bias: [Float]? = nil) {
        precondition(bias == nil || bias!.count == weight.rows, "bias does not match the weight rows")
        self.weight = weight
        self.bias = bias
    }

    public func converted(to type: WeightType) -> Linear { Linear(weight: weight.converted(to: type), bias: bias) }
    public func preparedForInference() -> Linear { Linear(weight: weight.preparedForInference(), bias: bias) }

    /// Several layers applied to the same input x [n][in], each into its own output, as one
    /// parallel loop (Matrix.multiply(_:_:n:pool:)); biases added after.
    public static func apply(_ parts: [(Linear, UnsafeMutablePointer<Float>)], _ x: UnsafePointer<Float>, n: Int = 1,
                             pool: ThreadPool? = nil) {
        Matrix.multiply(parts.map { ($0.0.weight, $0.1) }, x, n: n, pool: pool)
        for (l, y) in parts { l.addBias(y, n: n) }
    }

    public var inFeatures: Int { weight.cols }
    public var outFeatures: Int { weight.rows }

    /// Applies the layer to n token-major rows: x [n][in] -> y [n][out].
    public func callAsFunction(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, n: Int = 1, pool: ThreadPool? = nil) {
        weight.multiply(x, y, n: n, pool: pool)
        addBias(y, n: n)
    }

    private func addBias(_ y: UnsafeMutablePointer<Float>, n: Int) {
        if let bias {
            let out = weight.rows
            bias.withUnsafeBufferPointer { b in
                for t in 0..<n {
                    let row = y + t * out
                    for i in 0..<out { row[i] += b[i] }
                }
            }
        }
    }
}

extension WeightStore {
    /// Loads `<prefix>.weight` [out, in] and, if asked, `<prefix>.bias` [out].
    public func linear(_ prefix: String, out: Int, in inFeatures: Int, bias: Bool) throws -> Linear {
        let w = try matrix("\(prefix).weight", rows: out, cols: inFeatures)
        let b = bias ? try floats("\(prefix).bias", shape: [out]) : nil
        return Linear(weight: w, bias: b)
    }
}
