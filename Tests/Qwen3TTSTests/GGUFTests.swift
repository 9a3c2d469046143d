// convert -> GGUF -> load: the same model, read by mmap; broken files give clear errors.
import CTTSKernels
import Foundation
import Testing
@testable import TTSRuntime
@testable import Qwen3TTS

@Suite(.tags(.numerical)) struct GGUFRoundTripTests {
    /// Two routes to the same weights speak alike, bit for bit (greedy, 12 frames).
    func expectSameSpeech(_ fromFile: Qwen3TTSModel, _ atLoad: Qwen3TTSModel) throws {
        var o = GenerationOptions()
        o.greedy = true
        o.maxFrames = 12
        o.stopAtEndOfSpeech = false
        let r = SynthesisRequest(text: "Same weights, two routes.", language: "english", speaker: "ryan")
        let a = try fromFile.synthesize(r, options: o), b = try atLoad.synthesize(r, options: o)
        #expect(a.codes == b.codes && a.audio == b.audio)
    }

    func temporary(_ name: String) -> String { NSTemporaryDirectory() + "qwen3-tts-\(getpid())-\(UUID().uuidString)-\(name).gguf" }

    @Test func storedTypesGiveTheOfficialCodes() throws {
        for (checkpoint, caseName, weights) in [("tiny-cv-0b6", "cv0-fu-russian", nil as WeightType?),
                                                ("tiny-vd-1b7", "vd1-instruct-french", .f32),
                                                ("tiny-cv-1b7", "cv1-eric-auto-stream", nil)] {
            let out = temporary(checkpoint)
            defer { try? FileManager.default.removeItem(atPath: out) }
            let report = try ModelConverter.convert(directory: Fixtures.checkpoint(checkpoint), output: out, weights: weights)
            #expect(report.tensors > 0)
            let model = try Qwen3TTSModel.load(path: out)
            let c = try Fixtures.loadCase(caseName)
            let r = try model.synthesize(c.request, options: c.greedyOptions)
            #expect(r.codes == c.codes, "\(checkpoint) via GGUF")
            #expect(maxAbsoluteDifference(r.audio, try c.tensors().floats("wav")) <= GoldenParityTests.waveformBound)
        }
    }

    /// A Base model's GGUF carries the speaker encoder and the speech tokenizer encoder: cloning
    /// from it gives the official in-context reference codes and greedy codes.
    @Test func baseModelsCloneFromTheirGGUF() throws {
        let out = temporary("tiny-base-0b6")
        defer { try? FileManager.default.removeItem(atPath: out) }
        try ModelConverter.convert(directory: Fixtures.checkpoint("tiny-base-0b6"), output: out, weights: nil)
        let model = try Qwen3TTSModel.load(path: out)
        let c = try Fixtures.loadCase("base-icl-english-stream")
        let mel = try WeightStore(files: [SafetensorsFile(file: MappedFile(path: SpeakerEncoderTests.mel))])
        let audio = AudioBuffer(samples: try mel.floats("audio", shape: [30000]), sampleRate: 24000)
        let voice = try model.makeVoice(name: "ref", audio: audio, transcript: c.referenceText)
        #expect(voice.reference?.codes == c.referenceCodes)
        var request = c.request
        request.setVoice(voice)
        #expect(try model.synthesize(request, options: c.greedyOptions).codes == c.codes)
    }

    @Test func q8FileEqualsQuantizingAtLoadAndIsReadInPlace() throws {
        let dir = try #require(QuantFixture.directory)
        let out = temporary("q8")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let report = try ModelConverter.convert(directory: dir, output: out, weights: .q8_0)
        #expect(report.converted == 3 * 7 + 1 + 2 * 7 + 15)  // talker layers, codec head, predictor layers, heads
        let fromFile = try Qwen3TTSModel.load(path: out)
        let atLoad = try Qwen3TTSModel.load(path: dir, weights: .q8_0)
        #expect(fromFile.talker.stack.layers[1].down.weight.weightType == .q8_0)
        #expect(fromFile.talker.textEmbedding.weightType == .f32)
        try expectSameSpeech(fromFile, atLoad)
    }

    /// q4_k through convert: the same recipe as at load (q4_k layers, q8_0 heads), read in place,
    /// the same codes and audio.
    @Test func q4kFileEqualsQuantizingAtLoad() throws {
        let dir = try #require(QuantFixture.wide)
        let out = temporary("q4k")
        defer { try? FileManager.default.removeItem(atPath: out) }
        try ModelConverter.convert(directory: dir, output: out, weights: .q4_k)
        let fromFile = try Qwen3TTSModel.load(path: out)
        let atLoad = try Qwen3TTSModel.load(path: dir, weights: .q4_k)
        #expect(fromFile.generationWeightTypes == atLoad.generationWeightTypes, "\(fromFile.generationWeightTypes)")
        #expect(fromFile.talker.stack.layers[1].down.weight.weightType == .q4_k)
        // Read in place from the mapping, unless repacked for this CPU's integer kernel.
        switch fromFile.talker.stack.layers[1].down.weight.storage {
        case .q4_k(let p):
            let f = try #require(fromFile.talker.stack.layers[1].down.weight.owner as? MappedFile)
            #expect(UnsafeRawPointer(p) >= f.base && UnsafeRawPointer(p) < f.base + f.count, "read in place from the mapping")
        case .q4kVnni: #expect(tts_q4_k_vnni_supported() != 0)
        default: Issue.record("unexpected storage")
        }
        try expectSameSpeech(fromFile, atLoad)
    }

    @Test func brokenFilesAreRejectedClearly() throws {
        let good = temporary("good")
        defer { try? FileManager.default.removeItem(atPath: good) }
        try ModelConverter.convert(directory: Fixtures.checkpoint("tiny-cv-0b6"), output: good, weights: nil)
        let data = try Data(contentsOf: URL(fileURLWithPath: good))

        func failure(_ bytes: Data) -> String {
            let path = temporary("bad")
            defer { try? FileManager.default.removeItem(atPath: path) }
            try? bytes.write(to: URL(fileURLWithPath: path))
            do {
                _ = try Qwen3TTSModel.load(path: path)
                return "loaded"
            } catch {
                return "\(error)"
            }
        }
        #expect(failure(data.prefix(data.count - 1000)).contains("truncated"))
        #expect(failure(data.prefix(200)).contains("truncated"))
        #expect(failure(Data(repeating: 7, count: 4096)).contains("not a GGUF file"))

        // A valid GGUF from somewhere else.
        let foreign = GGUFWriter()
        foreign.set("general.architecture", .string("llama"))
        foreign.add(.init(name: "w", dtype: .f32, shape: [2], bytes: { Data(count: 8) }))
        let fpath = temporary("foreign")
        defer { try? FileManager.default.removeItem(atPath: fpath) }
        try foreign.write(to: fpath)
        let message = failure(try Data(contentsOf: URL(fileURLWithPath: fpath)))
        #expect(message.contains("not a Qwen3-TTS GGUF file (general.architecture is llama)"), "\(message)")
    }

    @Test func ggufMetadataAndShapesRoundTrip() throws {
        let w = GGUFWriter()
        w.set("a.string", .string("héllo"))
        w.set("a.u32", .uint32(7))
        w.set("a.f32", .float32(0.5))
        w.set("a.bool", .bool(true))
        let q = [Float](repeating: 0.25, count: 64)
        w.add(.init(name: "m", dtype: .f32, shape: [3, 5], bytes: { [Float](repeating: 1, count: 15).withUnsafeBytes { Data($0) } }))
        w.add(.init(name: "q", dtype: .q8_0, shape: [2, 32], bytes: {
            var out = [UInt8](repeating: 0, count: 68)
            tts_quantize_q8_0_swift(q, &out)
            return Data(out)
        }))
        let path = temporary("meta")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try w.write(to: path)
        let f = try GGUFFile(path: path)
        #expect(f.metadata["a.string"] == .string("héllo") && f.metadata["a.u32"] == .uint32(7))
        #expect(f.metadata["a.f32"] == .float32(0.5) && f.metadata["a.bool"] == .bool(true))
        #expect(f.tensors["m"]?.shape == [3, 5] && f.tensors["q"]?.shape == [2, 32] && f.tensors["q"]?.byteCount == 68)
        #expect(f.tensors.values.allSatisfy { $0.offset % 32 == 0 })
        let store = try WeightStore(files: [f])
        #expect(try store.floats("q", shape: [2, 32]).allSatisfy { abs($0 - 0.25) < 0.002 })
    }
}

import CTTSKernels

func tts_quantize_q8_0_swift(_ x: [Float], _ out: inout [UInt8]) {
    out.withUnsafeMutableBufferPointer { o in x.withUnsafeBufferPointer { tts_quantize_q8_0($0.baseAddress!, o.baseAddress!, Int64(x.count)) } }
}
