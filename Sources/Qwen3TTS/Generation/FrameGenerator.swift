// The generation driver: prefills sessions and advances any number of them by one frame with
// batched passes (spec §5). A single request is a batch of one; the daemon's scheduler steps
// every active request together, so each pass reads the weights once for all of them.
import Foundation
import TTSRuntime

/// Runs the talker and code predictor for sessions, one frame at a time. Owns the scratch space
/// of the passes (reused across frames and sessions); used by one thread at a time.
final class FrameGenerator {
    let model: Qwen3TTSModel
    let talkerScratch: TransformerScratch
    let predictorScratch: PredictorScratch
    private let rows = ScratchBuffer(capacity: 1)
    private let gathered = ScratchBuffer(capacity: 1)
    private let logits = ScratchBuffer(capacity: 1)

    init(model: Qwen3TTSModel) {
        self.model = model
        talkerScratch = TransformerScratch(pool: model.pool)
        predictorScratch = PredictorScratch(pool: model.pool)
    }

    /// Prefills a session's whole prompt and samples its first code 0. A prefill stopped by
    /// `talkerScratch.shouldStop` leaves the session unstarted.
    func start(_ session: GenerationSession) {
        while !session.isPrefilled, prefill(session, budget: .max) > 0 {}
    }

    /// Runs up to `budget` more of a session's prompt rows (`run(_:state:progress:budget:)`);
    /// the call that runs the last row samples the first code 0. Returns the rows run.
    @discardableResult
    func prefill(_ session: GenerationSession, budget: Int) -> Int {
        guard !session.isPrefilled else { return 0 }
        let clock = ContinuousClock()
        let started = clock.now
        let before = session.prefill.cachedRows
        let rows = run(session.prompt, state: session.talker, progress: session.prefill, budget: budget)
        session.timings.cachedPrefixRows += session.prefill.cachedRows - before
        if session.prefill.rows == session.prompt.prefillCount { sampleCode0([session]) }
        session.timings.prefill += (clock.now - started).seconds
        return rows
    }

    /// Runs up to `budget` more prompt rows through a talker state, so that a batch can bound
    /// how long the prefills of joining requests hold up the others' frames; returns the rows run
    /// (cached ones included). The first call reuses a cached state of the prompt's shared prefix
    /// when the model's prompt cache has it; a computed prefix runs as its own pass and is stored
    /// once complete. After the last row the state holds the post-norm last hidden. Running a
    /// prompt in pieces gives the same bytes as one pass (the products are row-invariant and each
    /// row attends to the same keys). A pass stopped by `talkerScratch.shouldStop` keeps no rows
    /// and returns 0 (the caller discards the state).
    @discardableResult
    func run(_ prompt: Prompt, state: TalkerState, progress: PrefillProgress, budget: Int) -> Int {
        let talker = model.talker, cache = model.promptCache
        let p = prompt.sharedPrefixCount, n = prompt.prefillCount, d = talker.hidden
        guard progress.rows < n, budget > 0 else { return 0 }
        var cached = 0
        if !progress.prefixLookedUp {
            progress.prefixLookedUp = true
            if cache.isEnabled, p > 0, p < n {
                let key = PromptCache.Rows(prompt.prefill[0..<(p * d)])  // hashed once, for the lookup and a store on a miss
                if let snapshot = cache.lookup(key) {
                    state.cache.restore(snapshot)
                    (progress.rows, progress.cachedRows, cached) = (p, p, p)
                } else {
                    progress.prefixToStore = key
                }
            }
        }
        let first = progress.rows
        let end = min(n, first + min(budget, n), progress.prefixToStore == nil ? n : p)
        guard end > first else { return cached }
        var rows = Array(prompt.prefill[(first * d)..<(end * d)])
        let completed = rows.withUnsafeMutableBufferPointer { x -> Bool in
            talker.stack.forward(x.baseAddress!, count: end - first, cache: state.cache, scratch: talkerScratch)
            guard state.cache.count == end else { return false }  // stopped between passes
            if end == n { talker.stack.normalize(x.baseAddress! + (end - first - 1) * d, state.normed.pointer, count: 1) }
            return true
        }
        guard completed else { return 0 }
        progress.rows = end
        if end == p, let key = progress.prefixToStore {
            cache.store(key, state.cache.snapshot())
            progress.prefixToStore = nil
        }
        return cached + end - first
    }

