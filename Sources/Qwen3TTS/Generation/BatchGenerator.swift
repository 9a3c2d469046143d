// Many requests generated together, one frame each per step (issue 18): every step runs the
// code predictor and the talker once over all active requests, so the weights are read once per
// frame for all of them. A request's codes do not depend on what else is in the batch.
import Foundation
import TTSRuntime

/// Generates the codes of several requests at once. Requests join (`add`) and leave (finished,
/// or `remove`) between steps. Long text is spoken as consecutive utterances (as `stream`), each
/// with its own prompt and seed; an utterance that ends starts the request's next one at the
/// following step. Used by one thread at a time.
public final class BatchGenerator {
    public let model: Qwen3TTSModel
    let generator: FrameGenerator

    /// A request's identifier within this generator.
    public typealias ID = Int

    /// What one step produced.
    public struct Step: Sendable {
        /// One frame for each request that was generating: (request, utterance index, codes).
        public var frames: [(id: ID, segment: Int, codes: [Int])] = []
        /// Requests that ended at this step (their last frame, if any, is in `frames`):
        /// `endOfSpeech` is false when an utterance stopped at its frame cap; `timings` are
        /// summed over its utterances (no decoder time, no total).
        public var finished: [(id: ID, endOfSpeech: Bool, timings: SynthesisTimings)] = []
        /// Requests whose `isCancelled` said so at this step (they have left the batch).
        public var cancelled: [ID] = []
        /// Requests that failed at this step (streamed text outside the model's vocabulary);
        /// they have left the batch.
        public var failed: [(id: ID, error: Error)] = []
        /// Whether anything happened: a frame, prefill rows, a request leaving. false when every
        /// request waited (for its consumer, or for text still to arrive).
        public var progressed = false
    }

    private final class Entry {
        var parts: [(prompt: Prompt, options: GenerationOptions.Resolved, seed: UInt64)]
        /// A text-streaming request: its text, and the request it was validated as (its
        /// utterances' prompts are built as their first tokens arrive).
        let text: TextInput?
        let validated: ValidatedRequest?
        /// Tokens of the current utterance in its session's prompt (text streaming).
        var projected = 0
        let start: ContinuousClock.Instant
        let isCancelled: (() -> Bool)?
        let isPaused: (() -> Bool)?
        var index = 0
        var session: GenerationSession?
        var endedWithEndOfSpeech = true
        /// Its utterances' timings, summed as each ends.
        var timings = SynthesisTimings()

        init(parts: [(prompt: Prompt, options: GenerationOptions.Resolved, seed: UInt64)], text: TextInput? = nil,
             validated: ValidatedRequest? = nil, start: ContinuousClock.Instant, isCancelled: (() -> Bool)?, isPaused: (() -> Bool)?) {
            self.parts = parts
            self.text = text
            self.validated = validated
            self.start = start
            self.isCancelled = isCancelled
            self.isPaused = isPaused
        }

        /// Its current utterance has ended: its outcome and timings are kept, the next one is due.
        func end(_ session: GenerationSession) {
            endedWithEndOfSpeech = endedWithEndOfSpeech && session.endedWithEndOfSpeech
            if timings.firstFrame == 0 { timings.firstFrame = session.timings.firstFrame }
            timings.add(session.timings)
            self.session = nil
            index += 1
            projected = 0
        }

        /// Whether all its utterances are spoken (for streamed text: the text is finished and had
        /// no more).
        var isDone: Bool {
            if let text { return index >= parts.count && text.hasNoUtterance(index) }
            return index == parts.count
        }
    }

    private var entries: [ID: Entry] = [:]
    /// Request ids in the order they were added (the order of a step's frames).
    private var order: [ID] = []
    private var nextID = 0

    public init(model: Qwen3TTSModel) {
        self.model = model
        generator = FrameGenerator(model: model)
    }

    /// Requests not yet finished or removed.
    public var count: Int { order.count }

