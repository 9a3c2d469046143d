import Foundation
import Testing
import TTSTestSupport
@testable import TTSRuntime

/// Writes a safetensors file from (name, dtype, shape, raw bytes) entries.
func writeSafetensors(_ entries: [(String, String, [Int], [UInt8])], to path: String, truncateBy: Int = 0) throws {
    var header: [String: Any] = ["__metadata__": ["format": "pt"]]
    var data: [UInt8] = []
    for (name, dtype, shape, bytes) in entries {
        header[name] = ["dtype": dtype, "shape": shape, "data_offsets": [data.count, data.count + bytes.count]]
        data += bytes
    }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    while json.count % 8 != 0 { json.append(0x20) }
    var file = Data()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
    file.append(json)
    file.append(contentsOf: data)
    file.removeLast(truncateBy)
    try file.write(to: URL(fileURLWithPath: path))
}

func f32Bytes(_ v: [Float]) -> [UInt8] { v.withUnsafeBytes { Array($0) } }

func temporaryDirectory() throws -> String {
    let dir = NSTemporaryDirectory() + "tts-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

@Suite(.tags(.kernelIndependent)) struct SafetensorsTests {
    @Test func readsTensorsAndConvertsBF16() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/model.safetensors"
        try writeSafetensors([
            ("a.weight", "F32", [2, 3], f32Bytes([1, 2, 3, 4, 5, 6])),
            ("b", "BF16", [2], [0x80, 0x3F, 0x00, 0xC0]),  // 1.0, -2.0
        ], to: path)
        let store = try WeightStore.open(directory: dir)
        let m = try store.matrix("a.weight", rows: 2, cols: 3)
        #expect(m.toFloats() == [1, 2, 3, 4, 5, 6])
        #expect(try store.floats("b", shape: [2]) == [1, -2])
        try store.finish()
    }

    @Test func strictAccounting() throws {
        let dir = try temporaryDirectory()
        try writeSafetensors([("x", "F32", [2], f32Bytes([1, 2])), ("y", "F32", [1], f32Bytes([3]))], to: dir + "/model.safetensors")
        let store = try WeightStore.open(directory: dir)
        #expect(throws: WeightsError.shapeMismatch(name: "x", file: dir + "/model.safetensors", expected: [3], actual: [2])) {
            try store.floats("x", shape: [3])
        }
        #expect(throws: WeightsError.missingTensor(name: "z", files: [dir + "/model.safetensors"])) {
            try store.floats("z", shape: [1])
        }
        _ = try store.floats("x", shape: [2])
        #expect(throws: WeightsError.unusedTensors(names: ["y"], file: dir + "/model.safetensors")) { try store.finish() }
        store.skip(prefix: "y")
        try store.finish()
    }

    @Test func truncatedAndGarbageFilesAreRejected() throws {
        let dir = try temporaryDirectory()
        let path = dir + "/model.safetensors"
        try writeSafetensors([("x", "F32", [4], f32Bytes([1, 2, 3, 4]))], to: path, truncateBy: 4)
        #expect(throws: WeightsError.self) { try SafetensorsFile(path: path) }
        try Data("not a safetensors file at all".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: WeightsError.self) { try SafetensorsFile(path: path) }
        try Data().write(to: URL(fileURLWithPath: path))
        #expect(throws: WeightsError.self) { try SafetensorsFile(path: path) }
        #expect(throws: WeightsError.self) { try WeightStore.open(directory: dir + "/nope") }
    }

    @Test func shardedIndex() throws {
        let dir = try temporaryDirectory()
        try writeSafetensors([("a", "F32", [1], f32Bytes([1]))], to: dir + "/model-00001-of-00002.safetensors")
        try writeSafetensors([("b", "F32", [1], f32Bytes([2]))], to: dir + "/model-00002-of-00002.safetensors")
        let index = ["weight_map": ["a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"]]
        try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: dir + "/model.safetensors.index.json"))
        let store = try WeightStore.open(directory: dir)
        #expect(try store.floats("a", shape: [1]) == [1])
        #expect(try store.floats("b", shape: [1]) == [2])
        try store.finish()
    }
}

