// Weight files crafted to trap a reader (issue #15): dimensions whose product overflows, nested
// metadata arrays, an absurd alignment, a safetensors shape of 2^62. Each is a WeightsError.
import Foundation
import Testing
@testable import TTSRuntime

/// Bytes of a GGUF header, written field by field.
struct GGUFBytes {
    var data = Data()
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); data.append(contentsOf: Array(s.utf8)) }

    /// Magic, version 3, and the two counts.
    init(tensors: UInt64, metadata: UInt64) {
        u32(0x4655_4747)
        u32(3)
        u64(tensors)
        u64(metadata)
    }

    /// A tensor entry: name, dimensions (innermost first, as ggml lists them), type, offset.
    mutating func tensor(_ name: String, dims: [UInt64], type: UInt32 = 0, offset: UInt64 = 0) {
        string(name)
        u32(UInt32(dims.count))
        for d in dims { u64(d) }
        u32(type)
        u64(offset)
    }
}

func temporaryFile(_ data: Data, suffix: String) throws -> String {
    let path = NSTemporaryDirectory() + "hostile-\(UUID().uuidString)" + suffix
    try data.write(to: URL(fileURLWithPath: path))
    return path
}

@Suite(.tags(.kernelIndependent)) struct HostileWeightsTests {
    func expectCorrupt(gguf bytes: GGUFBytes, mentioning words: String, padding: Int = 4096) throws {
        var data = bytes.data
        data.append(Data(count: padding))
        let path = try temporaryFile(data, suffix: ".gguf")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            _ = try GGUFFile(path: path)
        } throws: { error in
            guard let e = error as? WeightsError else { return false }
            return "\(e)".contains(words)
        }
    }

    @Test func ggufDimensionsWhoseProductOverflowsAreRefused() throws {
        var g = GGUFBytes(tensors: 1, metadata: 0)
        g.tensor("w", dims: [1 << 16, 1 << 16, 1 << 16, 1 << 16])  // 2^64 values
        try expectCorrupt(gguf: g, mentioning: "is not a valid GGUF file: tensor w of shape")
        var h = GGUFBytes(tensors: 1, metadata: 0)
        h.tensor("w", dims: [4096, 4096])  // 64 MB of f32 claimed by a 4 KB file
        try expectCorrupt(gguf: h, mentioning: "cannot lie inside a file")
    }

    @Test func ggufNestedArraysAreRefused() throws {
        var g = GGUFBytes(tensors: 0, metadata: 1)
        g.string("deep")
        g.u32(9)  // an array ...
        for _ in 0..<200_000 {
            g.u32(9)  // ... of arrays ...
            g.u64(1)
        }
        try expectCorrupt(gguf: g, mentioning: "nested more than")
    }

    @Test func ggufAnAbsurdAlignmentIsRefused() throws {
        var g = GGUFBytes(tensors: 1, metadata: 1)
        g.string("general.alignment")
        g.u32(4)
        g.u32(1 << 31)
        g.tensor("w", dims: [8])
        try expectCorrupt(gguf: g, mentioning: "general.alignment")
    }

    @Test func ggufCountsBeyondTheFileAreRefused() throws {
        try expectCorrupt(gguf: GGUFBytes(tensors: UInt64.max, metadata: 0), mentioning: "not plausible")
        var g = GGUFBytes(tensors: 0, metadata: 1)
        g.u64(UInt64(1) << 40)  // a key of a terabyte
        try expectCorrupt(gguf: g, mentioning: "not plausible")
        var o = GGUFBytes(tensors: 1, metadata: 0)
        o.tensor("w", dims: [8], offset: UInt64(1) << 40)
        try expectCorrupt(gguf: o, mentioning: "not plausible")
    }

    /// Every truncation of a valid header, and random bytes after the magic, throw.
    @Test func ggufTruncationsAndNoiseThrow() throws {
        var g = GGUFBytes(tensors: 1, metadata: 2)
        g.string("general.name"); g.u32(8); g.string("tiny")
        g.string("list"); g.u32(9); g.u32(4); g.u64(3); g.u32(1); g.u32(2); g.u32(3)
        g.tensor("w", dims: [8, 2])
        var full = g.data
        while full.count % 32 != 0 { full.append(0) }
        full.append(Data(count: 64))
        let good = try temporaryFile(full, suffix: ".gguf")
        defer { try? FileManager.default.removeItem(atPath: good) }
        #expect(try GGUFFile(path: good).tensors["w"]?.shape == [2, 8])
        for n in stride(from: 4, to: g.data.count, by: 3) {
            let path = try temporaryFile(g.data.prefix(n), suffix: ".gguf")
            #expect(throws: WeightsError.self) { _ = try GGUFFile(path: path) }
            try? FileManager.default.removeItem(atPath: path)
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var noise = GGUFBytes(tensors: 0, metadata: 0).data.prefix(8)
            noise.append(Data((0..<256).map { _ in UInt8.random(in: 0...255, using: &rng) }))
            let path = try temporaryFile(noise, suffix: ".gguf")
            _ = try? GGUFFile(path: path)
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    func safetensors(_ header: String, data: Int = 16) -> Data {
        var d = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
        d.append(contentsOf: Array(header.utf8))
        d.append(Data(count: data))
        return d
    }

    @Test func safetensorsShapesAndOffsetsThatOverflowAreRefused() throws {
        let headers = [
            #"{"w": {"dtype": "F32", "shape": [4611686018427387904], "data_offsets": [0, 16]}}"#,  // 2^62 values
            #"{"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 16]}}"#,
            #"{"w": {"dtype": "F32", "shape": [1e30], "data_offsets": [0, 16]}}"#,
            #"{"w": {"dtype": "F32", "shape": [-4], "data_offsets": [0, 16]}}"#,
            #"{"w": {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 16]}}"#,
            #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 1e300]}}"#,
            #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [16, 0]}}"#,
            #"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 9223372036854775807]}}"#,
            #"{"w": {"dtype": "F32", "shape": [true], "data_offsets": [0, 16]}}"#,
            #"{"w": {"dtype": "F32", "shape": "4", "data_offsets": [0, 16]}}"#,
            String(repeating: "[", count: 100_000),
        ]
        for header in headers {
            let path = try temporaryFile(safetensors(header), suffix: ".safetensors")
            defer { try? FileManager.default.removeItem(atPath: path) }
            #expect(throws: WeightsError.self, "\(header.prefix(80))") { _ = try SafetensorsFile(path: path) }
        }
        let good = try temporaryFile(safetensors(#"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}"#), suffix: ".safetensors")
        defer { try? FileManager.default.removeItem(atPath: good) }
        #expect(try SafetensorsFile(path: good).tensors["w"]?.shape == [4])
    }
}
