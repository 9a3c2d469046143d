// Limits that bound a request's work (issue #15): bytes and tokens as well as characters, the
// frame cap, chunked prefill, and voice files and generation configs that claim too much.
import Foundation
import Testing
import TTSRuntime
@testable import Qwen3TTS

@Suite(.tags(.kernelIndependent)) struct LimitsTests {
    /// "e" and 60,000 combining acute accents: one character of 120 KB.
    static let hugeGrapheme = "e" + String(repeating: "\u{301}", count: 60_000)

    @Test func oneHugeGraphemeIsCutIntoUtterancesWithinTheByteLimit() throws {
        let pieces = TextSplitter.split(Self.hugeGrapheme, maxCharacters: 250, maxBytes: 1000)
        #expect(pieces.count == 121)
        #expect(pieces.allSatisfy { $0.utf8.count <= 1000 })
        #expect(pieces.joined() == Self.hugeGrapheme)
        // Ordinary text keeps its sentence cuts; bytes only bind where characters are wide.
        #expect(TextSplitter.split("Ab. Cd. Ef.", maxCharacters: 6, maxBytes: 100) == ["Ab.", "Cd.", "Ef."])
        #expect(TextSplitter.split("ééé ééé", maxCharacters: 100, maxBytes: 8) == ["ééé", "ééé"])
        #expect(TextSplitter.split("Hello there.", maxCharacters: 100) == ["Hello there."])
    }

    @Test func utterancesOfAHugeGraphemeHaveBoundedPrompts() throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        let validated = try model.validate(SynthesisRequest(text: Self.hugeGrapheme, language: "english"), segmentCharacters: 250)
        #expect(validated.texts.count == 121)
        for i in validated.texts.indices {
            let prompt = try model.promptBuilder.build(validated, utterance: i)
            #expect(prompt.textTokenCount <= 1000, "\(prompt.textTokenCount) text tokens")
        }
    }

    @Test func textOverTheByteLimitIsRefusedByItsBytes() throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        let wide = String(repeating: "\u{1F600}", count: 100_001)  // 400,004 bytes, 100,001 characters
        #expect(throws: SynthesisError.tooLong(what: "text", length: 400_004, unit: "bytes", limit: TextLimits.maximumTextBytes)) {
            try model.synthesize(SynthesisRequest(text: wide))
        }
    }

    @Test func instructionsAreBoundedInBytesAndTokens() throws {
        let model = try Fixtures.model("tiny-vd-1b7")
        var request = SynthesisRequest(text: "Hello.", language: "english")
        request.instruct = String(repeating: "a", count: TextLimits.maximumInstructBytes + 1)
        #expect(throws: SynthesisError.tooLong(what: "instruction", length: TextLimits.maximumInstructBytes + 1, unit: "bytes",
                                               limit: TextLimits.maximumInstructBytes)) { try model.validate(request) }
        request.instruct = "A calm voice" + String(repeating: "\u{301}", count: 2000)  // 4,012 bytes
        #expect {
            try model.validate(request)
        } throws: { error in
            guard case .tooLong("instruction", let tokens, "tokens", TextLimits.maximumInstructTokens)? = error as? SynthesisError else { return false }
            return tokens > TextLimits.maximumInstructTokens
        }
        request.instruct = "A calm, low voice."
        try model.validate(request)
    }

    @Test func maxFramesMayNotExceedTheModelsCap() throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        #expect(model.generationDefaults.maxNewTokens == 8192)
        var options = GenerationOptions()
        options.maxFrames = 1_000_000_000
        options.repetitionPenalty = 1e-30
        let request = SynthesisRequest(text: "Hello.", language: "english", speaker: "ryan")
        #expect(throws: SynthesisError.invalidOption(name: "max frames", reason: "must be at most 8191 (the model's max_new_tokens − 1)")) {
            try model.validate(request, options: options)
        }
        #expect(throws: SynthesisError.self) { try model.generateCodes(request, options: options) }
        options.maxFrames = 8191
        try model.validate(request, options: options)
        // The resolved cap never exceeds the model's, whatever maxFrames says.
        #expect(options.resolve(model.generationDefaults, textTokens: 3).maxNewTokens == 8192)
        options.maxFrames = nil
        #expect(options.resolve(model.generationDefaults, textTokens: 3).maxNewTokens == 91)
    }

    @Test func generationConfigsOutOfRangeAreRefused() throws {
        func decode(_ json: String) throws -> GenerationDefaults { try JSONDecoder().decode(GenerationDefaults.self, from: Data(json.utf8)) }
        #expect(try decode("{\"max_new_tokens\": 8192}").maxNewTokens == 8192)
        for bad in ["{\"max_new_tokens\": 1000000000000}", "{\"max_new_tokens\": 0}", "{\"temperature\": 0}",
                    "{\"top_p\": 2}", "{\"top_k\": -1}", "{\"repetition_penalty\": -1}", "{\"subtalker_temperature\": -0.5}"] {
            #expect(throws: DecodingError.self, "\(bad)") { try decode(bad) }
        }
    }

    /// A long prompt runs in chunks of `maxRows` positions: the hidden states and the cache equal
    /// one pass (each position attends to the same keys, each row's products are its own).
    @Test func chunkedPrefillEqualsOnePass() throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        let stack = model.talker.stack
        let d = stack.shape.hidden, n = 41
        var rng = SeededRNG(seed: 7)
        let rows = (0..<(n * d)).map { _ in Float(rng.nextUnit() * 2 - 1) }
        func run(maxRows: Int) -> ([Float], [Float]) {
            let cache = stack.makeCache(capacity: n)
            var x = rows
            x.withUnsafeMutableBufferPointer { stack.forward($0.baseAddress!, count: n, cache: cache, scratch: TransformerScratch(pool: model.pool, maxRows: maxRows)) }
            let last = stack.layers.count - 1
            return (x, cache.keysAsFloats(layer: last))
        }
        let (whole, wholeKeys) = run(maxRows: 256)
        let (chunked, chunkedKeys) = run(maxRows: 8)
        let scale = whole.map(abs).max() ?? 1
        #expect(zip(whole, chunked).map { abs($0 - $1) }.max()! <= 1e-5 * scale)
        #expect(zip(wholeKeys, chunkedKeys).map { abs($0 - $1) }.max()! <= 1e-5 * (wholeKeys.map(abs).max() ?? 1))
    }

    /// Cancellation is asked between prefill chunks: a stop leaves only the rows done, and a
    /// prompt prefix cut short is not cached.
    @Test func aCancelledPrefillStopsBetweenChunks() throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        let stack = model.talker.stack
        let d = stack.shape.hidden, n = 41
        let cache = stack.makeCache(capacity: n)
        let scratch = TransformerScratch(pool: model.pool, maxRows: 8)
        var asked = 0
        scratch.shouldStop = {
            asked += 1
            return asked >= 2
        }
        var x = [Float](repeating: 0.01, count: n * d)
        x.withUnsafeMutableBufferPointer { stack.forward($0.baseAddress!, count: n, cache: cache, scratch: scratch) }
        #expect(cache.count == 16)

        let prompt = try model.prompt(for: SynthesisRequest(text: "Hello there.", language: "english", speaker: "ryan"))
        #expect(prompt.sharedPrefixCount > 2)
        let entries = model.promptCache.statistics.entries
        let cut = FrameGenerator(model: model), state = TalkerState(talker: model.talker, capacity: 256)
        cut.talkerScratch.maxRows = 2
        cut.talkerScratch.shouldStop = { true }
        cut.prefill(prompt, state: state)
        #expect(state.cache.count < prompt.prefillCount)
        #expect(model.promptCache.statistics.entries == entries, "a prefix cut short was cached")
    }

    @Test func voiceFilesThatClaimTooMuchAreRefused() throws {
        let model = try Fixtures.model("tiny-base-0b6")
        let audio = AudioBuffer(samples: (0..<24000).map { Float(0.3 * sin(Double($0) * 0.05)) }, sampleRate: 24000)
        let voice = try model.makeVoice(name: "v", audio: audio, transcript: "A hum.")
        var long = voice
        long.reference?.codes = Array(repeating: voice.reference!.codes[0], count: Qwen3TTSModel.maximumReferenceFrames + 1)
        #expect(throws: VoiceError.self) { try VoiceFile.decode(long.encoded(), source: "long.voice") }
        var wordy = voice
        wordy.reference?.text = String(repeating: "x", count: TextLimits.maximumTranscriptBytes + 1)
        #expect(throws: VoiceError.self) { try VoiceFile.decode(wordy.encoded(), source: "wordy.voice") }
        #expect(throws: VoiceError.self) { try VoiceFile.decode(Data(count: VoiceFile.maximumFileBytes + 1), source: "big.voice") }
        // Within the bytes but over the tokens: refused when checked against the model.
        var dense = voice
        dense.reference?.text = "e" + String(repeating: "\u{301}", count: 3000)
        let decoded = try VoiceFile.decode(dense.encoded(), source: "dense.voice")
        #expect(throws: VoiceError.self) { try model.check(decoded, source: "dense.voice") }
        #expect(throws: SynthesisError.self) {
            try model.makeVoice(name: "w", audio: audio, transcript: "e" + String(repeating: "\u{301}", count: 3000))
        }
    }
}
