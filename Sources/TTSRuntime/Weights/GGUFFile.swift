// GGUF (version 3) files: metadata key/values and tensors in ggml's layouts, read by mmap.
import Foundation

/// A metadata value of a GGUF file (the types this project reads and writes).
public enum GGUFValue: Sendable, Equatable {
    case uint32(UInt32)
    case int32(Int32)
    case uint64(UInt64)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case other(type: UInt32)

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
}

/// ggml tensor type ids used here.
enum GGMLType: UInt32 {
    case f32 = 0, f16 = 1, q8_0 = 8, q4_k = 12, bf16 = 30

    var dtype: DType {
        switch self {
        case .f32: return .f32
        case .f16: return .f16
        case .q8_0: return .q8_0
        case .q4_k: return .q4_k
        case .bf16: return .bf16
        }
    }

    init?(_ d: DType) {
        switch d {
        case .f32: self = .f32
        case .f16: self = .f16
        case .q8_0: self = .q8_0
        case .q4_k: self = .q4_k
        case .bf16: self = .bf16
        default: return nil
        }
    }
}

/// A memory-mapped GGUF file with validated metadata and tensor table.
public final class GGUFFile: TensorFile {
    public let file: MappedFile
    public let tensors: [String: TensorInfo]
    public let metadata: [String: GGUFValue]
    public var path: String { file.path }

    public static let magic: UInt32 = 0x4655_4747  // "GGUF" little-endian

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        var r = Reader(base: file.base, count: file.count, path: file.path)
        guard try r.u32() == GGUFFile.magic else { throw WeightsError.corrupt(path: file.path, reason: "not a GGUF file (bad magic)") }
        let version = try r.u32()
        guard version == 3 else { throw WeightsError.corrupt(path: file.path, reason: "GGUF version \(version) is not supported (3 is)") }
        let tensorCount = try r.count("tensor count")
        let kvCount = try r.count("metadata count")
        var metadata: [String: GGUFValue] = [:]
        for _ in 0..<kvCount {
            let key = try r.string()
            metadata[key] = try r.value(type: try r.u32())
        }
        var alignment = 32
        if case .uint32(let a)? = metadata["general.alignment"] { alignment = Int(a) }
        guard alignment > 0, alignment & (alignment - 1) == 0, alignment <= 1 << 16 else {
            throw WeightsError.corrupt(path: file.path, reason: "general.alignment \(alignment) is not a power of two up to 65536")
        }
        var raw: [(String, [Int], GGMLType, Int)] = []
        for _ in 0..<tensorCount {
            let name = try r.string()
            let nDims = Int(try r.u32())
            guard nDims >= 1 && nDims <= 4 else { throw WeightsError.corrupt(path: file.path, reason: "tensor \(name) has \(nDims) dimensions") }
            var dims: [Int] = []
            for _ in 0..<nDims { dims.append(try r.count("dimension of \(name)")) }
            let typeId = try r.u32()
            guard let type = GGMLType(rawValue: typeId) else {
                throw WeightsError.unsupportedDType(name: name, file: file.path, dtype: "ggml type \(typeId)")
            }
            let offset = try r.count("offset of \(name)")
            raw.append((name, Array(dims.reversed()), type, offset))  // ggml lists the innermost dimension first
        }
        let dataStart = (r.position + alignment - 1) / alignment * alignment
        var table: [String: TensorInfo] = [:]
        for (name, shape, type, offset) in raw {
            // Every type here takes at least 4.5 bits per value, so a tensor of more than twice
            // the file's bytes in values cannot lie inside it; checking that first keeps the
            // products below from overflowing, whatever the dimensions claim.
            var elements = 1
            for d in shape {
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard !overflow, product <= 2 * file.count else {
                    throw WeightsError.corrupt(path: file.path, reason: "tensor \(name) of shape \(shape) cannot lie inside a file of \(file.count) bytes")
                }
                elements = product
            }
            let block = type.dtype.blockSize
            if shape.last! % block != 0 {
                throw WeightsError.corrupt(path: file.path, reason: "\(type.dtype.rawValue) tensor \(name) has rows of \(shape.last!) values, not a multiple of \(block)")
            }
            let bytes = type.dtype.byteCount(elements: elements)
            let start = dataStart + offset
            guard offset % alignment == 0, start <= file.count, bytes <= file.count - start else {
                throw WeightsError.corrupt(path: file.path, reason: "tensor \(name) lies outside the file (truncated?)")
            }
            if table[name] != nil { throw WeightsError.duplicateTensor(name: name, files: [file.path]) }
            table[name] = TensorInfo(name: name, dtype: type.dtype, shape: shape, offset: start, byteCount: bytes)
        }
        tensors = table
        self.metadata = metadata
    }

    /// Bounds-checked little-endian reading of the header.
    struct Reader {
        let base: UnsafeRawPointer
        let count: Int
        let path: String
        var position = 0

        mutating func bytes(_ n: Int) throws -> UnsafeRawPointer {
            guard n >= 0, position + n <= count else { throw WeightsError.corrupt(path: path, reason: "the header is truncated") }
            defer { position += n }
            return base + position
        }

        mutating func u32() throws -> UInt32 { UInt32(littleEndian: try bytes(4).loadUnaligned(as: UInt32.self)) }
        mutating func u64() throws -> UInt64 { UInt64(littleEndian: try bytes(8).loadUnaligned(as: UInt64.self)) }

        mutating func count(_ what: String) throws -> Int {
            let v = try u64()
            guard v <= UInt64(count) * 64 else { throw WeightsError.corrupt(path: path, reason: "\(what) \(v) is not plausible") }
            return Int(v)
        }

        mutating func string() throws -> String {
            let n = try count("string length")
            let p = try bytes(n)
            return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
        }

        /// Arrays may hold arrays; deeper than this is refused rather than recursed into.
        static let maxArrayDepth = 4

        mutating func value(type: UInt32, depth: Int = 0) throws -> GGUFValue {
            switch type {
            case 0, 1: _ = try bytes(1); return .other(type: type)
            case 2, 3: _ = try bytes(2); return .other(type: type)
            case 4: return .uint32(try u32())
            case 5: return .int32(Int32(bitPattern: try u32()))
            case 6: return .float32(Float(bitPattern: try u32()))
            case 7: return .bool(try bytes(1).load(as: UInt8.self) != 0)
            case 8: return .string(try string())
            case 9:
                guard depth < Self.maxArrayDepth else {
                    throw WeightsError.corrupt(path: path, reason: "metadata arrays are nested more than \(Self.maxArrayDepth) deep")
                }
                let elementType = try u32()
                let n = try count("array length")
                for _ in 0..<n { _ = try value(type: elementType, depth: depth + 1) }
                return .other(type: 9)
            case 10: return .uint64(try u64())
            case 11, 12: _ = try bytes(8); return .other(type: type)
            default: throw WeightsError.corrupt(path: path, reason: "unknown metadata type \(type)")
            }
        }
    }
}