    /// Builds the prompts of a validated request's utterances and queues it; its prefill runs at
    /// the next step. Returns its id. Throws only for a request validated by another model or
    /// text outside the model's vocabulary, nothing queued. `isCancelled` is asked at every step
    /// and between the passes of its prefill: true makes the request leave (`cancelled`).
    /// `isPaused` is asked at every step: true skips the request at that step (its consumer is
    /// behind); pausing does not change what it generates.
    public func add(_ validated: ValidatedRequest, isCancelled: (() -> Bool)? = nil, isPaused: (() -> Bool)? = nil) throws -> ID {
        let clock = ContinuousClock()
        let start = clock.now
        try model.checkOwnership(validated)
        guard validated.streamingSegmentCharacters == nil else {
            throw SynthesisError.invalidOption(name: "request", reason: "was validated for streaming text: give its TextInput")
        }
        let builder = model.promptBuilder
        let parts = try validated.texts.indices.map { i in
            let prompt = try builder.build(validated, utterance: i)
            let options = validated.utterance(i).options
            return (prompt, options.resolve(model.generationDefaults, textTokens: prompt.textTokenCount), options.seed ?? validated.seed)
        }
        let entry = Entry(parts: parts, start: start, isCancelled: isCancelled, isPaused: isPaused)
        entry.timings.prompt = (clock.now - start).seconds
        return insert(entry)
    }

    /// Queues a request whose text streams in through `text` (`Qwen3TTSModel.makeTextInput`):
    /// each utterance starts once its first token is known, and each frame waits for the text
    /// token it needs (or the end of the text); waiting does not change what it generates.
    public func add(_ validated: ValidatedRequest, text: TextInput, isCancelled: (() -> Bool)? = nil,
                    isPaused: (() -> Bool)? = nil) throws -> ID {
        try model.checkOwnership(validated)
        guard validated.streamingSegmentCharacters != nil else {
            throw SynthesisError.invalidOption(name: "request", reason: "was not validated for streaming text (validateForTextStream)")
        }
        return insert(Entry(parts: [], text: text, validated: validated, start: .now, isCancelled: isCancelled, isPaused: isPaused))
    }

    private func insert(_ entry: Entry) -> ID {
        let id = nextID
        nextID += 1
        entries[id] = entry
        order.append(id)
        return id
    }

    /// Validates a request (`Qwen3TTSModel.validate`, split at `segmentCharacters`) and adds it.
    /// Returns its id and the seed of its first utterance.
    public func add(_ request: SynthesisRequest, options: GenerationOptions = .init(),
                    segmentCharacters: Int = StreamOptions().maxSegmentCharacters,
                    isCancelled: (() -> Bool)? = nil, isPaused: (() -> Bool)? = nil) throws -> (id: ID, seed: UInt64) {
        let validated = try model.validate(request, options: options, segmentCharacters: segmentCharacters)
        return (try add(validated, isCancelled: isCancelled, isPaused: isPaused), validated.seed)
    }

    /// Stops generating a request (cancelled); its state is freed.
    public func remove(_ id: ID) {
        entries[id] = nil
        order.removeAll { $0 == id }
    }

    /// Most prompt rows one step runs for joining requests (all of them together), so that a
    /// joining request holds up the others' next frame by a bounded time (about 0.2-0.3 s for the
    /// 0.6B model on the development machine); a longer prompt is run over several steps.
    public var prefillRowsPerStep = 64

    /// One frame for every request that is generating. Requests whose utterance has not started
    /// are prefilled first, within `prefillRowsPerStep` (one whose prefill completes gets its
    /// first frame from this step too); a request whose last utterance ends is reported in
    /// `finished` and leaves the batch.
    public func step() -> Step {
        var result = Step()
        var active: [(ID, Entry, GenerationSession)] = []
        var budget = prefillRowsPerStep
        for id in order {
            guard let entry = entries[id] else { continue }
            if entry.isCancelled?() == true {
                result.cancelled.append(id)
                continue
            }
            if entry.isPaused?() == true { continue }
            do {
                while let session = try session(of: entry) {
                    if !session.isPrefilled {
                        guard budget > 0 else { break }  // its prefill goes on at the next step
                        generator.talkerScratch.shouldStop = entry.isCancelled
                        let rows = generator.prefill(session, budget: budget)
                        generator.talkerScratch.shouldStop = nil
                        budget -= rows
                        result.progressed = true
                        if rows == 0 || entry.isCancelled?() == true {
                            // Stopped between passes: the request leaves.
                            result.cancelled.append(id)
                            break
                        }
                        if !session.isPrefilled { break }
                    }
                    if entry.text != nil { try takeText(entry, session) }
                    if session.isActive {
                        active.append((id, entry, session))
                        break
                    }
                    // An utterance that ended without frames: on to the next.
                    entry.end(session)
                }
            } catch {
                result.failed.append((id, error))
                continue
            }
            if entry.session == nil, entry.isDone {
                // Streamed text that held nothing to say, as whole text that is empty, fails.
                if entry.text != nil, entry.parts.isEmpty { result.failed.append((id, SynthesisError.emptyText)) } else {
                    result.finished.append((id, entry.endedWithEndOfSpeech, entry.timings))
                }
            }
        }
        for id in result.cancelled { remove(id) }
        for f in result.failed { remove(f.id) }
        // A frame's codes first (those whose last frame's talker step is done), then the talker
        // step of every frame whose text row is known: a streamed text's frame comes out before
        // the text token its talker step needs, which then waits for it.
        let predicting = active.filter { !$0.2.awaitsTalkerStep }
        let frames = generator.predict(predicting.map(\.2))
        for ((id, entry, _), codes) in zip(predicting, frames) { result.frames.append((id, entry.index, codes)) }
        let stepping = active.filter(\.2.hasPendingTextRow)
        generator.stepTalker(stepping.map(\.2))
        for (id, entry, session) in stepping where session.isFinished {
            entry.end(session)
            if entry.isDone { result.finished.append((id, entry.endedWithEndOfSpeech, entry.timings)) }
        }
        for f in result.finished { remove(f.id) }
        result.progressed = result.progressed || !predicting.isEmpty || !stepping.isEmpty || !result.finished.isEmpty || !result.cancelled.isEmpty || !result.failed.isEmpty
        return result
    }

