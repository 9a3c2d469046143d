// The Base models' speaker encoder against the official module (Fixtures/speaker_encoder, written
// by scripts/reference/speaker_encoder_fixture.py at a reduced width, with seeded weights) on the
// official log-mel features of the mel fixture.
import Foundation
import Testing
@testable import Qwen3TTS
@testable import TTSRuntime

@Suite(.tags(.numerical)) struct SpeakerEncoderTests {
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

/// The whole cloning front end on the tiny Base checkpoint: reference audio -> our x-vector equals
/// the official one, and with it the prompt and greedy codes equal the official voice clone
/// (GoldenParityTests also runs the base-xvec-* cases with the recorded x-vector).
@Suite(.tags(.numerical)) struct VoiceCloneTests {
    @Test func xvectorFromAudioMatchesAndGivesTheOfficialCodes() throws {
        let mel = try WeightStore(files: [SafetensorsFile(file: MappedFile(path: SpeakerEncoderTests.mel))])
        let audio = AudioBuffer(samples: try mel.floats("audio", shape: [30000]), sampleRate: 24000)
        // Every clone case from the audio, on its own checkpoint (the end-of-speech one is bf16).
        for name in Fixtures.caseNames where name.hasPrefix("base-") {
            let c = try Fixtures.loadCase(name)
            let model = try Fixtures.model(c.checkpoint)
            let xvector = try model.speakerEmbedding(for: audio)
            let referenceCodes = try model.referenceCodes(for: audio)
            let official = try c.tensors().floats("xvector")
            #expect(maxRelativeDifference(xvector, official) <= 1e-4, "\(name) x-vector")
            var request = c.request
            request.speakerEmbedding = xvector
            if let text = c.referenceText {
                // In context: our reference codes are the official ones, and so are the results.
                #expect(referenceCodes == c.referenceCodes, "\(name) reference codes")
                request.reference = VoiceReference(codes: referenceCodes, text: text)
            }
            let result = try model.generateCodes(request, options: c.greedyOptions)
            #expect(result.codes == c.codes, "\(name) codes")
        }
    }

    /// The documented 60 s limit on reference audio, for both the x-vector and the reference
    /// codes; 60 s itself is accepted by the check.
    @Test func referenceAudioOverSixtySecondsIsRefused() throws {
        let model = try Fixtures.model("tiny-base-0b6")
        #expect(Qwen3TTSModel.maximumReferenceSeconds == 60)
        let tone = (0..<(24000 * 61)).map { Float(sin(Double($0) * 0.05) * 0.3) }
        let long = AudioBuffer(samples: tone, sampleRate: 24000)
        #expect(throws: AudioInputError.tooLong(seconds: 61, limit: 60)) { try model.speakerEmbedding(for: long) }
        #expect(throws: AudioInputError.tooLong(seconds: 61, limit: 60)) { try model.referenceCodes(for: long) }
        let sixty = AudioBuffer(samples: Array(tone.prefix(24000 * 60)), sampleRate: 24000)
        #expect(throws: Never.self) { try sixty.validatedForReference(maxSeconds: Qwen3TTSModel.maximumReferenceSeconds) }
    }

    @Test func inContextRequestsAreChecked() throws {
        let base = try Fixtures.model("tiny-base-0b6")
        let c = try Fixtures.loadCase("base-icl-english-stream")
        func refused(_ change: (inout SynthesisRequest) -> Void) -> Bool {
            var r = c.request
            change(&r)
            return (try? base.validate(r)) == nil
        }
        #expect(!refused { _ in })
        #expect(refused { $0.speakerEmbedding = nil })
        #expect(refused { $0.reference?.text = "  " })
        #expect(refused { $0.reference?.codes = [] })
        #expect(refused { $0.reference?.codes[0] = [Int](repeating: 0, count: 15) })
        #expect(refused { $0.reference?.codes[1][3] = 2048 })
    }

    @Test func cloningNeedsABaseModelAndAVoice() throws {
        let base = try Fixtures.model("tiny-base-0b6")
        #expect(throws: SynthesisError.voiceRequired(model: "base")) {
            try base.validate(SynthesisRequest(text: "No voice.", language: "english"))
        }
        var wrongWidth = SynthesisRequest(text: "Bad voice.", language: "english")
        wrongWidth.speakerEmbedding = [1, 2, 3]
        #expect(throws: SynthesisError.self) { try base.validate(wrongWidth) }
        let cv = try Fixtures.model("tiny-cv-0b6")
        #expect(cv.speakerEncoder == nil)
        #expect(throws: SynthesisError.self) {
            try cv.speakerEmbedding(for: AudioBuffer(samples: [Float](repeating: 0.1, count: 24000), sampleRate: 24000))
        }
        #expect(throws: AudioInputError.silent(peak: 0)) {
            try base.speakerEmbedding(for: AudioBuffer(samples: [Float](repeating: 0, count: 24000), sampleRate: 24000))
        }
    }
}

