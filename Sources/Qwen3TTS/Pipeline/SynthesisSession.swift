// Per-request state and the generation loop (spec §5): talker prefill, then per frame the code
// predictor's 15 codes and one talker step, with the official logit processing.
import CTTSKernels
import Foundation
import TTSRuntime

/// Everything mutable for one synthesis: KV caches, scratch buffers, the RNG. Not shared.
final class SynthesisSession {
    let model: Qwen3TTSModel
    let talkerCache: KVCache
    let predictorCache: KVCache
    let talkerScratch: TransformerScratch
    let predictorScratch: TransformerScratch
    var rng: SeededRNG
    private let hidden: ScratchBuffer
    private let normed: ScratchBuffer
    private let logits: ScratchBuffer
    private let cpIn: ScratchBuffer
    private let cpTmp: ScratchBuffer
    private let cpNormed: ScratchBuffer
    var timings = SynthesisTimings()
    /// When the request started (for the time to the first frame).
    let requestStart = ContinuousClock.now

    init(model: Qwen3TTSModel, seed: UInt64, capacity: Int) {
        self.model = model
        talkerCache = model.talker.stack.makeCache(capacity: capacity)
        predictorCache = model.codePredictor.stack.makeCache(capacity: model.codePredictor.groups + 1)
        rng = SeededRNG(seed: seed)
        talkerScratch = TransformerScratch(pool: model.pool)
        predictorScratch = TransformerScratch(pool: model.pool)
        let d = model.talker.hidden, dcp = model.codePredictor.stack.shape.hidden
        hidden = ScratchBuffer(capacity: d)
        normed = ScratchBuffer(capacity: d)
        logits = ScratchBuffer(capacity: max(model.talker.codecVocab, model.codePredictor.codebookSize))
        cpIn = ScratchBuffer(capacity: 2 * dcp)
        cpTmp = ScratchBuffer(capacity: 2 * d)
        cpNormed = ScratchBuffer(capacity: dcp)
    }

    /// Runs the talker over prompt rows [n][hidden]; leaves the post-norm last hidden in `normed`.
    func prefill(_ rows: [Float], observe: ((Int, UnsafePointer<Float>) -> Void)? = nil) {
        let d = model.talker.hidden
        let n = rows.count / d
        var x = rows
        x.withUnsafeMutableBufferPointer { xb in
            model.talker.stack.forward(xb.baseAddress!, count: n, cache: talkerCache, scratch: talkerScratch, observe: observe)
            model.talker.stack.normalize(xb.baseAddress! + (n - 1) * d, normed.pointer, count: 1)
        }
    }

    /// Runs the talker over a prompt, in two passes (shared prefix, then the rest) when the
    /// model has a prompt cache, reusing a cached prefix state; otherwise as `prefill(_:)`.
    /// Returns whether the prefix came from the cache.
    @discardableResult
    func prefill(_ prompt: Prompt) -> Bool {
        let cache = model.promptCache
        let p = prompt.sharedPrefixCount, n = prompt.prefillCount, d = model.talker.hidden
        guard cache.isEnabled, p > 0, p < n else {
            prefill(prompt.prefill)
            return false
        }
        let prefix = prompt.prefill[0..<(p * d)]
        var hit = false
        let key = PromptCache.Rows(prefix)  // hashed once, for the lookup and a store on a miss
        if let state = cache.lookup(key) {
            talkerCache.restore(state)
            hit = true
        } else {
            var x = Array(prefix)
            x.withUnsafeMutableBufferPointer { model.talker.stack.forward($0.baseAddress!, count: p, cache: talkerCache, scratch: talkerScratch) }
            // A cancelled prefill stops between chunks: only a whole prefix is worth keeping.
            if talkerCache.count == p { cache.store(key, talkerCache.snapshot()) }
        }
        var rest = Array(prompt.prefill[(p * d)...])
        rest.withUnsafeMutableBufferPointer { xb in
            model.talker.stack.forward(xb.baseAddress!, count: n - p, cache: talkerCache, scratch: talkerScratch)
            model.talker.stack.normalize(xb.baseAddress! + (n - p - 1) * d, normed.pointer, count: 1)
        }
        return hit
    }

    /// One talker step on an input row; leaves the post-norm hidden in `normed`.
    func step(_ row: UnsafePointer<Float>) {
        let d = model.talker.hidden
        hidden.pointer.update(from: row, count: d)
        model.talker.stack.forward(hidden.pointer, count: 1, cache: talkerCache, scratch: talkerScratch)
        model.talker.stack.normalize(hidden.pointer, normed.pointer, count: 1)
    }

    /// The post-norm hidden state after the last prefill/step (talker width).
    var lastHidden: UnsafePointer<Float> { UnsafePointer(normed.pointer) }

