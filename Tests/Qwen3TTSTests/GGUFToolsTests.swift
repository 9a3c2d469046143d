// "Readable by GGUF tools" (README), checked: files we write are read with llama.cpp's own `gguf`
// Python package (scripts/e2e/gguf_read.py), which must see the same tensors, types and shapes,
// and dequantize every tensor (q4_K and q8_0 blocks included) to the values our reader gives.
import CTTSKernels
import Foundation
import Testing
import TTSRuntime
import TTSTestSupport
@testable import Qwen3TTS

@Suite(.tags(.kernelIndependent)) struct GGUFToolsTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/e2e/gguf_read.py").path

    /// python3 with the gguf package (scripts/e2e/requirements.txt; .ci/run installs it).
    static let available: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import gguf"]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    func readWithGGUFPy(_ path: String) throws -> [String: Any] {
        #expect(Self.available, "python3 with the gguf package is required (QWEN3_TTS_REQUIRE_E2E=1): pip install -r scripts/e2e/requirements.txt")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Self.script, path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Every tensor of `path` as gguf-py sees it against our reader.
    func compare(_ path: String) throws -> Set<String> {
        let theirs = try readWithGGUFPy(path)
        let tensors = try #require(theirs["tensors"] as? [String: [String: Any]])
        let ours = try GGUFFile(path: path)
        #expect(Set(tensors.keys) == Set(ours.tensors.keys))
        let store = try WeightStore(files: [ours])
        var types = Set<String>()
        for (name, info) in ours.tensors.sorted(by: { $0.key < $1.key }) {
            let t = try #require(tensors[name], "\(name) missing in gguf-py")
            #expect(t["type"] as? String == info.dtype.rawValue, "\(name): \(t["type"] ?? "?") vs \(info.dtype.rawValue)")
            #expect(t["shape"] as? [Int] == info.shape, "\(name) shape")
            types.insert(info.dtype.rawValue)
            let values = try store.floats(name, shape: info.shape)
            let sum = values.reduce(0.0) { $0 + Double($1) }, theirSum = try #require(t["sum"] as? Double)
            #expect(abs(sum - theirSum) <= 1e-6 * max(1, values.reduce(0.0) { $0 + abs(Double($1)) }), "\(name) sum")
            #expect((t["first"] as? [Double])?.map(Float.init) == Array(values.prefix(8)), "\(name) values")
        }
        let keys = try #require(theirs["keys"] as? [String])
        #expect(Set(keys) == Set(ours.metadata.keys), "metadata keys")
        return types
    }

    @Test(.enabled(if: available || EndToEnd.required))
    func convertedModelsReadTheSameInLlamaCppsReader() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var types = Set<String>()
        for quant in [WeightType?.none, .q8_0, .q4_k] {
            let out = dir + "/m-\(quant?.rawValue ?? "stored").gguf"
            _ = try ModelConverter.convert(directory: Fixtures.checkpoint("tiny-cv-1b7"), output: out, weights: quant)
            types.formUnion(try compare(out))
        }
        // The tiny model's widths are not multiples of 256, so q4_K is written by hand too, with
        // rows of 512 and 768, beside every other type we write.
        let writer = GGUFWriter()
        writer.set("general.architecture", .string("qwen3-tts-test"))
        var rng = SeededRNG(seed: 9)
        let kinds: [(DType, [Int])] = [(.q4_k, [3, 768]), (.q4_k, [2, 512]), (.q8_0, [5, 64]), (.bf16, [4, 6]), (.f16, [3, 5]), (.f32, [7])]
        var sources: [SafetensorsWriter.Entry] = []
        for (type, shape) in kinds {
            let values = (0..<shape.reduce(1, *)).map { _ in Float(Double(rng.next() % 2001) / 1000 - 1) * 3 }
            sources.append(.init(name: "t.\(type.rawValue).\(shape[0])", shape: shape, floats: values))
        }
        try SafetensorsWriter.write(sources, to: dir + "/sources.safetensors")
        let source = try SafetensorsFile(path: dir + "/sources.safetensors")
        for (type, shape) in kinds {
            let info = try #require(source.tensors["t.\(type.rawValue).\(shape[0])"])
            writer.add(.init(name: info.name, dtype: type, shape: shape) { TensorConversion.bytes(source, info, as: type) })
        }
        try writer.write(to: dir + "/every-type.gguf")
        types.formUnion(try compare(dir + "/every-type.gguf"))
        #expect(types.isSuperset(of: ["F32", "BF16", "F16", "Q8_0", "Q4_K"]), "\(types)")
    }
}
