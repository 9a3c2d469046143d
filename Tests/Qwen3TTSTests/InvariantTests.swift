// Invariants of the engine on the tiny checkpoints: incremental computation equals full recomputation.
import Foundation
import Testing
@testable import Qwen3TTS

@Suite(.tags(.numerical)) struct InvariantTests {
    /// Prompt rows followed by a few more rows, for running the talker stack different ways.
    func rows(_ model: Qwen3TTSModel, case name: String, extra: Int) throws -> (rows: [Float], prefill: Int) {
        let c = try Fixtures.loadCase(name)
        let prompt = try model.prompt(for: c.request)
        var rows = prompt.prefill
        let d = model.talker.hidden
        for k in 0..<extra { rows += (0..<d).map { Float(sin(Double(k * d + $0))) } }
        return (rows, prompt.prefillCount)
    }

    func run(_ model: Qwen3TTSModel, _ rows: ArraySlice<Float>, cache: KVCache, scratch: TransformerScratch) -> [Float] {
        var x = Array(rows)
        let count = x.count / model.talker.hidden
        x.withUnsafeMutableBufferPointer { model.talker.stack.forward($0.baseAddress!, count: count, cache: cache, scratch: scratch) }
        return x
    }

    @Test func prefillThenDecodeEqualsFullForward() throws {
        let model = try Fixtures.model("tiny-cv-1b7")
        let d = model.talker.hidden
        let (all, p) = try rows(model, case: "cv1-ryan-instruct-english", extra: 5)
        let n = all.count / d
        let full = run(model, all[...], cache: model.talker.stack.makeCache(), scratch: TransformerScratch())
        let cache = model.talker.stack.makeCache(capacity: 4)  // forces the cache to grow too
        let scratch = TransformerScratch()
        var incremental = run(model, all[0..<(p * d)], cache: cache, scratch: scratch)
        for k in p..<n { incremental += run(model, all[(k * d)..<((k + 1) * d)], cache: cache, scratch: scratch) }
        #expect(maxRelativeDifference(incremental, full) < 1e-5)
    }

    @Test func cachedStepsEqualUncachedRecomputation() throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        let d = model.talker.hidden
        let (all, p) = try rows(model, case: "cv0-fu-russian", extra: 4)
        let n = all.count / d
        let cache = model.talker.stack.makeCache()
        let scratch = TransformerScratch()
        _ = run(model, all[0..<(p * d)], cache: cache, scratch: scratch)
        for k in p..<n {
            let cached = run(model, all[(k * d)..<((k + 1) * d)], cache: cache, scratch: scratch)
            let uncached = run(model, all[0..<((k + 1) * d)], cache: model.talker.stack.makeCache(), scratch: TransformerScratch())
            #expect(maxRelativeDifference(cached, Array(uncached[(k * d)...])) < 1e-5)
        }
    }

    /// Decoding 90 frames at once equals decoding them one at a time through the windowed cache
    /// (the 72-frame window is crossed). The mask itself is checked against the official
    /// decoder's in GoldenParityTests.decoderStagesMatchOver100Frames (stage pre_transformer).
    @Test func oneShotEqualsStepwiseBeyondTheWindow() throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        let stack = model.speechDecoder.transformer
        let h = stack.shape.hidden
        let t = 90
        let input = (0..<(t * h)).map { Float(cos(Double($0) * 0.37)) }
        var once = input
        once.withUnsafeMutableBufferPointer { stack.forward($0.baseAddress!, count: t, cache: stack.makeCache(), scratch: TransformerScratch()) }
        let cache = stack.makeCache()
        let scratch = TransformerScratch()
        var stepwise: [Float] = []
        for k in 0..<t {
            var row = Array(input[(k * h)..<((k + 1) * h)])
            row.withUnsafeMutableBufferPointer { stack.forward($0.baseAddress!, count: 1, cache: cache, scratch: scratch) }
            stepwise += row
        }
        #expect(maxRelativeDifference(stepwise, once) < 1e-5)
    }

    /// The head-major cache keeps every position's values through growth, copies, snapshots
    /// and dropping old entries, in both precisions.
    @Test(arguments: [KVPrecision.f32, .bf16, .q8_0])
    func cacheKeepsPositionsThroughItsOperations(precision: KVPrecision) {
        let heads = 3, dim = 32, width = heads * dim
        let cache = KVCache(layers: 2, heads: heads, headDim: dim, capacity: 2, precision: precision)
        // Exact in every precision: small integers, each head's block holding 127 (its q8_0 scale is 1).
        func row(_ p: Int) -> [Float] { (0..<width).map { $0 % dim == 0 ? 127 : Float((p * 7 + $0) % 100) } }
        var stored: [[Float]] = []
        for p in 0..<2 {
            cache.reserve(extra: 1)  // 2 -> 4 positions, and the runs move
            row(p).withUnsafeBufferPointer { r in
                for l in 0..<2 {
                    cache.store(r.baseAddress!, into: cache.keys(layer: l), entry: cache.count)
                    cache.store(r.baseAddress!, into: cache.values(layer: l), entry: cache.count)
                }
            }
            cache.advance(by: 1)
            stored.append(row(p))
        }
        cache.reserve(extra: 5)
        #expect(cache.capacity >= 7 && cache.headStride == cache.capacity * cache.rowBytes)
        #expect(cache.keysAsFloats(layer: 1) == stored.flatMap { $0 })
        let copy = cache.copy()
        #expect(copy.keysAsFloats(layer: 0) == stored.flatMap { $0 })
        let restored = KVCache(layers: 2, heads: heads, headDim: dim, capacity: 1, precision: precision)
        restored.restore(cache.snapshot())
        #expect(restored.count == 2 && restored.keysAsFloats(layer: 1) == stored.flatMap { $0 })
        cache.keepLast(1)
        #expect(cache.firstPosition == 1 && cache.keysAsFloats(layer: 0) == row(1))
    }

    @Test func seededSamplingIsReproducible() throws {
        let model = try Fixtures.model("tiny-vd-1b7")
        let request = SynthesisRequest(text: "Same seed, same codes.", language: "english", instruct: "Calm.")
        var options = GenerationOptions()
        options.seed = 1234
        options.maxFrames = 12
        let a = try model.generateCodes(request, options: options)
        let b = try model.generateCodes(request, options: options)
        options.seed = 1235
        let c = try model.generateCodes(request, options: options)
        #expect(a.codes == b.codes)
        #expect(a.codes != c.codes)
        #expect(a.codes.allSatisfy { $0.count == 16 && $0.allSatisfy { (0..<2048).contains($0) } })
    }
}

