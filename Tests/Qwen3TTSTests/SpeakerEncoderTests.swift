// The Base models' speaker encoder against the official module (Fixtures/speaker_encoder, written
// by scripts/reference/speaker_encoder_fixture.py at a reduced width, with seeded weights) on the
// official log-mel features of the mel fixture.
import Foundation
import Testing
@testable import Qwen3TTS
@testable import TTSRuntime

@Suite struct SpeakerEncoderTests {
    static let dir = Fixtures.root + "/speaker_encoder"
    static let mel = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TTSRuntimeTests/Resources/mel/mel.safetensors").path

    func load() throws -> (SpeakerEncoder, WeightStore) {
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.dir + "/manifest.json"))) as! [String: Any]
        let config = try JSONDecoder().decode(SpeakerEncoderConfiguration.self,
                                              from: JSONSerialization.data(withJSONObject: manifest["config"]!))
        let store = try WeightStore(files: [SafetensorsFile(file: MappedFile(path: Self.dir + "/speaker_encoder.safetensors"))])
        return (try SpeakerEncoder(weights: store, config: config), store)
    }

    @Test func blocksAndXVectorMatchTheOfficialEncoder() throws {
        let (encoder, store) = try load()
        let melStore = try WeightStore(files: [SafetensorsFile(file: MappedFile(path: Self.mel))])
        let mel = try melStore.floats("log_mel", shape: [117, 128])
        let (blocks, xvector) = try encoder.run(mel: mel, frames: 117)
        for (i, b) in blocks.enumerated() {
            let expected = try store.floats("expected.block\(i)", shape: [117, encoder.configuration.channels[i]])
            let worst = zip(b, expected).map { abs($0 - $1) / max(1, abs($1)) }.max()!
            #expect(worst <= 1e-4, "block \(i): \(worst)")
        }
        let expected = try store.floats("expected.xvector", shape: [encoder.configuration.encDim])
        let worst = zip(xvector, expected).map { abs($0 - $1) / max(1, abs($1)) }.max()!
        #expect(worst <= 1e-4, "x-vector: \(worst)")
        // Every weight of the module was used.
        store.skip(prefix: "expected.")
        try store.finish()
    }

    @Test func tooShortAudioIsRefused() throws {
        let (encoder, _) = try load()
        #expect(throws: SynthesisError.self) { try encoder.run(mel: [Float](repeating: 0, count: 128 * 2), frames: 2) }
    }
}