@Suite(.tags(.numerical)) struct SamplingTests {
    @Test func greedyIsArgmaxAfterProcessors() {
        var logits: [Float] = [1, 5, 4.9, -3]
        var rng = SeededRNG(seed: 1)
        logits.withUnsafeMutableBufferPointer { buf in
            LogitProcessing.applyRepetitionPenalty(buf, history: [1, 1, 3], penalty: 1.05)
            #expect(buf[1] == 5 / 1.05 && buf[3] == -3 * 1.05)
            #expect(LogitProcessing.select(buf, parameters: .init(doSample: false, temperature: 1, topK: 0, topP: 1), rng: &rng) == 2)
        }
    }

    @Test func topKSamplesOnlyAmongTheTopK() {
        var rng = SeededRNG(seed: 42)
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<500 {
            var logits: [Float] = [0, 3, 0.5, 2.9, 1, 2.8]
            let id = logits.withUnsafeMutableBufferPointer {
                LogitProcessing.select($0, parameters: .init(doSample: true, temperature: 0.9, topK: 3, topP: 1), rng: &rng)
            }
            counts[id] += 1
        }
        #expect(counts[0] == 0 && counts[2] == 0 && counts[4] == 0)
        #expect(counts[1] > 0 && counts[3] > 0 && counts[5] > 0)
    }

    /// Quickselect gives the value a full descending sort puts at k - 1, ties and -inf included.
    @Test func kthLargestEqualsSorting() {
        var rng = SeededRNG(seed: 3)
        for trial in 0..<200 {
            let n = 1 + Int(rng.next() % 3000)
            // Few distinct values in some trials (many ties), a few -inf entries in others.
            let distinct = trial % 3 == 0 ? 5 : 1_000_000
            var v = (0..<n).map { _ in Float(Int(rng.next() % UInt64(distinct))) / 7 - 3 }
            if trial % 4 == 1 { for i in stride(from: 0, to: n, by: 5) { v[i] = -.infinity } }
            let sorted = v.sorted(by: >)
            for k in Set([1, n, 1 + Int(rng.next() % UInt64(n)), min(n, 50)]) {
                let got = v.withUnsafeBufferPointer { LogitProcessing.kthLargest($0, k) }
                #expect(got == sorted[k - 1], "n \(n) k \(k)")
            }
        }
    }

    @Test func seedReproduces() {
        var a = SeededRNG(seed: 7), b = SeededRNG(seed: 7), c = SeededRNG(seed: 8)
        let xa = (0..<4).map { _ in a.next() }, xb = (0..<4).map { _ in b.next() }, xc = (0..<4).map { _ in c.next() }
        #expect(xa == xb && xa != xc)
    }
}

@Suite(.tags(.kernelIndependent)) struct WAVTests {
    @Test func headerAndSamples() {
        let d = WAV.encode([0, 1, -1, 0.5], sampleRate: 24000)
        #expect(d.count == 44 + 8)
        #expect(String(decoding: d[0..<4], as: UTF8.self) == "RIFF")
        let pcm = d[44...].withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        #expect(pcm == [0, 32767, -32767, 16384])
        #expect(WAV.encode([0.25], sampleRate: 24000, encoding: .float32).count == 48)
    }
}

@Suite(.tags(.kernelIndependent)) struct WAVStreamWriterTests {
    @Test func validAfterEveryAppend() throws {
        let path = try temporaryDirectory() + "/s.wav"
        let w = try WAVStreamWriter(path: path, sampleRate: 24000)
        var total = 0
        for n in [1920, 7, 3840] {
            try w.append([Float](repeating: 0.25, count: n))
            total += n
            let d = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(d.count == 44 + 2 * total)
            let riff = d[4..<8].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
            let data = d[40..<44].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
            #expect(Int(riff) == 36 + 2 * total && Int(data) == 2 * total)
            if EndToEnd.shouldRun(needing: "/usr/bin/sox") {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: try EndToEnd.require("/usr/bin/sox"))
                p.arguments = ["--info", "-s", path]
                let pipe = Pipe()
                p.standardOutput = pipe
                try p.run()
                let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                p.waitUntilExit()
                #expect(p.terminationStatus == 0 && out.trimmingCharacters(in: .whitespacesAndNewlines) == "\(total)")
            }
        }
        try w.close()
    }
}
