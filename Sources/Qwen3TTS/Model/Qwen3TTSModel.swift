// The loaded model: immutable, shared by every request.
import Foundation
import TTSRuntime
import TTSTokenizers

/// A Qwen3-TTS-12Hz model loaded from a Hugging Face checkpoint directory.
///
/// Immutable after loading and safe to share between tasks; every synthesis runs in its own
/// session with its own caches and RNG.
public final class Qwen3TTSModel: Sendable {
    /// The checkpoint directory or GGUF file the model was loaded from.
    public let directory: String
    public let configuration: Qwen3TTSConfiguration
    public let generationDefaults: GenerationDefaults
    public let speechTokenizerConfiguration: SpeechTokenizerConfiguration
    public let tokenizer: BPETokenizer
    let talker: Talker
    let codePredictor: CodePredictor
    let speechDecoder: SpeechDecoder
    /// Base models: reference audio -> x-vector.
    public let speakerEncoder: SpeakerEncoder?
    /// Base models: reference audio -> codes (in-context cloning).
    let speechEncoder: SpeechEncoder?
    /// Worker threads for the matrix products, shared by every session of this model.
    let pool: ThreadPool
    /// KV states of shared prompt prefixes (speaker or voice, language, instruct), reused by
    /// later requests; `capacityBytes = 0` turns it off.
    public let promptCache = PromptCache(capacityBytes: Qwen3TTSModel.defaultPromptCacheBytes)
    public static let defaultPromptCacheBytes = 64 << 20
    /// Decoder states primed with in-context references (a few MB each), by reference codes.
    let primedDecoders = ByteBoundedCache<[[Int]], FrozenDecoderState>(capacityBytes: 64 << 20)

    public var sampleRate: Int { speechTokenizerConfiguration.outputSampleRate }
    public var samplesPerFrame: Int { speechDecoder.samplesPerFrame }
    /// Codes per frame (code 0 + the code predictor's).
    public var codeGroups: Int { configuration.talker.stack.numCodeGroups }

    /// Loads a model from a Hugging Face checkpoint directory (config.json, generation_config.json,
    /// tokenizer files, model.safetensors or an index with shards, speech_tokenizer/) or from a
    /// GGUF file written by `qwen3-tts convert`, checking every tensor name and shape.
    /// `threads`: worker threads for inference (nil: one per core). `weights`: store the talker and
    /// code-predictor linears and heads as this type (nil: as in the file); q8_0 quantizes at load
    /// (ggml's q8_0 block layout), f32 widens bf16 for exact f32 arithmetic.
    /// `decoder`: arithmetic of the speech decoder's convolutions; bf16 halves their weights
    /// (AVX-512 BF16 dot products where present; f32 is the reference and, on the development
    /// CPU, the faster one: docs/BENCHMARKS.md).
    /// `kvCache`: how the talker's KV cache stores keys and values (nil: q8_0 when the talker's
    /// weights are quantized, whose products are approximations already: about a quarter of the
    /// f32 cache's bytes, which long utterances' steps are bound by (bf16 when the head size is
    /// not a multiple of 32); f32, exact, otherwise).
    public static func load(path: String, threads: Int? = nil, weights: WeightType? = nil,
                            decoder: ConvPrecision = .f32, kvCache: KVPrecision? = nil) throws -> Qwen3TTSModel {
        try Qwen3TTSModel(path: path, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount, weights: weights,
                          decoder: decoder, kvCache: kvCache)
    }

    /// `load(path:)` for a checkpoint directory.
    public static func load(directory: String, threads: Int? = nil, weights: WeightType? = nil) throws -> Qwen3TTSModel {
        try load(path: directory, threads: threads, weights: weights)
    }

    public var threadCount: Int { pool.threadCount }
    /// How the talker's KV cache stores keys and values.
    public var kvCachePrecision: KVPrecision { talker.stack.kvPrecision }

