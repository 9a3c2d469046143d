// Incremental decoding of codes into audio, equal to one-shot decoding for any split: the one
// route from codes to samples (synthesize, stream, the daemon and decode(codes:) all use it).

/// Decodes a code stream piece by piece. Every layer of the speech decoder is causal and this
/// object carries each layer's state between calls, so the concatenated output equals decoding
/// all frames at once (up to float summation order: within 1e-5, tested), whatever the chunking.
/// Owned by one stream; not shared between threads.
public final class StreamingDecoder {
    public let model: Qwen3TTSModel
    private(set) var state: SpeechDecoderState

    init(model: Qwen3TTSModel) {
        self.model = model
        state = model.speechDecoder.makeState()
    }

    /// Frames decoded so far.
    public var framesDecoded: Int { state.frames }

    /// Starts the stream from frames that are not to be heard (an in-context reference): the
    /// following `decode` calls continue them (SpeechDecoder.prime), at a fraction of the cost
    /// of decoding them; a primed state is kept in the model's cache, so a voice used again
    /// starts at once from a copy. Returns the last context frame's samples. Only before the
    /// first `decode`.
    @discardableResult
    public func prime(_ frames: [[Int]]) throws -> [Float] {
        try model.validateCodes(frames)
        guard state.frames == 0 else { throw SynthesisError.invalidOption(name: "priming", reason: "must come before any decoding") }
        let cache = model.primedDecoders
        if let frozen = cache.value(for: frames) {
            state = frozen.state.copy()
            return frozen.lastFrame
        }
        let last = model.speechDecoder.prime(frames, state: state, pool: model.pool)
        cache.insert(FrozenDecoderState(state.copy(), lastFrame: last), for: frames, bytes: state.byteCount + frames.count * 16 * 8)
        return last
    }

    /// Samples for the next frames (1920 per frame at 24 kHz). `observe` receives the named
    /// stage outputs (benchmarks time the stages with it).
    public func decode(_ frames: [[Int]]) throws -> [Float] { try decode(frames, observe: nil) }

    func decode(_ frames: [[Int]], observe: ((String, [Float], Int) -> Void)?) throws -> [Float] {
        try model.validateCodes(frames)
        return model.speechDecoder.decode(frames, state: state, pool: model.pool, observe: observe)
    }
}

extension Qwen3TTSModel {
    /// A fresh incremental decoder for one stream of codes.
    public func makeStreamingDecoder() -> StreamingDecoder { StreamingDecoder(model: self) }

    func validateCodes(_ codes: [[Int]]) throws {
        let groups = codeGroups, size = configuration.talker.codePredictor.vocabSize
        for (i, frame) in codes.enumerated() {
            guard frame.count == groups else { throw SynthesisError.invalidCodes(reason: "frame \(i) has \(frame.count) codes, expected \(groups)") }
            guard frame.allSatisfy({ $0 >= 0 && $0 < size }) else {
                throw SynthesisError.invalidCodes(reason: "frame \(i) has a code outside 0..<\(size)")
            }
        }
    }
}
