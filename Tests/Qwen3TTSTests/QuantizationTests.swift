// Quantized generation weights stay close to f32: a random checkpoint whose widths are multiples
// of 32 (so every talker and code-predictor linear is quantized), with the fixture's text and
// speech tokenizers.
import Foundation
import Testing
import CTTSKernels
import TTSRuntime
@testable import Qwen3TTS

enum QuantFixture {
    /// Writes (once) a tiny custom_voice checkpoint: talker/predictor width 64, MLP 128.
    static let directory: String? = try? make(width: 64, heads: 4, headDim: 16)
    /// The same at width 512 (MLP 1024, 8 heads of 64): every generation matrix has rows that
    /// are multiples of 512, so the integer dot-product kernel is used where the CPU has it.
    static let wide: String? = try? make(width: 512, heads: 8, headDim: 64)

    static func make(width d: Int, heads: Int, headDim hd: Int) throws -> String {
        let src = Fixtures.checkpoint("tiny-cv-0b6")
        let dir = NSTemporaryDirectory() + "qwen3-tts-quant-\(d)-\(getpid())"
        let fm = FileManager.default
        try? fm.removeItem(atPath: dir)
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in ["generation_config.json", "vocab.json", "merges.txt", "tokenizer_config.json"] {
            try fm.createSymbolicLink(atPath: dir + "/" + f, withDestinationPath: src + "/" + f)
        }
        try fm.createSymbolicLink(atPath: dir + "/speech_tokenizer", withDestinationPath: Fixtures.checkpoint("speech_tokenizer"))
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: src + "/config.json"))) as! [String: Any]
        var talker = config["talker_config"] as! [String: Any]
        let (inter, kv) = (2 * d, heads / 2)
        talker["hidden_size"] = d; talker["intermediate_size"] = inter; talker["text_hidden_size"] = d
        talker["num_attention_heads"] = heads; talker["num_key_value_heads"] = kv; talker["head_dim"] = hd
        var cp = talker["code_predictor_config"] as! [String: Any]
        cp["hidden_size"] = d; cp["intermediate_size"] = inter
        cp["num_attention_heads"] = heads; cp["num_key_value_heads"] = kv; cp["head_dim"] = hd
        talker["code_predictor_config"] = cp
        config["talker_config"] = talker
        try JSONSerialization.data(withJSONObject: config, options: [.sortedKeys]).write(to: URL(fileURLWithPath: dir + "/config.json"))
        let textVocab = talker["text_vocab_size"] as! Int

        var rng = SeededRNG(seed: 2026)
        func normal() -> Float {
            let u = max(rng.nextUnit(), 1e-12), v = rng.nextUnit()
            return Float((-2 * log(u)).squareRoot() * cos(2 * Double.pi * v))
        }
        var entries: [SafetensorsWriter.Entry] = []
        func add(_ name: String, _ shape: [Int], scale: Float, offset: Float = 0) {
            entries.append(.init(name: name, shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in offset + scale * normal() }))
        }
        func layer(_ p: String, width: Int) {
            add("\(p).input_layernorm.weight", [width], scale: 0.2, offset: 1)
            add("\(p).post_attention_layernorm.weight", [width], scale: 0.2, offset: 1)
            add("\(p).self_attn.q_proj.weight", [heads * hd, width], scale: 1 / Float(width).squareRoot())
            add("\(p).self_attn.k_proj.weight", [kv * hd, width], scale: 1 / Float(width).squareRoot())
            add("\(p).self_attn.v_proj.weight", [kv * hd, width], scale: 1 / Float(width).squareRoot())
            add("\(p).self_attn.o_proj.weight", [width, heads * hd], scale: 1 / Float(heads * hd).squareRoot())
            add("\(p).self_attn.q_norm.weight", [hd], scale: 0.2, offset: 1)
            add("\(p).self_attn.k_norm.weight", [hd], scale: 0.2, offset: 1)
            add("\(p).mlp.gate_proj.weight", [inter, width], scale: 1 / Float(width).squareRoot())
            add("\(p).mlp.up_proj.weight", [inter, width], scale: 1 / Float(width).squareRoot())
            add("\(p).mlp.down_proj.weight", [width, inter], scale: 1 / Float(inter).squareRoot())
        }
        add("talker.model.text_embedding.weight", [textVocab, d], scale: 1)
        add("talker.model.codec_embedding.weight", [3072, d], scale: 1)
        for i in 0..<3 { layer("talker.model.layers.\(i)", width: d) }
        add("talker.model.norm.weight", [d], scale: 0.2, offset: 1)
        add("talker.text_projection.linear_fc1.weight", [d, d], scale: 1 / Float(d).squareRoot())
        add("talker.text_projection.linear_fc1.bias", [d], scale: 0.1)
        add("talker.text_projection.linear_fc2.weight", [d, d], scale: 1 / Float(d).squareRoot())
        add("talker.text_projection.linear_fc2.bias", [d], scale: 0.1)
        add("talker.codec_head.weight", [3072, d], scale: 1 / Float(d).squareRoot())
        for i in 0..<2 { layer("talker.code_predictor.model.layers.\(i)", width: d) }
        add("talker.code_predictor.model.norm.weight", [d], scale: 0.2, offset: 1)
        for j in 0..<15 {
            add("talker.code_predictor.model.codec_embedding.\(j).weight", [2048, d], scale: 1)
            add("talker.code_predictor.lm_head.\(j).weight", [2048, d], scale: 1 / Float(d).squareRoot())
        }
        try SafetensorsWriter.write(entries, to: dir + "/model.safetensors")
        return dir
    }
}