    /// The post-norm talker hidden state of a request's last position (tests compare its bytes:
    /// codes alone can hide a difference in the last bits).
    func lastHidden(of id: ID) -> [Float]? {
        guard let session = entries[id]?.session else { return nil }
        return Array(UnsafeBufferPointer(start: session.talker.lastHidden, count: model.talker.hidden))
    }

    /// The entry's current utterance session (made when new; prefilled by `step`); nil when none
    /// is left, or when a streamed text's next utterance has no token yet.
    private func session(of entry: Entry) throws -> GenerationSession? {
        if let session = entry.session { return session }
        if entry.index == entry.parts.count, let text = entry.text, let validated = entry.validated {
            guard let first = text.tokens(of: entry.index, from: 0), let token = first.tokens.first else { return nil }
            try checkVocabulary([token])
            let prompt = try model.promptBuilder.buildStreamingText(validated, firstToken: token)
            let options = validated.utteranceOptions(entry.index)
            // The frame cap waits for the whole text (`takeText`); until then, the model's.
            let defaults = model.generationDefaults
            entry.parts.append((prompt, options.resolve(defaults, textTokens: defaults.maxNewTokens), options.seed ?? validated.seed))
            entry.projected = 1
        }
        guard entry.index < entry.parts.count else { return nil }
        let part = entry.parts[entry.index]
        let session = GenerationSession(model: model, prompt: part.prompt, options: part.options, seed: part.seed,
                                        requestStart: entry.start, expectedFrames: entry.text == nil ? nil : 256)
        entry.session = session
        return session
    }

    /// Adds the text that has arrived for a streamed utterance to its session: the rows of its
    /// new tokens, and once its text is whole, the end-of-text row and the frame cap that one
    /// request with the whole text has (60 + 10 per token, or the request's).
    private func takeText(_ entry: Entry, _ session: GenerationSession) throws {
        guard !session.prompt.textEnded, let text = entry.text, let validated = entry.validated,
              let new = text.tokens(of: entry.index, from: entry.projected) else { return }
        if !new.tokens.isEmpty {
            try checkVocabulary(new.tokens)
            let d = model.talker.hidden
            var rows = [Float](repeating: 0, count: new.tokens.count * d)
            rows.withUnsafeMutableBufferPointer { model.talker.projectText(new.tokens, into: $0.baseAddress!) }
            session.prompt.trailing += rows
            entry.projected += new.tokens.count
        }
        if new.complete {
            session.prompt.trailing += session.prompt.eos
            session.prompt.textEnded = true
            session.prompt.textTokenCount = entry.projected
            session.options = validated.utteranceOptions(entry.index).resolve(model.generationDefaults, textTokens: entry.projected)
        }
    }

    private func checkVocabulary(_ tokens: [Int]) throws {
        let size = model.configuration.talker.textVocabSize
        if let bad = tokens.first(where: { $0 >= size }) {
            throw SynthesisError.invalidOption(name: "text", reason: "contains token \(bad), outside the model's text vocabulary (\(size))")
        }
    }
}
