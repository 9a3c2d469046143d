// The speech tokenizer encoder against the official one (Fixtures/speech_encoder, written by
// scripts/reference/speech_encoder_fixture.py with the fixture speech tokenizer): SEANet,
// transformer and downsampling outputs, and the reference codes, for two clip lengths that are
// not whole frames.
import Foundation
import Testing
@testable import Qwen3TTS
@testable import TTSRuntime

@Suite(.tags(.numerical)) struct SpeechEncoderTests {
    static let stages = Fixtures.root + "/speech_encoder/stages.safetensors"

    @Test(arguments: [30000, 23000])
    func stagesAndCodesMatchTheOfficialEncoder(samples: Int) throws {
        let model = try Fixtures.model("tiny-base-0b6")
        let encoder = try #require(model.speechEncoder)
        let store = try SafetensorsFile(path: Self.stages)
        let audio = try store.floats("\(samples).audio")
        var observed: [String: [Float]] = [:]
        let codes = encoder.encode(audio, pool: nil) { name, values, _ in observed[name] = values }
        for stage in ["seanet", "transformer", "downsample"] {
            let got = try #require(observed[stage])
            let expected = try store.floats("\(samples).\(stage)")
            #expect(maxRelativeDifference(got, expected) <= 1e-4, "\(stage): \(maxRelativeDifference(got, expected))")
        }
        let frames = (samples + 1919) / 1920
        let official = try store.ints("\(samples).codes")  // [frames][16]
        #expect(codes.count == frames)
        #expect(codes.flatMap { $0 } == official)
        // The threaded path gives the same codes.
        #expect(try model.referenceCodes(for: AudioBuffer(samples: audio, sampleRate: 24000)) == codes)
    }

    @Test func modelsWithoutAnEncoderRefuseInContextCloning() throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        #expect(model.speechEncoder == nil)
        #expect(throws: SynthesisError.self) {
            try model.referenceCodes(for: AudioBuffer(samples: [Float](repeating: 0.1, count: 24000), sampleRate: 24000))
        }
    }
}
