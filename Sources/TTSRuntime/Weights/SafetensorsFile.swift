// Reader for the safetensors format: 8-byte little-endian header length, JSON header, raw data.
import Foundation

/// Where one tensor lives inside a mapped safetensors file.
public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Byte offset from the start of the file.
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }
}

/// A memory-mapped safetensors file with a validated tensor table.
public final class SafetensorsFile: TensorFile {
    public let file: MappedFile
    public let tensors: [String: TensorInfo]
    public let metadata: [String: String]
    public var path: String { file.path }

    public convenience init(path: String) throws {
        try self.init(file: MappedFile(path: path))
    }

    public init(file: MappedFile) throws {
        self.file = file
        let path = file.path
        guard file.count >= 8 else { throw WeightsError.corrupt(path: path, reason: "shorter than its 8-byte header length") }
        var headerLength: UInt64 = 0
        withUnsafeMutableBytes(of: &headerLength) { $0.copyMemory(from: UnsafeRawBufferPointer(start: file.base, count: 8)) }
        headerLength = UInt64(littleEndian: headerLength)
        guard headerLength > 0, headerLength <= UInt64(file.count - 8) else {
            throw WeightsError.corrupt(path: path, reason: "header length \(headerLength) does not fit in a file of \(file.count) bytes (truncated?)")
        }
        guard headerLength <= UInt64(Self.maxHeaderBytes) else {
            throw WeightsError.corrupt(path: path, reason: "header length \(headerLength) is over \(Self.maxHeaderBytes) bytes")
        }
        let headerData = Data(bytes: file.base + 8, count: Int(headerLength))
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: headerData)
        } catch {
            throw WeightsError.corrupt(path: path, reason: "the JSON header does not parse")
        }
        guard let table = json as? [String: Any] else {
            throw WeightsError.corrupt(path: path, reason: "the JSON header is not an object")
        }
        let dataStart = 8 + Int(headerLength)
        let dataSize = file.count - dataStart
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in table {
            if name == "__metadata__" {
                if let m = value as? [String: Any] {
                    for (k, v) in m { metadata[k] = "\(v)" }
                }
                continue
            }
            guard let entry = value as? [String: Any],
                  let dtypeName = entry["dtype"] as? String,
                  let shapeAny = entry["shape"] as? [Any],
                  let offsetsAny = entry["data_offsets"] as? [Any], offsetsAny.count == 2
            else { throw WeightsError.corrupt(path: path, reason: "entry for tensor \(name) lacks dtype, shape or data_offsets") }
            guard let dtype = DType(rawValue: dtypeName), dtype.byteSize > 0 else {
                throw WeightsError.unsupportedDType(name: name, file: path, dtype: dtypeName)
            }
            let shape = try shapeAny.map { any -> Int in
                guard let n = Self.integer(any) else { throw WeightsError.corrupt(path: path, reason: "tensor \(name) has a bad shape") }
                return n
            }
            guard let begin = Self.integer(offsetsAny[0]), let end = Self.integer(offsetsAny[1]), begin <= end
            else { throw WeightsError.corrupt(path: path, reason: "tensor \(name) has bad data_offsets") }
            guard end <= dataSize else {
                throw WeightsError.corrupt(path: path, reason: "tensor \(name) ends at byte \(end) but the data section has \(dataSize) bytes (truncated?)")
            }
            let (count, overflow) = shape.reduce((1, false)) { acc, d in
                let (m, o) = acc.0.multipliedReportingOverflow(by: d)
                return (m, acc.1 || o)
            }
            let (bytes, bytesOverflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, !bytesOverflow, bytes == end - begin else {
                let needs = overflow || bytesOverflow ? "more than \(Int.max)" : "\(bytes)"
                throw WeightsError.corrupt(path: path, reason: "tensor \(name) has \(end - begin) bytes, but shape \(shape) of \(dtypeName) needs \(needs)")
            }
            tensors[name] = TensorInfo(name: name, dtype: dtype, shape: shape, offset: dataStart + begin, byteCount: end - begin)
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The format's own bound on the JSON header (the reference implementation refuses more).
    static let maxHeaderBytes = 100_000_000

    /// A non-negative whole JSON number that fits an Int, or nil (fractions, negatives, 1e30,
    /// booleans and strings are refused rather than converted).
    static func integer(_ value: Any) -> Int? {
        guard let n = value as? NSNumber, String(cString: n.objCType) != "c" else { return nil }
        let d = n.doubleValue
        guard d >= 0, d < 9.0e18, d == d.rounded() else { return nil }
        return Int(n.int64Value)
    }
}