/// Writes a GGUF file: metadata first, then tensors streamed one by one (aligned).
public final class GGUFWriter {
    public struct Tensor {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        /// Produces the tensor's bytes when the data section is written.
        public var bytes: () throws -> Data

        public init(name: String, dtype: DType, shape: [Int], bytes: @escaping () throws -> Data) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }
    }

    public let alignment = 32
    private var metadata: [(String, GGUFValue)] = []
    private var tensors: [Tensor] = []

    public init() {}

    public func set(_ key: String, _ value: GGUFValue) { metadata.append((key, value)) }
    public func add(_ tensor: Tensor) { tensors.append(tensor) }

    /// Writes to `path` (through a temporary file renamed at the end, so a failure leaves no
    /// partial file behind).
    public func write(to path: String) throws {
        let temporary = path + ".partial"
        _ = FileManager.default.createFile(atPath: temporary, contents: nil)  // failure shows as the open below failing
        guard let h = FileHandle(forWritingAtPath: temporary) else {
            throw WeightsError.cannotOpen(path: path, reason: "cannot create the file")
        }
        var ok = false
        defer {
            try? h.close()
            if !ok { try? FileManager.default.removeItem(atPath: temporary) }
        }
        var header = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { header.append(contentsOf: $0) } }
        func str(_ s: String) { u64(UInt64(s.utf8.count)); header.append(contentsOf: Array(s.utf8)) }
        u32(GGUFFile.magic)
        u32(3)
        u64(UInt64(tensors.count))
        let kv = [("general.alignment", GGUFValue.uint32(UInt32(alignment)))] + metadata
        u64(UInt64(kv.count))
        for (key, value) in kv {
            str(key)
            switch value {
            case .uint32(let v): u32(4); u32(v)
            case .int32(let v): u32(5); u32(UInt32(bitPattern: v))
            case .float32(let v): u32(6); u32(v.bitPattern)
            case .bool(let v): u32(7); header.append(v ? 1 : 0)
            case .string(let v): u32(8); str(v)
            case .uint64(let v): u32(10); u64(v)
            case .other: preconditionFailure("metadata \(key): only scalar and string values are written")
            }
        }
        var offset = 0
        for t in tensors {
            guard let type = GGMLType(t.dtype) else {
                throw WeightsError.unsupportedDType(name: t.name, file: path, dtype: t.dtype.rawValue)
            }
            str(t.name)
            u32(UInt32(t.shape.count))
            for d in t.shape.reversed() { u64(UInt64(d)) }
            u32(type.rawValue)
            u64(UInt64(offset))
            offset += (t.dtype.byteCount(elements: t.shape.reduce(1, *)) + alignment - 1) / alignment * alignment
        }
        while header.count % alignment != 0 { header.append(0) }
        try h.write(contentsOf: header)
        for t in tensors {
            var data = try t.bytes()
            let expected = t.dtype.byteCount(elements: t.shape.reduce(1, *))
            guard data.count == expected else {
                throw WeightsError.corrupt(path: path, reason: "tensor \(t.name) produced \(data.count) bytes, expected \(expected)")
            }
            while data.count % alignment != 0 { data.append(0) }
            try h.write(contentsOf: data)
        }
        try h.synchronize()
        try h.close()
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
        ok = true
    }
}
