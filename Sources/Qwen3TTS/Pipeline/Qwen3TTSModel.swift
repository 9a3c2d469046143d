// The loaded model: immutable, shared by every request.
import Foundation
import TTSRuntime
import TTSTokenizers

/// A Qwen3-TTS-12Hz model loaded from a Hugging Face checkpoint directory.
///
/// Immutable after loading and safe to share between tasks; every synthesis runs in its own
/// session with its own caches and RNG.
public final class Qwen3TTSModel: Sendable {
    public let directory: String
    public let configuration: Qwen3TTSConfiguration
    public let generationDefaults: GenerationDefaults
    public let speechTokenizerConfiguration: SpeechTokenizerConfiguration
    public let tokenizer: BPETokenizer
    let talker: Talker
    let codePredictor: CodePredictor
    let speechDecoder: SpeechDecoder
    /// Worker threads for the matrix products, shared by every session of this model.
    let pool: ThreadPool

    public var sampleRate: Int { speechTokenizerConfiguration.outputSampleRate }
    public var samplesPerFrame: Int { speechDecoder.samplesPerFrame }
    /// Codes per frame (code 0 + the code predictor's).
    public var codeGroups: Int { configuration.talker.stack.numCodeGroups }

    /// Loads config.json, generation_config.json, the text tokenizer, model.safetensors (or an
    /// index with shards) and speech_tokenizer/, checking every tensor name and shape.
    /// `threads`: worker threads for inference (nil: one per core). `weights`: store the talker and
    /// code-predictor linears and heads as this type (nil: as in the checkpoint); q8_0 quantizes
    /// at load (ggml's q8_0 block layout), f32 widens bf16 for exact f32 arithmetic.
    public static func load(directory: String, threads: Int? = nil, weights: WeightType? = nil) throws -> Qwen3TTSModel {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw ConfigurationError.missingFile(path: directory)
        }
        return try Qwen3TTSModel(directory: directory, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount, weights: weights)
    }

    public var threadCount: Int { pool.threadCount }

    private init(directory: String, threads: Int, weights: WeightType?) throws {
        func path(_ p: String) -> String { (directory as NSString).appendingPathComponent(p) }
        self.directory = directory
        let configPath = path("config.json")
        configuration = try JSONFile.decode(Qwen3TTSConfiguration.self, path: configPath)
        try configuration.validate(path: configPath)
        let genPath = path("generation_config.json")
        generationDefaults = FileManager.default.fileExists(atPath: genPath)
            ? try JSONFile.decode(GenerationDefaults.self, path: genPath) : GenerationDefaults()
        let stPath = path("speech_tokenizer/config.json")
        speechTokenizerConfiguration = try JSONFile.decode(SpeechTokenizerConfiguration.self, path: stPath)
        try speechTokenizerConfiguration.validate(path: stPath)
        guard speechTokenizerConfiguration.decoder.numQuantizers == configuration.talker.stack.numCodeGroups,
              speechTokenizerConfiguration.decoder.codebookSize == configuration.talker.codePredictor.vocabSize
        else {
            throw ConfigurationError.invalid(path: stPath, key: "decoder_config.num_quantizers/codebook_size",
                                             reason: "do not match the talker's num_code_groups/code predictor vocab_size")
        }
        tokenizer = try BPETokenizer.load(directory: directory)

        let main = try WeightStore.open(directory: directory)
        let loadedTalker = try Talker(weights: main, config: configuration.talker)
        let loadedPredictor = try CodePredictor(weights: main, config: configuration.talker)
        talker = weights.map { loadedTalker.converted(to: $0) } ?? loadedTalker
        codePredictor = weights.map { loadedPredictor.converted(to: $0) } ?? loadedPredictor
        // The speaker encoder (Base models) serves voice cloning, which this build does not run yet.
        main.skip(prefix: TensorNames.speakerEncoderPrefix)
        try main.finish()

        let speech = try WeightStore.open(directory: path("speech_tokenizer"))
        speechDecoder = try SpeechDecoder(weights: speech, config: speechTokenizerConfiguration.decoder)
        // The encoder (reference audio -> codes) serves in-context voice cloning only.
        speech.skip(prefix: TensorNames.speechEncoderPrefix)
        try speech.finish()
        pool = ThreadPool(threads: threads)
    }

    var promptBuilder: PromptBuilder { PromptBuilder(config: configuration, tokenizer: tokenizer, talker: talker) }

    /// Checks a request without running it.
    public func validate(_ request: SynthesisRequest, options: GenerationOptions = .init()) throws {
        try options.validate()
        try promptBuilder.validate(request)
    }

    /// Generates the codes for a request (no audio).
    public func generateCodes(_ request: SynthesisRequest, options: GenerationOptions = .init(),
                              onFrame: ([Int]) throws -> Void = { _ in }) throws -> (codes: [[Int]], finished: Bool, seed: UInt64, timings: SynthesisTimings) {
        try options.validate()
        let clock = ContinuousClock()
        let start = clock.now
        let prompt = try promptBuilder.build(request)
        let resolved = options.resolve(generationDefaults, textTokens: prompt.textTokenCount)
        let seed = options.seed ?? UInt64.random(in: 0...UInt64.max)
        let session = SynthesisSession(model: self, seed: seed,
                                       capacity: prompt.prefillCount + min(resolved.maxNewTokens, 4096) + 1)
        session.timings.prompt = (clock.now - start).seconds
        let (codes, finished) = try session.generate(prompt: prompt, options: resolved, onFrame: onFrame)
        session.timings.total = (clock.now - start).seconds
        return (codes, finished, seed, session.timings)
    }

    /// Decodes frames of codes to 24 kHz samples in one pass (exact, not chunked).
    public func decode(codes: [[Int]]) throws -> [Float] {
        try validateCodes(codes)
        return speechDecoder.decode(codes, pool: pool)
    }

    /// Seconds spent in each decoder stage (in order) for `codes`; for benchmarks.
    public func decoderStageTimes(codes: [[Int]]) -> [(stage: String, seconds: Double)] {
        var times: [(String, Double)] = []
        var last = ContinuousClock.now
        _ = speechDecoder.decode(codes, pool: pool) { name, _, _ in
            let now = ContinuousClock.now
            times.append((name, (now - last).seconds))
            last = now
        }
        times.append(("output", (ContinuousClock.now - last).seconds))
        return times
    }

    /// Text to audio.
    public func synthesize(_ request: SynthesisRequest, options: GenerationOptions = .init()) throws -> SynthesisResult {
        let clock = ContinuousClock()
        let start = clock.now
        var (codes, finished, seed, timings) = try generateCodes(request, options: options)
        let decodeStart = clock.now
        let audio = try decode(codes: codes)
        timings.decoder = (clock.now - decodeStart).seconds
        timings.total = (clock.now - start).seconds
        return SynthesisResult(codes: codes, audio: audio, sampleRate: sampleRate, seed: seed, timings: timings, finished: finished)
    }
}