    /// codec_head logits of the last hidden state.
    func talkerLogits() -> UnsafeMutableBufferPointer<Float> {
        model.talker.codecHead(normed.pointer, logits.pointer, pool: model.pool)
        return UnsafeMutableBufferPointer(start: logits.pointer, count: model.talker.codecVocab)
    }

    /// Picks code 0 from the current logits: repetition penalty over `history`, EOS masked until
    /// `minNewTokens` codes exist, the control range suppressed, then greedy or sampling.
    func sampleCode0(history: [Int], options: GenerationOptions.Resolved) -> Int {
        let t = model.configuration.talker
        let l = talkerLogits()
        LogitProcessing.applyRepetitionPenalty(l, history: history, penalty: options.repetitionPenalty)
        if history.count < 2 || !options.stopAtEndOfSpeech { l[t.codecEosTokenId] = -.infinity }
        let vocab = t.stack.vocabSize
        for id in (vocab - 1024)..<vocab where id != t.codecEosTokenId { l[id] = -.infinity }
        return LogitProcessing.select(l, parameters: options.talker, rng: &rng)
    }

    /// Codes 1..groups-1 of a frame from the last talker hidden state and code 0.
    func predictCodes(code0: Int, options: GenerationOptions.Resolved) -> [Int] {
        let cp = model.codePredictor
        let d = model.talker.hidden, dcp = cp.stack.shape.hidden
        predictorCache.reset()
        // Position 0: the talker hidden; position 1: the talker's codec embedding of code 0.
        let raw = cpTmp.pointer
        raw.update(from: lastHidden, count: d)
        model.talker.codecEmbedding.row(code0, into: raw + d)
        project(raw, count: 2)
        cp.stack.forward(cpIn.pointer, count: 2, cache: predictorCache, scratch: predictorScratch)
        var codes = [code0]
        codes.reserveCapacity(cp.groups)
        for j in 0..<(cp.groups - 1) {
            let last = j == 0 ? cpIn.pointer + dcp : cpIn.pointer
            cp.stack.normalize(last, cpNormed.pointer, count: 1)
            cp.heads[j](cpNormed.pointer, logits.pointer, pool: model.pool)
            let l = UnsafeMutableBufferPointer(start: logits.pointer, count: cp.codebookSize)
            let code = LogitProcessing.select(l, parameters: options.predictor, rng: &rng)
            codes.append(code)
            if j == cp.groups - 2 { break }
            cp.embeddings[j].row(code, into: raw)
            project(raw, count: 1)
            cp.stack.forward(cpIn.pointer, count: 1, cache: predictorCache, scratch: predictorScratch)
        }
        return codes
    }

    /// cpIn = small_to_mtp_projection(raw) (or a copy when the widths agree).
    private func project(_ raw: UnsafeMutablePointer<Float>, count n: Int) {
        if let p = model.codePredictor.projection {
            p(raw, cpIn.pointer, n: n, pool: model.pool)
        } else {
            cpIn.pointer.update(from: raw, count: n * model.talker.hidden)
        }
    }

    /// The talker input for the step after a frame: Σ of the frame's 16 code embeddings + text.
    func frameEmbedding(_ codes: [Int], text: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        out.update(from: text, count: model.talker.hidden)
        model.codePredictor.addFrame(codes, talker: model.talker, into: out)
    }

    /// The whole loop: prefill, then frames until EOS or the limit. Returns (codes, finished).
    func generate(prompt: Prompt, options: GenerationOptions.Resolved, onFrame: ([Int]) throws -> Void = { _ in }) rethrows -> ([[Int]], Bool) {
        let clock = ContinuousClock()
        let d = model.talker.hidden
        let eos = model.configuration.talker.codecEosTokenId
        var started = clock.now
        if prefill(prompt) { timings.cachedPrefixRows += prompt.sharedPrefixCount }
        timings.prefill += (clock.now - started).seconds
        var history: [Int] = []
        var code0 = sampleCode0(history: history, options: options)
        var sampled = 1
        var frames: [[Int]] = []
        var row = [Float](repeating: 0, count: d)
        while code0 != eos && sampled < options.maxNewTokens {
            started = clock.now
            let codes = predictCodes(code0: code0, options: options)
            timings.codePredictor += (clock.now - started).seconds
            frames.append(codes)
            if frames.count == 1 { timings.firstFrame = (clock.now - requestStart).seconds }
            history.append(code0)
            try onFrame(codes)
            started = clock.now
            prompt.textRow(frames.count - 1).withUnsafeBufferPointer { tb in
                row.withUnsafeMutableBufferPointer { frameEmbedding(codes, text: tb.baseAddress!, into: $0.baseAddress!) }
            }
            row.withUnsafeBufferPointer { step($0.baseAddress!) }
            code0 = sampleCode0(history: history, options: options)
            sampled += 1
            timings.talkerSteps += (clock.now - started).seconds
        }
        return (frames, code0 == eos)
    }
}