@Suite(.tags(.numerical)) struct FrameLimitTests {
    /// The documented rule with numbers: 60 frames plus 10 per text token (at least one token),
    /// and never more than the model's max_new_tokens − 1 frames, whether defaulted or asked for.
    @Test func capRuleInNumbers() throws {
        #expect(GenerationOptions.defaultFrameLimit(textTokens: 0) == 70)
        #expect(GenerationOptions.defaultFrameLimit(textTokens: 1) == 70)
        #expect(GenerationOptions.defaultFrameLimit(textTokens: 25) == 310)
        var d = GenerationDefaults()
        d.maxNewTokens = 50
        #expect(GenerationOptions().resolve(d, textTokens: 1).maxNewTokens == 50)  // 70 capped: 49 frames
        #expect(GenerationOptions().resolve(d, textTokens: 0).maxNewTokens == 50)
        d.maxNewTokens = 4096
        #expect(GenerationOptions().resolve(d, textTokens: 3).maxNewTokens == 91)  // 90 frames
        var asked = GenerationOptions()
        asked.maxFrames = 7
        #expect(asked.resolve(d, textTokens: 3).maxNewTokens == 8)
        asked.maxFrames = 4095
        #expect(throws: Never.self) { try asked.validate(for: d) }
        asked.maxFrames = 4096
        #expect(throws: SynthesisError.self) { try asked.validate(for: d) }
    }

    /// A model whose generation_config says max_new_tokens 41 stops a long text at 40 frames.
    @Test func modelCapBoundsTheDefault() throws {
        let source = Fixtures.checkpoint("tiny-vd-1b7")
        let dir = try Fixtures.linkedCheckpoint("tiny-vd-1b7", except: ["generation_config.json"])
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: source + "/generation_config.json"))) as! [String: Any]
        config["max_new_tokens"] = 41
        try JSONSerialization.data(withJSONObject: config).write(to: URL(fileURLWithPath: dir + "/generation_config.json"))
        let model = try Qwen3TTSModel.load(directory: dir)
        var options = GenerationOptions()
        options.seed = 5
        options.stopAtEndOfSpeech = false
        let result = try model.generateCodes(SynthesisRequest(text: "A sentence long enough for far more than forty frames.", language: "english"), options: options)
        #expect(result.codes.count == 40)
    }

    @Test func defaultCapFollowsTextLength() throws {
        let model = try Fixtures.model("tiny-vd-1b7")
        var capped = GenerationOptions()
        capped.seed = 5
        capped.stopAtEndOfSpeech = false  // sampling may pick EOS at random; the cap is under test
        let short = try model.generateCodes(SynthesisRequest(text: "Hi.", language: "english"), options: capped)
        #expect(model.tokenizer.encode("Hi.").count == 3)  // "H", "i", "." in the tiny vocabulary
        #expect(short.codes.count == 90, "60 frames plus 10 per text token")
        #expect(!short.finished)
        var options = capped
        options.maxFrames = 7
        #expect(try model.generateCodes(SynthesisRequest(text: "Hi.", language: "english"), options: options).codes.count == 7)
    }
}

@Suite(.tags(.numerical)) struct ThreadingTests {
    @Test func twoThreadsEqualOneThreadExactly() throws {
        let one = try Qwen3TTSModel.load(directory: Fixtures.checkpoint("tiny-cv-1b7"), threads: 1)
        let two = try Qwen3TTSModel.load(directory: Fixtures.checkpoint("tiny-cv-1b7"), threads: 2)
        #expect(one.threadCount == 1 && two.threadCount == 2)
        let c = try Fixtures.loadCase("cv1-ryan-instruct-english")
        let a = try one.synthesize(c.request, options: c.greedyOptions)
        let b = try two.synthesize(c.request, options: c.greedyOptions)
        #expect(a.codes == b.codes)
        #expect(a.audio == b.audio)  // rows and tokens are partitioned, never split: bitwise equal
    }
}
