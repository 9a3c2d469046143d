// A set of tensor files seen as one table of named tensors, with strict accounting.
import CTTSKernels
import Foundation

/// The tensors of one checkpoint component (one file, or an index with shards).
///
/// Loading is strict: asking for a missing tensor or one with the wrong shape throws an error that
/// names it, and `finish()` throws if any tensor in the files was never taken (or deliberately
/// skipped with `skip(prefix:)`). Used during loading only, from one thread.
public final class WeightStore {
    public let files: [any TensorFile]
    private var index: [String: (file: any TensorFile, info: TensorInfo)] = [:]
    private var used: Set<String> = []

    /// `rename` maps a tensor's name in the file to its name here, or nil to leave it out (one
    /// GGUF file holds several components under prefixes).
    public init(files: [any TensorFile], rename: (String) -> String? = { $0 }) throws {
        self.files = files
        for f in files {
            for (fileName, info) in f.tensors {
                guard let name = rename(fileName) else { continue }
                if let previous = index[name] {
                    throw WeightsError.duplicateTensor(name: name, files: [previous.file.path, f.path])
                }
                index[name] = (f, info)
            }
        }
    }

    /// Opens `<directory>/<stem>.safetensors`, or `<stem>.safetensors.index.json` and its shards.
    public static func open(directory: String, stem: String = "model") throws -> WeightStore {
        let single = (directory as NSString).appendingPathComponent("\(stem).safetensors")
        let indexPath = single + ".index.json"
        let fm = FileManager.default
        if fm.fileExists(atPath: single) {
            return try WeightStore(files: [SafetensorsFile(path: single)])
        }
        guard fm.fileExists(atPath: indexPath) else {
            throw WeightsError.cannotOpen(path: single, reason: "no such file (nor \(stem).safetensors.index.json)")
        }
        guard let data = fm.contents(atPath: indexPath),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let map = json["weight_map"] as? [String: String]
        else { throw WeightsError.corrupt(path: indexPath, reason: "not a safetensors index (no weight_map)") }
        var shards: [String] = []
        for shard in Set(map.values).sorted() {
            guard !shard.contains("/"), !shard.hasPrefix(".") else {
                throw WeightsError.corrupt(path: indexPath, reason: "shard name \(shard) points outside the directory")
            }
            shards.append(shard)
        }
        let store = try WeightStore(files: shards.map { try SafetensorsFile(path: (directory as NSString).appendingPathComponent($0)) })
        for (name, shard) in map where store.index[name]?.file.path.hasSuffix("/" + shard) != true {
            throw WeightsError.missingTensor(name: name, files: [shard])
        }
        return store
    }

    public var names: [String] { Array(index.keys) }

    /// A tensor's file and location, without marking it used.
    public func location(_ name: String) -> (file: any TensorFile, info: TensorInfo)? { index[name] }
    public func contains(_ name: String) -> Bool { index[name] != nil }

    /// Looks a tensor up, checks its shape and marks it used.
    public func info(_ name: String, shape: [Int]) throws -> (any TensorFile, TensorInfo) {
        guard let (file, info) = index[name] else {
            throw WeightsError.missingTensor(name: name, files: files.map(\.path))
        }
        guard info.shape == shape else {
            throw WeightsError.shapeMismatch(name: name, file: file.path, expected: shape, actual: info.shape)
        }
        guard info.dtype.isFloat else {
            throw WeightsError.unsupportedDType(name: name, file: file.path, dtype: info.dtype.rawValue)
        }
        used.insert(name)
        return (file, info)
    }

    /// The tensor converted to f32 (copied).
    /// The tensor converted to f32 (copied); the mapped pages it came from are released, so a
    /// copied tensor does not stay resident twice.
    public func floats(_ name: String, shape: [Int]) throws -> [Float] {
        let (file, info) = try info(name, shape: shape)
        let values = convertToFloats(file.pointer(info), dtype: info.dtype, count: info.elementCount)
        file.file.release(offset: info.offset, length: info.byteCount)
        return values
    }

    /// A [rows, cols] weight matrix (trailing dimensions of size 1 allowed in `extraShape`), read in
    /// place from the mapping when its type and alignment allow, converted to f32 otherwise.
    public func matrix(_ name: String, rows: Int, cols: Int, extraShape: [Int] = []) throws -> Matrix {
        let (file, info) = try info(name, shape: [rows, cols] + extraShape)
        let p = file.pointer(info)
        switch info.dtype {
        case .f32 where Int(bitPattern: p) % MemoryLayout<Float>.alignment == 0:
            return Matrix(rows: rows, cols: cols, storage: .f32(p.assumingMemoryBound(to: Float.self)), owner: file.file)
        case .bf16 where Int(bitPattern: p) % MemoryLayout<UInt16>.alignment == 0:
            return Matrix(rows: rows, cols: cols, storage: .bf16(p.assumingMemoryBound(to: UInt16.self)), owner: file.file)
        case .q8_0:
            return Matrix(rows: rows, cols: cols, storage: .q8_0(p.assumingMemoryBound(to: UInt8.self)), owner: file.file)
        case .q4_k:
            return Matrix(rows: rows, cols: cols, storage: .q4_k(p.assumingMemoryBound(to: UInt8.self)), owner: file.file)
        default:
            let m = Matrix(floats: convertToFloats(p, dtype: info.dtype, count: rows * cols), rows: rows, cols: cols)
            file.file.release(offset: info.offset, length: info.byteCount)
            return m
        }
    }

    /// Marks every tensor under `prefix` as deliberately not loaded; returns how many there were.
    @discardableResult
    public func skip(prefix: String) -> Int {
        let names = index.keys.filter { $0.hasPrefix(prefix) }
        used.formUnion(names)
        return names.count
    }

    /// Throws if any tensor was neither taken nor skipped.
    public func finish() throws {
        let unused = index.keys.filter { !used.contains($0) }.sorted()
        if !unused.isEmpty {
            throw WeightsError.unusedTensors(names: unused, file: files.map(\.path).joined(separator: ", "))
        }
    }
}

/// Copies `count` elements of a floating type into a new f32 array (unaligned reads are fine).
func convertToFloats(_ p: UnsafeRawPointer, dtype: DType, count: Int) -> [Float] {
    [Float](unsafeUninitializedCapacity: count) { buf, initialized in
        switch dtype {
        case .f32:
            memcpy(buf.baseAddress!, p, count * 4)
        case .bf16, .f16:
            var tmp = [UInt16](repeating: 0, count: count)
            tmp.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(start: p, count: count * 2)) }
            tmp.withUnsafeBufferPointer { src in
                if dtype == .bf16 {
                    tts_convert_bf16_f32(src.baseAddress!, buf.baseAddress!, Int64(count))
                } else {
                    tts_convert_f16_f32(src.baseAddress!, buf.baseAddress!, Int64(count))
                }
            }
        case .f64:
            for i in 0..<count { buf[i] = Float(p.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
        case .q8_0:
            tts_dequantize_q8_0(p.assumingMemoryBound(to: UInt8.self), buf.baseAddress!, Int64(count))
        case .q4_k:
            tts_dequantize_q4_k(p.assumingMemoryBound(to: UInt8.self), buf.baseAddress!, Int64(count))
        default:
            for i in 0..<count { buf[i] = 0 }
        }
        initialized = count
    }
}