@Suite(.tags(.numerical)) struct QuantizationTests {
    /// Post-norm talker hidden states for the prompt and `steps` teacher-forced frames.
    func hiddenStates(_ model: Qwen3TTSModel, frames: [[Int]]) throws -> [[Float]] {
        let prompt = try model.prompt(for: SynthesisRequest(text: "Quantized weights stay close.", language: "english", speaker: "ryan"))
        let probe = TalkerProbe(model, prompt: prompt, steps: frames.count)
        probe.prefill()
        var states = [probe.lastHidden]
        for (k, codes) in frames.enumerated() {
            probe.step(frame: codes, index: k)
            states.append(probe.lastHidden)
        }
        return states
    }

    func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for (x, y) in zip(a, b) { ab += Double(x * y); aa += Double(x * x); bb += Double(y * y) }
        return ab / (aa * bb).squareRoot()
    }

    @Test(arguments: [64, 512])
    func q8TalkerHiddenStaysWithinCosine0999(width: Int) throws {
        let dir = try #require(width == 64 ? QuantFixture.directory : QuantFixture.wide)
        let f32 = try Qwen3TTSModel.load(directory: dir, weights: .f32)
        let q8 = try Qwen3TTSModel.load(directory: dir, weights: .q8_0)
        #expect(q8.talker.stack.layers[0].q.weight.weightType == .q8_0)
        #expect(q8.codePredictor.heads[0].weight.weightType == .q8_0)
        if width == 512 && tts_q8_vnni_supported() != 0 {
            // The integer dot-product kernel is the one under test here.
            guard case .q8Vnni = q8.talker.stack.layers[0].down.weight.storage else {
                Issue.record("expected the repacked q8 layout")
                return
            }
        }
        var options = GenerationOptions()
        options.greedy = true
        options.maxFrames = 20
        options.stopAtEndOfSpeech = false
        let frames = try f32.generateCodes(SynthesisRequest(text: "Quantized weights stay close.", language: "english", speaker: "ryan"), options: options).codes
        #expect(frames.count == 20)
        let a = try hiddenStates(f32, frames: frames), b = try hiddenStates(q8, frames: frames)
        let worst = zip(a, b).map { cosine($0, $1) }.min()!
        #expect(worst >= 0.999, "lowest cosine \(worst)")
    }

    /// q4_k on the layers' projections (q8_0 on the heads, by the recipe): cosine >= 0.99 against
    /// f32 over 20 teacher-forced frames, and threads=2 equals threads=1.
    @Test func q4kTalkerHiddenStaysWithinCosine099() throws {
        let dir = try #require(QuantFixture.wide)
        let f32 = try Qwen3TTSModel.load(directory: dir, weights: .f32)
        let q4 = try Qwen3TTSModel.load(directory: dir, threads: 2, weights: .q4_k)
        #expect(q4.talker.stack.layers[0].q.weight.weightType == .q4_k)
        #expect(q4.codePredictor.stack.layers[0].down.weight.weightType == .q4_k)
        #expect(q4.talker.codecHead.weight.weightType == .q8_0)
        #expect(q4.codePredictor.heads[0].weight.weightType == .q8_0)
        if tts_q4_k_vnni_supported() != 0 {
            // The integer dot-product kernel on repacked q4_k is the one under test here.
            guard case .q4kVnni = q4.talker.stack.layers[0].down.weight.storage else {
                Issue.record("expected the repacked q4_k layout")
                return
            }
        }
        var options = GenerationOptions()
        options.greedy = true
        options.maxFrames = 20
        options.stopAtEndOfSpeech = false
        let request = SynthesisRequest(text: "Quantized weights stay close.", language: "english", speaker: "ryan")
        let frames = try f32.generateCodes(request, options: options).codes
        let a = try hiddenStates(f32, frames: frames), b = try hiddenStates(q4, frames: frames)
        let worst = zip(a, b).map { cosine($0, $1) }.min()!
        #expect(worst >= 0.99, "lowest cosine \(worst)")

        let q4one = try Qwen3TTSModel.load(directory: dir, threads: 1, weights: .q4_k)
        options.greedy = false
        options.seed = 4
        options.maxFrames = 8
        let x = try q4.synthesize(request, options: options), y = try q4one.synthesize(request, options: options)
        #expect(x.codes == y.codes && x.audio == y.audio)
    }

    /// With quantized weights the talker's KV cache is bf16 (f32 with f32 weights, or when asked):
    /// teacher-forced hidden states stay within cosine 0.9999 of the same weights with an f32
    /// cache, and a prompt-cache hit (bf16 snapshot) gives the same codes and samples as the miss.
    @Test func quantizedWeightsKeepACompactCacheCloseToF32() async throws {
        // CPU-bound for a long while on the scalar path: off Swift's cooperative pool, so the
        // async stream tests beside it are not starved (BatchInvarianceTests.offPool).
        try await BatchInvarianceTests().offPool { try Self().compactCacheCheck() }
    }

    /// Lowest cosine measured between the talker's hidden states with each compact cache and
    /// with an f32 cache (same q8_0 weights, 20 greedy frames): bf16 0.999964, q8_0 0.999955.
    static let cacheBounds: [KVPrecision: Double] = [.bf16: 0.9999, .q8_0: 0.9999]

    func compactCacheCheck() throws {
        let dir = try #require(QuantFixture.wide)
        let f32 = try Qwen3TTSModel.load(path: dir, weights: .f32)
        let q8 = try Qwen3TTSModel.load(path: dir, weights: .q8_0)
        let q8bf16 = try Qwen3TTSModel.load(path: dir, weights: .q8_0, kvCache: .bf16)
        let q8exact = try Qwen3TTSModel.load(path: dir, weights: .q8_0, kvCache: .f32)
        #expect(f32.kvCachePrecision == .f32)
        #expect(q8.kvCachePrecision == .q8_0)
        #expect(q8bf16.kvCachePrecision == .bf16 && q8exact.kvCachePrecision == .f32)
        var options = GenerationOptions()
        options.greedy = true
        options.maxFrames = 20
        options.stopAtEndOfSpeech = false
        let request = SynthesisRequest(text: "Quantized weights stay close.", language: "english", speaker: "ryan")
        let frames = try q8exact.generateCodes(request, options: options).codes
        let exact = try hiddenStates(q8exact, frames: frames)
        for model in [q8bf16, q8] {
            let compact = try hiddenStates(model, frames: frames)
            let worst = zip(exact, compact).map { cosine($0, $1) }.min()!
            print("\(model.kvCachePrecision.rawValue) cache: lowest cosine \(worst)")
            #expect(worst >= Self.cacheBounds[model.kvCachePrecision]!, "\(model.kvCachePrecision.rawValue) cache: lowest cosine \(worst)")
            #expect(zip(exact, compact).contains { $0 != $1 }, "the \(model.kvCachePrecision.rawValue) cache changed nothing: is it used?")
        }

        q8.promptCache.removeAll()
        options.greedy = false
        options.seed = 12
        let miss = try q8.synthesize(request, options: options)
        let hits = q8.promptCache.statistics.hits
        let hit = try q8.synthesize(request, options: options)
        #expect(q8.promptCache.statistics.hits == hits + 1)
        #expect(hit.codes == miss.codes && hit.audio == miss.audio)
    }

    /// At widths q4_k cannot hold (not a multiple of 256), the recipe falls back to q8_0.
    @Test func q4kFallsBackToQ8WhereBlocksDoNotFit() throws {
        let dir = try #require(QuantFixture.directory)
        let m = try Qwen3TTSModel.load(directory: dir, weights: .q4_k)
        #expect(m.generationWeightTypes.allSatisfy { $0.hasPrefix("q8_0") }, "\(m.generationWeightTypes)")
    }

    @Test func q8ThreadsAgree() throws {
        let dir = try #require(QuantFixture.directory)
        let one = try Qwen3TTSModel.load(directory: dir, threads: 1, weights: .q8_0)
        let two = try Qwen3TTSModel.load(directory: dir, threads: 2, weights: .q8_0)
        var options = GenerationOptions()
        options.seed = 9
        options.maxFrames = 10
        let r = SynthesisRequest(text: "Two threads, one answer.", language: "english", speaker: "vivian")
        let a = try one.synthesize(r, options: options), b = try two.synthesize(r, options: options)
        #expect(a.codes == b.codes && a.audio == b.audio)
    }
}
