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

    /// Prefills a session's prompt (reusing a cached shared prefix) and samples its first code 0.
    /// A prefill stopped by `talkerScratch.shouldStop` leaves the session unstarted.
    func start(_ session: GenerationSession) {
        let clock = ContinuousClock()
        let started = clock.now
        if prefill(session.prompt, state: session.talker) { session.timings.cachedPrefixRows += session.prompt.sharedPrefixCount }
        session.timings.prefill += (clock.now - started).seconds
        if session.talker.cache.count < session.prompt.prefillCount { return }
        sampleCode0([session])
    }

    /// Runs a prompt through the talker, in two passes (shared prefix, then the rest) when the
    /// model has a prompt cache, reusing a cached prefix state; otherwise in one. Returns whether
    /// the prefix came from the cache.
    @discardableResult
    func prefill(_ prompt: Prompt, state: TalkerState) -> Bool {
        let talker = model.talker, cache = model.promptCache
        let p = prompt.sharedPrefixCount, n = prompt.prefillCount, d = talker.hidden
        var x = prompt.prefill
        guard cache.isEnabled, p > 0, p < n else {
            x.withUnsafeMutableBufferPointer { talker.prefill($0.baseAddress!, count: n, state: state, scratch: talkerScratch) }
            return false
        }
        let key = PromptCache.Rows(prompt.prefill[0..<(p * d)])  // hashed once, for the lookup and a store on a miss
        var hit = false
        if let snapshot = cache.lookup(key) {
            state.cache.restore(snapshot)
            hit = true
        } else {
            x.withUnsafeMutableBufferPointer { talker.stack.forward($0.baseAddress!, count: p, cache: state.cache, scratch: talkerScratch) }
            // A cancelled prefill stops between passes: only a whole prefix is worth keeping.
            guard state.cache.count == p else { return false }
            cache.store(key, state.cache.snapshot())
        }
        x.withUnsafeMutableBufferPointer {
            talker.prefill($0.baseAddress! + p * d, count: n - p, state: state, scratch: talkerScratch)
        }
        return hit
    }

    /// One frame for each active session, as batched passes: the code predictor's 15 codes, the
    /// talker step on the frame's embedding, and the next code 0. Returns the frames in the order
    /// of `sessions`. Every session's codes equal generating it alone.
    func advance(_ sessions: [GenerationSession]) -> [[Int]] {
        precondition(sessions.allSatisfy(\.isActive), "only active sessions advance")
        guard !sessions.isEmpty else { return [] }
        let clock = ContinuousClock()
        var started = clock.now
        let talker = model.talker, cp = model.codePredictor, d = talker.hidden, k = sessions.count
        let frames = cp.predictFrames(hidden: sessions.map(\.talker.lastHidden), code0: sessions.map(\.code0),
                                      caches: sessions.map(\.predictorCache), talker: talker,
                                      scratch: predictorScratch, pool: model.pool) { i, l in sessions[i].selectPredicted(l) }
        let predicted = clock.now
        // Each talker input: the frame's 16 code embeddings summed with the next text row.
        rows.reserve(k * d)
        for (i, session) in sessions.enumerated() {
            session.timings.codePredictor += (predicted - started).seconds / Double(k)
            session.append(frames[i])
            let row = rows.pointer + i * d
            session.prompt.textRow(session.frameCount - 1).withUnsafeBufferPointer { row.update(from: $0.baseAddress!, count: d) }
            cp.addFrame(frames[i], talker: talker, into: row)
        }
        started = clock.now
        talker.step(rows.pointer, states: sessions.map(\.talker), scratch: talkerScratch)
        sampleCode0(sessions)
        let stepped = (clock.now - started).seconds / Double(k)
        for session in sessions { session.timings.talkerSteps += stepped }
        return frames
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
