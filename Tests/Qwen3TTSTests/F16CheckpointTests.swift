// Checkpoints stored in f16 (README: "safetensors f32/bf16/f16") load as their values: the same
// codes and audio, bit for bit, as an f32 checkpoint holding those values rounded through f16.
import CTTSKernels
import Foundation
import Testing
import TTSRuntime
@testable import Qwen3TTS

@Suite(.tags(.numerical)) struct F16CheckpointTests {
    @Test func f16WeightsLoadAsTheirValues() throws {
        let file = try SafetensorsFile(path: Fixtures.checkpoint("tiny-cv-0b6") + "/model.safetensors")
        let store = try WeightStore(files: [file])
        var half: [SafetensorsWriter.Entry] = [], rounded: [SafetensorsWriter.Entry] = []
        for (name, info) in file.tensors.sorted(by: { $0.key < $1.key }) {
            let bits = try store.floats(name, shape: info.shape).map { tts_f32_to_f16($0) }
            #expect(bits.allSatisfy { $0 & 0x7C00 != 0x7C00 }, "\(name) overflows f16")
            half.append(.init(name: name, dtype: .f16, shape: info.shape,
                              bytes: bits.withUnsafeBufferPointer { Data(buffer: $0) }))
            rounded.append(.init(name: name, shape: info.shape, floats: bits.map { tts_f16_to_f32($0) }))
        }
        let f16Dir = try Fixtures.linkedCheckpoint("tiny-cv-0b6", except: ["model.safetensors"])
        let f32Dir = try Fixtures.linkedCheckpoint("tiny-cv-0b6", except: ["model.safetensors"])
        defer { for d in [f16Dir, f32Dir] { try? FileManager.default.removeItem(atPath: d) } }
        try SafetensorsWriter.write(half, to: f16Dir + "/model.safetensors")
        try SafetensorsWriter.write(rounded, to: f32Dir + "/model.safetensors")
        #expect(try SafetensorsFile(path: f16Dir + "/model.safetensors").tensors.values.allSatisfy { $0.dtype == .f16 })

        let f16 = try Qwen3TTSModel.load(directory: f16Dir), f32 = try Qwen3TTSModel.load(directory: f32Dir)
        let c = try Fixtures.loadCase("cv0-ryan-english")
        let a = try f16.synthesize(c.request, options: c.greedyOptions), b = try f32.synthesize(c.request, options: c.greedyOptions)
        #expect(a.codes == b.codes && a.codes.count == c.codes.count)
        #expect(a.audio == b.audio)
        // Rounding to f16 is a real change: the official f32 codes need not survive it, the
        // weights must differ from the f32 originals somewhere.
        #expect(try zip(store.floats("talker.codec_head.weight", shape: file.tensors["talker.codec_head.weight"]!.shape),
                        rounded.first { $0.name == "talker.codec_head.weight" }!.bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) })
                    .contains { $0 != $1 })
    }
}
