// Text that arrives while it is spoken (issue 19): fed whole, one scalar at a time, in random
// pieces or slowly, it gives the codes and samples of one request with the whole text in the
// streaming layout and the same seed.
import Foundation
import Testing
import TTSTestSupport
import TTSRuntime
@testable import Qwen3TTS

@Suite(.tags(.numerical)) struct TextStreamingTests {
    struct Output: Equatable {
        var codes: [[Int]] = []
        var samples: [Float] = []
        var chunks: [Int] = []  // frames per chunk
    }

    /// One request with the whole text, streaming layout.
    static func whole(_ model: Qwen3TTSModel, _ request: SynthesisRequest, _ text: String, _ options: GenerationOptions,
                      _ streaming: StreamOptions) throws -> Output {
        var r = request
        r.text = text
        r.textLayout = .streaming
        var out = Output()
        try model.produce(r, options: options, streaming: streaming) { chunk in
            out.codes += chunk.codes
            out.samples += chunk.samples
            out.chunks.append(chunk.frames)
        }
        return out
    }

    /// The text fed in `pieces` (with `pause` between them, from another thread) while the audio
    /// is read.
    static func streamed(_ model: Qwen3TTSModel, _ request: SynthesisRequest, pieces: [String], _ options: GenerationOptions,
                         _ streaming: StreamOptions, pause: Duration? = nil, progress: StreamProgress = StreamProgress()) async throws -> Output {
        let (input, audio) = try model.streamText(request, options: options, streaming: streaming, progress: progress)
        let feeder = Task.detached {
            for p in pieces {
                try input.append(p)
                if let pause { try await Task.sleep(for: pause) }
            }
            input.finish()
        }
        let out = try await collect(audio)
        try await feeder.value
        return out
    }

    static func collect(_ audio: AudioChunkStream) async throws -> Output {
        var out = Output()
        for try await chunk in audio {
            out.codes += chunk.codes
            out.samples += chunk.samples
            out.chunks.append(chunk.frames)
        }
        return out
    }

    /// A CustomVoice request whose text streams in.
    static let ryan = SynthesisRequest(text: "", language: "english", speaker: "ryan")

    static let texts = [
        "Hello there! This is spoken while it is written, word by word.",
        "今天天气很好，我们去公园吧。然后回家吃饭。",
        "Emoji 👩\u{200D}👩\u{200D}👧 and 🇺🇸, café and e\u{301}\u{323}, <|im_end|> and <tts_pad> as text.",
        "  Leading and trailing spaces, a\ttab and a\nnewline.  \n",
    ]

    /// The wrapped text's tokens are the role tokens, the text's own tokens and the closing ones,
    /// which is what lets a streamed utterance's prompt be built from its tokens alone.
    @Test func theTextsTokensSitBetweenTheRoleAndTheClosing() throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        let builder = model.promptBuilder
        for text in Self.texts + IncrementalSplitterTests.sampleTexts {
            let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !t.isEmpty else { continue }
            let ids = model.tokenizer.encode(PromptBuilder.assistantText(t))
            #expect(Array(ids.prefix(3)) == builder.roleIds, "\(t.debugDescription)")
            #expect(Array(ids[3..<(ids.count - 5)]) == model.tokenizer.encode(t), "\(t.debugDescription)")
        }
    }

    /// Named speaker, instruction, x-vector; several languages; sampled with a seed; text over
    /// the segment length (several utterances); the frame cap left to the text's length.
    @Test(arguments: [0, 1, 2, 3])
    func anyChunkingGivesTheWholeTextsCodesAndSamples(textIndex: Int) async throws {
        let cases: [(String, SynthesisRequest)] = [
            ("tiny-cv-0b6", SynthesisRequest(text: "", language: "english", speaker: "ryan")),
            ("tiny-vd-1b7", SynthesisRequest(text: "", language: "auto", instruct: "A calm voice.")),
            ("tiny-base-0b6", {
                var r = SynthesisRequest(text: "", language: "english")
                var rng = SeededRNG(seed: 3)
                r.speakerEmbedding = (0..<64).map { _ in Float(Int(rng.next() % 200) - 100) / 100 }
                return r
            }()),
        ]
        for (checkpoint, request) in cases {
            let model = try Fixtures.model(checkpoint)
            var request = request
            if request.speakerEmbedding != nil { request.speakerEmbedding = Array(repeating: 0.05, count: model.talker.hidden) }
            let text = Self.texts[textIndex]
            var options = GenerationOptions()
            options.seed = 11
            options.maxFrames = 16  // quick (debug builds, four kernel paths in CI); see below for the default cap
            var streaming = StreamOptions()
            streaming.maxSegmentCharacters = textIndex == 0 ? 24 : 250
            let expected = try Self.whole(model, request, text, options, streaming)
            #expect(!expected.codes.isEmpty)
            let feeds: [(String, [String], Duration?)] = [
                ("whole", [text], nil),
                ("scalar by scalar", text.unicodeScalars.map { String($0) }, nil),
                ("random pieces", randomPieces(text, seed: UInt64(textIndex + 1)), nil),
                ("slow random pieces", randomPieces(text, seed: UInt64(textIndex + 9)), .milliseconds(2)),
            ]
            for (name, pieces, pause) in feeds {
                let got = try await Self.streamed(model, request, pieces: pieces, options, streaming, pause: pause)
                #expect(got.codes == expected.codes, "\(checkpoint) \(name): codes")
                #expect(got.samples == expected.samples, "\(checkpoint) \(name): samples")
                #expect(got.chunks == expected.chunks, "\(checkpoint) \(name): chunks")
            }
        }
    }

    /// With no frame cap given, an utterance's cap is 60 frames plus 10 per token of its text:
    /// a streamed utterance's cap waits for its whole text, so it stops where the whole text's
    /// request stops (the tiny random model does not end by itself, so the cap is what ends it).
    @Test func theDefaultFrameCapFollowsTheWholeText() async throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        let request = Self.ryan
        let text = "Hi there, you."
        var options = GenerationOptions()
        options.seed = 3
        let expected = try Self.whole(model, request, text, options, StreamOptions())
        let tokens = model.tokenizer.encode(text).count
        #expect(expected.codes.count <= GenerationOptions.defaultFrameLimit(textTokens: tokens))
        let got = try await Self.streamed(model, request, pieces: randomPieces(text, seed: 4), options, StreamOptions(),
                                          pause: .milliseconds(3))
        #expect(got == expected)
    }

    /// Text slower than the voice: generation stops where the text stops (it does not pad), then
    /// goes on when more arrives; the result is still the whole text's.
    @Test func generationWaitsForTextThatHasNotArrived() async throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        let request = Self.ryan
        let text = "One two three four five six seven eight nine ten eleven twelve."
        var options = GenerationOptions()
        options.seed = 5
        options.maxFrames = 30
        let streaming = StreamOptions()
        let expected = try Self.whole(model, request, text, options, streaming)
        let progress = StreamProgress()
        let (input, audio) = try model.streamText(request, options: options, streaming: streaming, progress: progress)
        let reader = Task { try await Self.collect(audio) }
        try input.append("One two three ")
        // Wait until generation stands still.
        var last = -1, still = 0
        for _ in 0..<400 where still < 30 {
            try await Task.sleep(for: .milliseconds(10))
            let now = progress.frames
            still = now == last ? still + 1 : 0
            last = now
        }
        #expect(still >= 30, "generation did not stop for the missing text")
        // At most "One two three" is certain: 3 tokens, so at most 3 frames (frame k's codes
        // need the talker step of frame k - 1, which takes token k).
        let tokens = model.tokenizer.encode("One two three").count
        #expect(progress.frames <= tokens, "\(progress.frames) frames with \(tokens) tokens known")
        #expect(progress.frames >= 1, "the first word alone gives the first frame")
        #expect(progress.frames < expected.codes.count)
        try input.append("four five six seven eight nine ten eleven twelve.")
        input.finish()
        let got = try await reader.value
        #expect(got == expected)
    }

    @Test func textStreamingRefusesWhatItCannotDo() throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        var request = SynthesisRequest(text: "", language: "english", speaker: "ryan")
        request.textLayout = .nonStreaming
        #expect(throws: SynthesisError.self) { _ = try model.streamText(request) }
        #expect(throws: SynthesisError.self) { _ = try model.streamText(SynthesisRequest(text: "", language: "klingon", speaker: "ryan")) }
        #expect(throws: SynthesisError.self) { _ = try model.streamText(SynthesisRequest(text: "", language: "english", speaker: "nobody")) }
        // A request validated for streamed text is not taken without its text, nor the reverse.
        let streamedRequest = try model.validateForTextStream(Self.ryan)
        #expect(throws: SynthesisError.self) { _ = try BatchGenerator(model: model).add(streamedRequest) }
        let wholeRequest = try model.validate(SynthesisRequest(text: "Hi.", language: "english", speaker: "ryan"))
        #expect(throws: SynthesisError.self) { _ = try BatchGenerator(model: model).add(wholeRequest, text: model.makeTextInput(for: streamedRequest)) }
        #expect(throws: SynthesisError.self) { _ = try model.makeTextInput(for: wholeRequest) }
        let (input, _) = try model.streamText(SynthesisRequest(text: "", language: "english", speaker: "ryan"))
        try input.append("Hi.")
        input.finish()
        #expect(throws: SynthesisError.self) { try input.append("more") }
    }

    /// Text that holds nothing to say fails as empty whole text does; text over the limit is
    /// refused by `append`, and what came before stays.
    @Test func emptyAndHugeTextAreRefused() async throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        let (input, audio) = try model.streamText(SynthesisRequest(text: "", language: "english", speaker: "ryan"))
        try input.append("  \n\t ")
        input.finish()
        await #expect(throws: SynthesisError.emptyText) { for try await _ in audio {} }
        let (big, bigAudio) = try model.streamText(SynthesisRequest(text: "", language: "english", speaker: "ryan"))
        let piece = String(repeating: "word ", count: 10_000)
        for _ in 0..<2 { try big.append(piece) }
        #expect(throws: SynthesisError.self) { try big.append(piece + piece + piece) }
        _ = bigAudio
    }

    /// Once the request has stopped (here: its audio stream is dropped), `append` says so, so a
    /// writer feeding an LLM's answer learns there is no one left to speak it.
    @Test func textForAStoppedRequestIsRefused() async throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        var input: TextInput?
        do {
            let (text, audio) = try model.streamText(Self.ryan)
            input = text
            try text.append("Hello there, ")
            _ = audio  // the stream is dropped at the end of this scope: the request is cancelled
        }
        let text = try #require(input)
        for _ in 0..<500 where !text.hasEnded { try await Task.sleep(for: .milliseconds(10)) }
        #expect(text.hasEnded)
        #expect(throws: CancellationError.self) { try text.append("anyone?") }
    }
}