@Suite(.tags(.numerical)) struct VoiceFileTests {
    func referenceAudio() throws -> AudioBuffer {
        let mel = try WeightStore(files: [SafetensorsFile(file: MappedFile(path: SpeakerEncoderTests.mel))])
        return AudioBuffer(samples: try mel.floats("audio", shape: [30000]), sampleRate: 24000)
    }

    @Test func voiceFilesRoundTripAndOtherModelsRefuseThem() throws {
        let model = try Fixtures.model("tiny-base-0b6")
        let voice = try model.makeVoice(name: "Anna", audio: referenceAudio())
        #expect(voice.mode == "xvector" && voice.reference == nil)
        let decoded = try VoiceFile.decode(voice.encoded(), source: "anna.voice")
        #expect(decoded == voice, "the file keeps every bit of the x-vector")
        try model.check(decoded, source: "anna.voice")
        #expect(decoded.xvector == (try model.speakerEmbedding(for: referenceAudio())))
        var foreign = voice
        foreign.model.speakerEncoder = "0123456789abcdef"
        #expect(throws: VoiceError.self) { try model.check(foreign, source: "other.voice") }
        do {
            try model.check(foreign, source: "other.voice")
        } catch {
            #expect("\(error)".contains("made with another model"))
        }
        let cv = try Fixtures.model("tiny-cv-0b6")
        #expect(throws: SynthesisError.self) { try cv.check(voice, source: "anna.voice") }
    }

    /// An in-context voice file holds the reference codes and transcript, and a request with it
    /// gives the official in-context codes.
    @Test func inContextVoiceFilesGiveTheOfficialCodes() throws {
        let model = try Fixtures.model("tiny-base-0b6")
        let c = try Fixtures.loadCase("base-icl-english-stream")
        let voice = try model.makeVoice(name: "Ref", audio: referenceAudio(), transcript: c.referenceText)
        #expect(voice.mode == "icl")
        let decoded = try VoiceFile.decode(voice.encoded(), source: "ref.voice")
        #expect(decoded == voice)
        #expect(decoded.reference?.codes == c.referenceCodes)
        var request = c.request
        request.setVoice(decoded)
        #expect(try model.generateCodes(request, options: c.greedyOptions).codes == c.codes)

        // Appended silence lengthens the reference by whole frames' worth of samples.
        let padded = try model.makeVoice(name: "Ref", audio: referenceAudio(), transcript: "x", appendSilence: 0.5)
        #expect(padded.reference?.codes.count == (30000 + 12000 + 1919) / 1920)
        #expect(padded.appendedSilence == 0.5 && padded.referenceSeconds == 1.25)
        #expect(throws: SynthesisError.self) { try model.makeVoice(name: "Ref", audio: referenceAudio(), transcript: " ") }
        #expect(throws: SynthesisError.self) { try model.makeVoice(name: "Ref", audio: referenceAudio(), appendSilence: 9) }
    }

    @Test func malformedVoiceFilesAreNamed() throws {
        let voice = try Fixtures.model("tiny-base-0b6").makeVoice(name: "x", audio: referenceAudio())
        var wrongFormat = voice
        wrongFormat.format = "something-else"
        var wrongWidth = voice
        wrongWidth.xvector.removeLast()
        var iclWithoutReference = voice
        iclWithoutReference.mode = "icl"
        var unknownMode = voice
        unknownMode.mode = "magic"
        var emptyTranscript = voice
        emptyTranscript.mode = "icl"
        emptyTranscript.reference = VoiceReference(codes: [[Int]](repeating: [Int](repeating: 0, count: 16), count: 2), text: "")
        for data in [Data("{not json".utf8), try wrongFormat.encoded(), try wrongWidth.encoded(), try iclWithoutReference.encoded(),
                     try unknownMode.encoded(), try emptyTranscript.encoded()] {
            #expect(throws: VoiceError.self) { try VoiceFile.decode(data, source: "bad.voice") }
        }
        // Reference codes out of range are refused when the file is checked against the model.
        var badCodes = voice
        badCodes.mode = "icl"
        badCodes.reference = VoiceReference(codes: [[Int]](repeating: [Int](repeating: 4096, count: 16), count: 2), text: "x")
        let model = try Fixtures.model("tiny-base-0b6")
        #expect(throws: VoiceError.self) { try model.check(VoiceFile.decode(badCodes.encoded(), source: "bad.voice"), source: "bad.voice") }
    }
}