    /// Runs a whole prompt through a talker state (benchmarks and tests of the prompt cache).
    /// Returns whether the shared prefix came from the cache.
    @discardableResult
    func prefill(_ prompt: Prompt, state: TalkerState) -> Bool {
        let progress = PrefillProgress()
        while progress.rows < prompt.prefillCount, run(prompt, state: state, progress: progress, budget: .max) > 0 {}
        return progress.cachedRows > 0
    }

    /// One frame for each active session, as batched passes: the code predictor's 15 codes, the
    /// talker step on the frame's embedding, and the next code 0. Returns the frames in the order
    /// of `sessions`. Every session's codes equal generating it alone.
    func advance(_ sessions: [GenerationSession]) -> [[Int]] {
        let frames = predict(sessions)
        stepTalker(sessions)
        return frames
    }

    /// The first half of a frame for each active session not awaiting its talker step: the code
    /// predictor's codes 1-15 beside its code 0, appended to the session (which then awaits its
    /// talker step). A frame's codes need no text: the text row enters the talker step after it.
    func predict(_ sessions: [GenerationSession]) -> [[Int]] {
        precondition(sessions.allSatisfy { $0.isActive && !$0.awaitsTalkerStep }, "only active sessions predict")
        guard !sessions.isEmpty else { return [] }
        let clock = ContinuousClock()
        let started = clock.now
        let talker = model.talker, k = sessions.count
        let frames = model.codePredictor.predictFrames(hidden: sessions.map(\.talker.lastHidden), code0: sessions.map(\.code0),
                                                       caches: sessions.map(\.predictorCache), talker: talker,
                                                       scratch: predictorScratch, pool: model.pool) { i, l in sessions[i].selectPredicted(l) }
        let seconds = (clock.now - started).seconds / Double(k)
        for (i, session) in sessions.enumerated() {
            session.timings.codePredictor += seconds
            session.append(frames[i])
        }
        return frames
    }

    /// The second half: the talker step for sessions awaiting it, on each one's last frame (its
    /// 16 code embeddings) plus the text row of that step, and the next code 0.
    func stepTalker(_ sessions: [GenerationSession]) {
        precondition(sessions.allSatisfy { $0.awaitsTalkerStep && $0.prompt.hasTextRow($0.frameCount - 1) }, "only predicted frames with their text step")
        guard !sessions.isEmpty else { return }
        let clock = ContinuousClock()
        let started = clock.now
        let talker = model.talker, cp = model.codePredictor, d = talker.hidden, k = sessions.count
        // Each talker input: the frame's 16 code embeddings summed with the next text row.
        rows.reserve(k * d)
        for (i, session) in sessions.enumerated() {
            let row = rows.pointer + i * d
            session.prompt.textRow(session.frameCount - 1).withUnsafeBufferPointer { row.update(from: $0.baseAddress!, count: d) }
            cp.addFrame(session.lastFrame, talker: talker, into: row)
        }
        talker.step(rows.pointer, states: sessions.map(\.talker), scratch: talkerScratch)
        sampleCode0(sessions)
        let stepped = (clock.now - started).seconds / Double(k)
        for session in sessions { session.timings.talkerSteps += stepped }
    }

    /// The codec head over every session's last hidden state, and each one's code 0.
    private func sampleCode0(_ sessions: [GenerationSession]) {
        let talker = model.talker, vocab = talker.codecVocab
        gathered.reserve(sessions.count * talker.hidden)
        logits.reserve(sessions.count * vocab)
        talker.logits(sessions.map(\.talker), gathered: gathered.pointer, into: logits.pointer, pool: model.pool)
        for (i, session) in sessions.enumerated() {
            session.sampleCode0(UnsafeMutableBufferPointer(start: logits.pointer + i * vocab, count: vocab))
        }
    }

    /// The whole loop for one session: prefill, then frames until end of speech or the cap.
    /// `onFrame` sees each frame as it is made (throwing stops the loop).
    func generate(_ session: GenerationSession, onFrame: ([Int]) throws -> Void = { _ in }) rethrows -> [[Int]] {
        start(session)
        var frames: [[Int]] = []
        while session.isActive {
            let frame = advance([session])[0]
            frames.append(frame)
            try onFrame(frame)
        }
        return frames
    }
}