    private init(path: String, threads: Int, weights: WeightType?, decoder: ConvPrecision, kvCache: KVPrecision?) throws {
        try KernelPath.checkForced()
        SystemMetrics.retainFreedMemory()
        directory = path
        let files = try ModelFiles.open(path)
        configuration = files.configuration
        generationDefaults = files.generationDefaults
        speechTokenizerConfiguration = files.speechConfiguration
        tokenizer = files.tokenizer
        let main = files.main
        let loadedTalker = try Talker(weights: main, config: configuration.talker)
        let loadedPredictor = try CodePredictor(weights: main, config: configuration.talker)
        // Optionally re-encode, then repack q8_0 for the integer dot-product kernel where available.
        let workers = ThreadPool(threads: threads)
        let (transformed, predictor) = transformGenerationWeights(loadedTalker, loadedPredictor, pool: workers) { l, role in
            (weights.flatMap { $0.recipe(for: role, cols: l.inFeatures) }.map { l.converted(to: $0) } ?? l).preparedForInference()
        }
        var prepared = transformed
        let quantized = prepared.stack.layers.first.map { [.q8_0, .q4_k].contains($0.q.weight.weightType) } ?? false
        // q8_0 rows need whole blocks of 32; a smaller head (test checkpoints) keeps bf16.
        let blocks = prepared.stack.shape.headDim % 32 == 0
        let precision = kvCache ?? (quantized ? (blocks ? .q8_0 : .bf16) : .f32)
        if precision == .q8_0, !blocks {
            throw SynthesisError.invalidOption(name: "KV cache", reason: "q8_0 needs a head size that is a multiple of 32 (this talker's is \(prepared.stack.shape.headDim))")
        }
        prepared.stack.kvPrecision = precision
        (talker, codePredictor) = (prepared, predictor)
        // Base models carry the speaker encoder used for voice cloning.
        if configuration.modelKind == .base, let sc = configuration.speakerEncoder {
            speakerEncoder = try SpeakerEncoder(weights: main, config: sc, prefix: TensorNames.speakerEncoderPrefix)
        } else {
            main.skip(prefix: TensorNames.speakerEncoderPrefix)
            speakerEncoder = nil
        }
        try main.finish()
        let speech = files.speech
        speechDecoder = try SpeechDecoder(weights: speech, config: speechTokenizerConfiguration.decoder, precision: decoder)
        // The encoder (reference audio -> codes) serves in-context voice cloning only.
        if configuration.modelKind == .base, let ec = speechTokenizerConfiguration.encoder {
            speechEncoder = try SpeechEncoder(weights: speech, config: ec,
                                              validQuantizers: speechTokenizerConfiguration.encoderValidNumQuantizers ?? speechTokenizerConfiguration.decoder.numQuantizers)
        } else {
            speech.skip(prefix: TensorNames.speechEncoderPrefix)
            speechEncoder = nil
        }
        try speech.finish()
        pool = workers
    }

    var promptBuilder: PromptBuilder { PromptBuilder(config: configuration, tokenizer: tokenizer, talker: talker, codePredictor: codePredictor) }

    /// Generates the codes of a request as one utterance, its whole text in one prompt (no
    /// audio; tests compare these with the official code's). `isCancelled` is asked between the
    /// chunks of a long prefill (a stop there leaves the rest to `onFrame`, which should throw).
    public func generateCodes(_ request: SynthesisRequest, options: GenerationOptions = .init(),
                              isCancelled: (() -> Bool)? = nil,
                              onFrame: ([Int]) throws -> Void = { _ in }) throws -> (codes: [[Int]], finished: Bool, seed: UInt64, timings: SynthesisTimings) {
        let clock = ContinuousClock()
        let start = clock.now
        let validated = try validate(request, options: options, segmentCharacters: nil)
        let prompt = try promptBuilder.build(validated, utterance: 0)
        let resolved = validated.options.resolve(generationDefaults, textTokens: prompt.textTokenCount)
        let session = GenerationSession(model: self, prompt: prompt, options: resolved, seed: validated.seed, requestStart: start)
        let generator = FrameGenerator(model: self)
        generator.talkerScratch.shouldStop = isCancelled
        session.timings.prompt = (clock.now - start).seconds
        let codes = try generator.generate(session, onFrame: onFrame)
        // A prefill stopped between passes (cancelled) never started generating.
        if session.sampled == 0 { throw CancellationError() }
        session.timings.total = (clock.now - start).seconds
        return (codes, session.endedWithEndOfSpeech, validated.seed, session.timings)
    }

    /// Frames decoded per pass by `decode(codes:)` and `synthesize`: 2 s of audio, so a long
    /// utterance's decoder activations stay bounded (one pass over 100 frames held 0.5 GB more at
    /// its peak).
    public static let decodeChunkFrames = 25

