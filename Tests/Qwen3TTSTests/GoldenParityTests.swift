// Parity with the official implementation on the golden fixtures (f32 compute).
//
// Tolerance: activations and logits within 1e-4 measured as max |Δ| / max(1, |reference|) per
// element (absolute below 1, relative above); greedy codes exactly equal; waveforms max |Δ| <=
// 1e-6 (`waveformBound`: measured at most 1.6e-7 over every case on the avx512, avx2 and scalar
// paths, against peaks of ~0.16; it was 1e-4, 600 times what is measured).
import Foundation
import Testing
import TTSRuntime
@testable import Qwen3TTS

@Suite(.tags(.numerical)) struct GoldenParityTests {
    static let cases = Fixtures.caseNames
    static let waveformBound: Float = 1e-6

    @Test func fixturesArePresent() {
        #expect(Self.cases.count >= 23)
    }

    @Test(arguments: cases)
    func tokenIdsMatch(caseName: String) throws {
        let c = try Fixtures.loadCase(caseName)
        let model = try Fixtures.model(c.checkpoint)
        #expect(model.tokenizer.encode(PromptBuilder.assistantText(c.text)) == c.inputIds)
        if let instruct = c.instruct, let expected = c.instructIds {
            #expect(model.tokenizer.encode(PromptBuilder.instructText(instruct)) == expected)
        }
        if let reference = c.referenceText {
            #expect(model.tokenizer.encode(PromptBuilder.referenceText(reference)) == c.referenceIds)
        }
    }

    @Test(arguments: cases)
    func prefillEmbeddingsActivationsAndLogitsMatch(caseName: String) throws {
        let c = try Fixtures.loadCase(caseName)
        let model = try Fixtures.model(c.checkpoint)
        let golden = try c.tensors()
        let prompt = try model.prompt(for: c.request)
        #expect(prompt.inputIds == c.inputIds)
        #expect(maxRelativeDifference(prompt.prefill, try golden.floats("prefill_embeds")) < 1e-4)

        let probe = TalkerProbe(model, prompt: prompt, steps: 8)
        let d = model.talker.hidden, n = prompt.prefillCount
        var layerOutputs: [[Float]] = []
        probe.prefill { _, x in layerOutputs.append(Array(UnsafeBufferPointer(start: x, count: n * d))) }
        #expect(layerOutputs.count == model.configuration.talker.stack.numHiddenLayers)
        for (i, out) in layerOutputs.enumerated() {
            let diff = maxRelativeDifference(out, try golden.floats("layer_\(i)"))
            #expect(diff < 1e-4, "layer \(i): \(diff)")
        }
        // Final norm over every prefill position.
        var normed = [Float](repeating: 0, count: n * d)
        layerOutputs.last!.withUnsafeBufferPointer { x in
            normed.withUnsafeMutableBufferPointer { model.talker.stack.normalize(x.baseAddress!, $0.baseAddress!, count: n) }
        }
        #expect(maxRelativeDifference(normed, try golden.floats("final_hidden")) < 1e-4)

        // Logits after the prefill and after teacher-forced steps with the official codes.
        // The generator records the first 4 steps' logits (every case has 20+ frames): a missing
        // tensor is an error here, never a reason to check fewer.
        #expect(c.codes.count >= 4)
        for k in 0..<4 {
            let expected = try golden.floats("logits_\(k)")
            if k > 0 { probe.step(frame: c.codes[k - 1], index: k - 1) }
            let logits = probe.logits()
            let diff = maxRelativeDifference(logits, expected)
            #expect(diff < 1e-4, "logits at step \(k): \(diff)")
        }
    }

    @Test(arguments: cases)
    func greedyCodesAreIdentical(caseName: String) throws {
        let c = try Fixtures.loadCase(caseName)
        let model = try Fixtures.model(c.checkpoint)
        let result = try model.generateCodes(c.request, options: c.greedyOptions)
        #expect(result.codes.count == c.codes.count)
        #expect(result.codes == c.codes)
    }

    static let endOfSpeechCases = cases.filter { (try? Fixtures.loadCase($0))?.endsBy == "eos" }

    /// Official cases that end by end of speech: both text layouts, and a clone.
    @Test func endOfSpeechCasesCoverBothLayoutsAndAClone() throws {
        let loaded = try Self.endOfSpeechCases.map(Fixtures.loadCase)
        #expect(loaded.contains { $0.nonStreamingMode && $0.referenceText == nil })
        #expect(loaded.contains { !$0.nonStreamingMode && $0.referenceText == nil })
        #expect(loaded.contains { $0.referenceText != nil })
        #expect(loaded.contains { !($0.eosMaskedTopSteps ?? []).isEmpty })
    }

    /// Generation stops at the official end-of-speech step and says it finished; without the
    /// stop, the same frames come first and the cap is reached. Where EOS had the top raw logit
    /// in the first two steps, the official mask kept it from ending there: so does ours.
    @Test(arguments: endOfSpeechCases)
    func endOfSpeechStopsWhereTheOfficialCodeStops(caseName: String) throws {
        let c = try Fixtures.loadCase(caseName)
        let model = try Fixtures.model(c.checkpoint)
        let result = try model.generateCodes(c.request, options: c.greedyOptions)
        #expect(result.finished)
        #expect(result.codes == c.codes)
        #expect(c.codes.count < c.greedyOptions.maxFrames!)
        let golden = try c.tensors()
        for step in c.eosMaskedTopSteps ?? [] {
            let logits = try golden.floats("logits_\(step)")
            #expect(logits[2150] > logits[0..<2048].max()!, "step \(step): EOS tops the codes but is masked")
        }
        var unstopped = c.greedyOptions
        unstopped.stopAtEndOfSpeech = false
        let capped = try model.generateCodes(c.request, options: unstopped)
        #expect(!capped.finished)
        #expect(capped.codes.count == unstopped.maxFrames)
        #expect(Array(capped.codes.prefix(c.codes.count)) == c.codes)
    }

    /// The stream of an end-of-speech case ends with the frame before EOS, in a last chunk
    /// shorter than the others, and its audio is the official waveform.
    @Test(arguments: endOfSpeechCases)
    func theLastStreamedChunkEndsAtEndOfSpeech(caseName: String) throws {
        let c = try Fixtures.loadCase(caseName)
        let model = try Fixtures.model(c.checkpoint)
        var streaming = StreamOptions()
        streaming.firstChunkFrames = 1
        streaming.chunkFrames = 4
        var chunks: [AudioChunk] = []
        try model.produce(c.request, options: c.greedyOptions, streaming: streaming) { chunks.append($0) }
        let last = try #require(chunks.last)
        #expect(last.startFrame + last.frames == c.codes.count)
        #expect(chunks.map(\.frames).reduce(0, +) == c.codes.count)
        let rest = (c.codes.count - 1) % 4
        #expect(last.frames == (rest == 0 ? 4 : rest))
        let samples = chunks.flatMap(\.samples)
        #expect(samples.count == c.samples)
        #expect(maxAbsoluteDifference(samples, try c.tensors().floats("wav")) <= Self.waveformBound)
    }

    @Test(arguments: cases)
    func waveformMatches(caseName: String) throws {
        let c = try Fixtures.loadCase(caseName)
        let model = try Fixtures.model(c.checkpoint)
        // In-context cases continue the reference (it primes the decoder) and are cut as the
        // wrapper cuts reference + codes decoded together.
        let decoder = model.makeStreamingDecoder()
        let tail = c.referenceCodes.isEmpty ? [] : try decoder.prime(c.referenceCodes)
        let audio = Qwen3TTSModel.officialContinuation(try decoder.decode(c.codes), referenceFrames: c.referenceCodes.count,
                                                       referenceTail: tail, samplesPerFrame: model.samplesPerFrame)
        let expected = try c.tensors().floats("wav")
        #expect(audio.count == c.codes.count * 1920)
        #expect(audio.count == c.samples)
        #expect(maxAbsoluteDifference(audio, expected) <= Self.waveformBound)
    }

    /// `synthesize` is the stream collected: the official codes and waveform for every case,
    /// in-context clones cut from their reference as the wrapper cuts them.
    @Test(arguments: cases)
    func synthesizeGivesTheOfficialCodesAndWaveform(caseName: String) throws {
        let c = try Fixtures.loadCase(caseName)
        let model = try Fixtures.model(c.checkpoint)
        let result = try model.synthesize(c.request, options: c.greedyOptions)
        #expect(result.codes == c.codes)
        #expect(result.audio.count == c.samples)
        #expect(maxAbsoluteDifference(result.audio, try c.tensors().floats("wav")) <= Self.waveformBound)
    }

    /// Where the wrapper's float cut int(R / (R + T) · samples) lands one sample before the
    /// reference ends, `synthesize` starts with the reference's last sample, as decoding
    /// reference and codes together and cutting does. (R = the case's reference frames; T is
    /// chosen so that the cut is short, with end of speech off.)
    @Test func synthesizeCutsAnInContextCloneAsTheWrapperDoes() throws {
        let name = try #require(Self.cases.first { (try? Fixtures.loadCase($0))?.referenceText != nil }, "an in-context case")
        let c = try Fixtures.loadCase(name)
        let model = try Fixtures.model(c.checkpoint)
        let r = c.referenceCodes.count, spf = model.samplesPerFrame
        func cut(_ t: Int) -> Int { Int(Double(r) / Double(r + t) * Double((r + t) * spf)) }
        let t = try #require((1...300).first { cut($0) < r * spf }, "a frame count whose cut is short")
        var options = c.greedyOptions
        options.maxFrames = t
        options.stopAtEndOfSpeech = false
        let result = try model.synthesize(c.request, options: options)
        #expect(result.codes.count == t)
        let decoder = model.makeStreamingDecoder()
        let together = try decoder.decode(c.referenceCodes + result.codes)
        let expected = Array(together[cut(t)...])
        #expect(result.audio.count == t * spf + 1)
        #expect(result.audio.count == expected.count)
        #expect(maxAbsoluteDifference(result.audio, expected) <= Self.waveformBound)
    }

    @Test func decoderStagesMatchOver100Frames() throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        // The residual units' kernel-7 convs run Winograd F(4,4): this is the test of its rounding.
        #expect(model.speechDecoder.blocks.allSatisfy { $0.units.allSatisfy { $0.conv1.algorithm == .winograd } })
        let stages = try SafetensorsFile(path: Fixtures.root + "/decoder_stages.safetensors")
        let flat = try stages.ints("codes")  // [16][100]
        let t = 100
        let frames = (0..<t).map { f in (0..<16).map { q in flat[q * t + f] } }
        var seen: [String: [Float]] = [:]
        // Stages arrive token-major; the fixture holds them channel-major.
        let wav = model.speechDecoder.decode(frames) { name, x, channels in seen[name] = transpose(x, rows: x.count / channels, cols: channels) }
        // The transformer's output is recorded token-major ([t][latent]) like ours; the window
        // (72 frames) is crossed, so this is the check of the sliding-window mask against the
        // official one.
        let transformer = try stages.floats("pre_transformer")
        let ours = transpose(seen["pre_transformer"] ?? [], rows: 16, cols: t)
        let transformerDiff = maxRelativeDifference(ours, transformer)
        #expect(transformerDiff < 1e-4, "stage pre_transformer: \(transformerDiff)")
        for name in ["quantized", "pre_conv", "upsample_0", "upsample_1", "decoder_0", "decoder_1", "decoder_2", "decoder_3", "decoder_4"] {
            let expected = try stages.floats(name)
            let diff = maxRelativeDifference(seen[name] ?? [], expected)
            #expect(diff < 1e-4, "stage \(name): \(diff)")
        }
        #expect(maxAbsoluteDifference(wav, try stages.floats("wav")) <= Self.waveformBound)
    }
}
