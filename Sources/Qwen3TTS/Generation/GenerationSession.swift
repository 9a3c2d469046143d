// One utterance's generation state (spec §5): the talker and code predictor states, the RNG, the
// code-0 history and where the loop stands. The forward passes belong to the Talker and the
// CodePredictor; a FrameGenerator runs them for a batch of sessions. A session only holds state.
import Foundation
import TTSRuntime

/// Everything mutable for one utterance's generation. Not shared; driven by one FrameGenerator
/// at a time.
final class GenerationSession {
    /// Its prompt; a text-streaming utterance's trailing text grows as tokens arrive.
    var prompt: Prompt
    /// Its options; a text-streaming utterance's frame cap is set once its text is complete.
    var options: GenerationOptions.Resolved
    let seed: UInt64
    let talker: TalkerState
    let predictorCache: KVCache
    var rng: SeededRNG
    /// Code 0 of every frame so far (the repetition penalty's history).
    private(set) var history: [Int] = []
    /// The last frame's codes, until the talker step that takes them in.
    private(set) var lastFrame: [Int] = []
    /// Whether the last frame's talker step is still to run (FrameGenerator.predict ran, and
    /// stepTalker has not yet: a streamed text's row for it may not have arrived).
    private(set) var awaitsTalkerStep = false
    /// Code 0 sampled after the last talker pass: the next frame's, unless it ends the utterance.
    private(set) var code0 = -1
    /// Code-0 samples drawn (the official loop's count, capped by max_new_tokens).
    private(set) var sampled = 0
    var timings = SynthesisTimings()
    /// How far its prompt has run (a batch prefills a joining session over several steps).
    let prefill = PrefillProgress()
    /// When the request started (for the time to the first frame).
    let requestStart: ContinuousClock.Instant

    init(model: Qwen3TTSModel, prompt: Prompt, options: GenerationOptions.Resolved, seed: UInt64,
         requestStart: ContinuousClock.Instant = .now, expectedFrames: Int? = nil) {
        self.prompt = prompt
        self.options = options
        self.seed = seed
        // The KV cache grows when needed; this is its first allocation.
        talker = TalkerState(talker: model.talker, capacity: prompt.prefillCount + min(expectedFrames ?? options.maxNewTokens, 4096) + 1)
        predictorCache = model.codePredictor.makeCache()
        rng = SeededRNG(seed: seed)
        eos = model.configuration.talker.codecEosTokenId
        self.requestStart = requestStart
    }

    /// Frames generated so far.
    var frameCount: Int { history.count }

    /// Whether the utterance ended with the end-of-speech token (false: the frame limit, or not
    /// yet ended).
    var endedWithEndOfSpeech: Bool { code0 == eos }
    /// The end-of-speech code.
    let eos: Int

    /// Whether the text row of the pending talker step is known (a text-streaming utterance may
    /// wait for it).
    var hasPendingTextRow: Bool { awaitsTalkerStep && prompt.hasTextRow(frameCount - 1) }

    /// Whether every prompt row has run and the first code 0 was sampled.
    var isPrefilled: Bool { sampled > 0 }

    /// True once prefilled and the code 0 for the next frame is neither end-of-speech nor over the cap.
    var isActive: Bool { sampled > 0 && code0 != eos && sampled < options.maxNewTokens }
    /// Prefilled and finished (end of speech or the frame cap).
    var isFinished: Bool { sampled > 0 && !isActive }

    /// Picks code 0 from the talker's logits for this session: repetition penalty over the
    /// history, end-of-speech masked until 2 codes exist (or always, for fixed-length runs), the
    /// control range suppressed, then greedy or sampling with this session's RNG.
    func sampleCode0(_ logits: UnsafeMutableBufferPointer<Float>) {
        LogitProcessing.applyRepetitionPenalty(logits, history: history, penalty: options.repetitionPenalty)
        if history.count < 2 || !options.stopAtEndOfSpeech { logits[eos] = -.infinity }
        let vocab = logits.count
        for id in (vocab - 1024)..<vocab where id != eos { logits[id] = -.infinity }
        code0 = LogitProcessing.select(logits, parameters: options.talker, rng: &rng)
        sampled += 1
        awaitsTalkerStep = false
    }

    /// Picks one of the code predictor's codes 1..15.
    func selectPredicted(_ logits: UnsafeMutableBufferPointer<Float>) -> Int {
        LogitProcessing.select(logits, parameters: options.predictor, rng: &rng)
    }

    /// Records a generated frame.
    func append(_ frame: [Int]) {
        history.append(frame[0])
        lastFrame = frame
        awaitsTalkerStep = true
        if history.count == 1 { timings.firstFrame = (ContinuousClock.now - requestStart).seconds }
    }
}

/// How far a prompt has run through a talker state.
final class PrefillProgress {
    /// Prompt rows run so far.
    var rows = 0
    /// Rows that came from the prompt cache.
    var cachedRows = 0
    /// Whether the prompt cache was asked for the shared prefix yet.
    var prefixLookedUp = false
    /// Set while the shared prefix is being computed, to store it once complete.
    var prefixToStore: PromptCache.Rows?
}