    /// Decodes frames of codes to 24 kHz samples through one `StreamingDecoder`,
    /// `decodeChunkFrames` at a time: equal to one-pass decoding up to float summation order.
    public func decode(codes: [[Int]]) throws -> [Float] {
        let decoder = makeStreamingDecoder()
        var audio: [Float] = []
        audio.reserveCapacity(codes.count * samplesPerFrame)
        for chunk in Self.decodeChunks(codes) { audio += try decoder.decode(chunk) }
        return audio
    }

    /// `codes` in the consecutive pieces of at most `decodeChunkFrames` that `decode(codes:)` runs.
    static func decodeChunks(_ codes: [[Int]]) -> [[[Int]]] {
        stride(from: 0, to: codes.count, by: decodeChunkFrames).map { Array(codes[$0..<min($0 + decodeChunkFrames, codes.count)]) }
    }

    /// Seconds spent in each decoder stage (in order) for `codes`, decoded as `decode(codes:)`
    /// does (`decodeChunkFrames` at a time, each stage's times summed over the chunks); for
    /// benchmarks. The stages then add up to the decoder's time, up to the observer's copies.
    public func decoderStageTimes(codes: [[Int]]) throws -> [(stage: String, seconds: Double)] {
        var names: [String] = []
        var seconds: [String: Double] = [:]
        func add(_ name: String, _ s: Double) {
            if seconds[name] == nil { names.append(name) }
            seconds[name, default: 0] += s
        }
        let decoder = makeStreamingDecoder()
        for chunk in Self.decodeChunks(codes) {
            var last = ContinuousClock.now
            _ = try decoder.decode(chunk) { name, _, _ in
                let now = ContinuousClock.now
                add(name, (now - last).seconds)
                last = now
            }
            add("output", (ContinuousClock.now - last).seconds)
        }
        return names.map { ($0, seconds[$0] ?? 0) }
    }

    /// Most characters of text one request may hold (longer text is refused, not truncated).
    public static let maximumTextCharacters = TextLimits.maximumTextCharacters

    /// Text to audio: the request streamed (`produce`) and collected, decoded
    /// `decodeChunkFrames` at a time. Text longer than `segmentCharacters` is spoken as
    /// consecutive utterances split at sentence boundaries, each with its own prompt, seed and
    /// frame cap, decoded as one stream. An in-context clone's audio is cut from the reference
    /// as the official wrapper cuts it (`officialContinuation`).
    public func synthesize(_ request: SynthesisRequest, options: GenerationOptions = .init(),
                           segmentCharacters: Int = StreamOptions().maxSegmentCharacters) throws -> SynthesisResult {
        let clock = ContinuousClock()
        let start = clock.now
        var streaming = StreamOptions()
        streaming.firstChunkFrames = Self.decodeChunkFrames
        streaming.chunkFrames = Self.decodeChunkFrames
        streaming.maxSegmentCharacters = segmentCharacters
        let validated = try validate(request, options: options, segmentCharacters: segmentCharacters)
        var codes: [[Int]] = []
        var audio: [Float] = []
        let summary = try produce(validated, streaming: streaming, start: start) { chunk in
            codes += chunk.codes
            audio += chunk.samples
        }
        if let reference = request.reference {
            audio = Self.officialContinuation(audio, referenceFrames: reference.codes.count, referenceTail: summary.referenceTail,
                                              samplesPerFrame: samplesPerFrame)
        }
        var timings = summary.timings
        timings.total = (clock.now - start).seconds
        return SynthesisResult(codes: codes, audio: audio, sampleRate: sampleRate, seed: validated.seed, timings: timings,
                               finished: summary.endOfSpeech)
    }

    /// The official wrapper decodes an in-context clone's reference and codes together and cuts
    /// int(R / (R + T) · samples) from the front (WRAP L628). Here the reference only primes the
    /// decoder (`StreamingDecoder.prime`), so `audio` (T frames) starts at the frame boundary;
    /// when that float cut lands a sample or two off the boundary, those samples come from the
    /// reference's last frame (`referenceTail`) or leave the continuation.
    static func officialContinuation(_ audio: [Float], referenceFrames: Int, referenceTail: [Float], samplesPerFrame: Int) -> [Float] {
        guard referenceFrames > 0, !audio.isEmpty else { return audio }
        let boundary = referenceFrames * samplesPerFrame
        let frames = audio.count / samplesPerFrame
        let cut = Int(Double(referenceFrames) / Double(referenceFrames + frames) * Double(boundary + audio.count))
        if cut < boundary { return Array(referenceTail.suffix(boundary - cut)) + audio }
        return Array(audio[min(cut - boundary, audio.count)...])
    }
}
