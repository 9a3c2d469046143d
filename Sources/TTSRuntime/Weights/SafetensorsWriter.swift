// Writer for the safetensors format (for tools and tests that produce checkpoints).
import Foundation

public enum SafetensorsWriter {
    public struct Entry {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        public var bytes: Data

        public init(name: String, dtype: DType, shape: [Int], bytes: Data) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
            self.bytes = bytes
        }

        public init(name: String, shape: [Int], floats: [Float]) {
            self.init(name: name, dtype: .f32, shape: shape, bytes: floats.withUnsafeBytes { Data($0) })
        }
    }

    /// Writes `entries` (in order) with an 8-byte aligned header, atomically.
    public static func write(_ entries: [Entry], metadata: [String: String] = ["format": "pt"], to path: String) throws {
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for e in entries {
            precondition(e.shape.reduce(1, *) * e.dtype.byteSize == e.bytes.count, "tensor \(e.name): bytes do not match its shape")
            header[e.name] = ["dtype": e.dtype.rawValue, "shape": e.shape, "data_offsets": [offset, offset + e.bytes.count]]
            offset += e.bytes.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for e in entries { out.append(e.bytes) }
        try out.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
