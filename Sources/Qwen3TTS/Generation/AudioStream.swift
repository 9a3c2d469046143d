// Streaming synthesis: audio chunks as frames are generated.
import Foundation
import Synchronization
import TTSRuntime

/// A piece of streamed audio.
public struct AudioChunk: Sendable {
    /// Mono samples in [-1, 1] at `sampleRate`.
    public var samples: [Float]
    public var sampleRate: Int
    /// Index (over the whole request) of the first frame in this chunk, and the frame count.
    public var startFrame: Int
    public var frames: Int
    /// Which text segment (utterance) the frames belong to.
    public var segment: Int
    /// The frames' codes (one row of `numCodeGroups` per frame).
    public var codes: [[Int]]
    /// Seconds from the start of the request to this chunk being ready.
    public var elapsed: Double
}

/// What a request that streamed to its end reports besides its audio.
public struct StreamSummary: Sendable {
    /// The seed of its first utterance (utterance i ran with seed + i).
    public var seed: UInt64
    /// Whether every utterance ended with the end-of-speech token (false: one stopped at its
    /// frame cap).
    public var endOfSpeech = true
    /// Phase times summed over its utterances, the decoder's included; `total` is left to the
    /// caller, which knows when the request began.
    public var timings = SynthesisTimings()
    /// In-context cloning: the samples of the reference's last frame (for the official cut,
    /// `Qwen3TTSModel.officialContinuation`); empty otherwise.
    var referenceTail: [Float] = []

    init(seed: UInt64) { self.seed = seed }
}

public struct StreamOptions: Sendable, Equatable {
    /// Frames in the first chunk (small: the first audio comes sooner) and in later chunks.
    public var firstChunkFrames = 1
    public var chunkFrames = 12
    /// Text longer than this is synthesized as consecutive utterances split at sentence
    /// boundaries (TextSplitter); the decoder's state carries across, so joins are seamless.
    public var maxSegmentCharacters = 250
    /// Backpressure: while this many chunks wait undelivered in a `stream`'s buffer (its
    /// consumer is behind: a client that does not read), the request's generation pauses; it
    /// resumes as the consumer takes them. About 4 s of audio with the default chunks.
    public var maxBufferedChunks = 4

    public init() {}

    func validate() throws {
        guard firstChunkFrames >= 1, chunkFrames >= 1 else {
            throw SynthesisError.invalidOption(name: "chunk size", reason: "must be at least 1 frame")
        }
        guard maxSegmentCharacters >= 1 else {
            throw SynthesisError.invalidOption(name: "segment length", reason: "must be at least 1 character")
        }
        guard maxBufferedChunks >= 1 else {
            throw SynthesisError.invalidOption(name: "buffered chunks", reason: "must be at least 1 chunk")
        }
    }
}

/// Progress of a stream's producer, visible to tests and to servers that account for work.
public final class StreamProgress: Sendable {
    let framesGenerated = Atomic<Int>(0)
    let cancelled = Atomic<Bool>(false)
    let finished = Atomic<Bool>(false)
    /// Chunks handed to a `stream`'s buffer and not yet taken by its consumer.
    let buffered = Atomic<Int>(0)

    public var frames: Int { framesGenerated.load(ordering: .acquiring) }
    public var bufferedChunks: Int { buffered.load(ordering: .acquiring) }
    /// Whether its consumer holds `limit` or more undelivered chunks (its generation pauses).
    func isBehind(_ limit: Int) -> Bool { bufferedChunks >= limit }
    public var isFinished: Bool { finished.load(ordering: .acquiring) }
    public var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    public init() {}

    /// Asks the producer to stop (it stops within one frame).
    public func cancel() { cancelled.store(true, ordering: .releasing) }
}

extension Qwen3TTSModel {
    /// Synthesizes `request` and yields audio chunks as frames are produced. The generation runs
    /// on its own thread; cancelling the consuming task (or dropping the stream) stops it within
    /// one frame. Errors in the request are thrown from the stream. `onExit` runs on the
    /// producer thread after it has stopped for any reason (servers release the CPU slot there).
    public func stream(_ request: SynthesisRequest, options: GenerationOptions = .init(),
                       streaming: StreamOptions = .init(), progress: StreamProgress = StreamProgress(),
                       onExit: (@Sendable () -> Void)? = nil) -> AudioChunkStream
    {
        producing(progress: progress, onExit: onExit) { [self] channel in
            try produce(request, options: options, streaming: streaming, progress: progress, emit: channel.yield)
        }
    }

    /// A stream fed by `body` on a thread of its own; the stream ends when `body` returns or
    /// throws, after `onExit` has run.
    private func producing(progress: StreamProgress, onExit: (@Sendable () -> Void)?,
                           _ body: @escaping @Sendable (ChunkChannel) throws -> Void) -> AudioChunkStream {
        let (stream, channel) = ChunkChannel.make(progress: progress)
        let thread = Thread {
            do {
                try body(channel)
                channel.finish(nil, onExit: onExit)
            } catch {
                channel.finish(error, onExit: onExit)
            }
        }
        thread.name = "tts-stream"
        thread.stackSize = 8 << 20
        thread.start()
        return stream
    }

    /// Speaks text while it is still being written (an LLM's answer): validates `request` for
    /// text streaming (its `text` is ignored; `validateForTextStream`) and returns the input to
    /// feed the text into (`append` pieces, then `finish`) and the audio, as `stream` yields it.
    /// Generation starts with the first words and waits whenever it reaches text that has not
    /// arrived; the audio is that of one request with the whole text in the streaming layout
    /// and the same seed, however the text is cut into pieces. Errors in the request are thrown
    /// here; errors in the text (its limits, `append` after `finish`) from `append`.
    public func streamText(_ request: SynthesisRequest, options: GenerationOptions = .init(),
                           streaming: StreamOptions = .init(), progress: StreamProgress = StreamProgress(),
                           onExit: (@Sendable () -> Void)? = nil) throws -> (text: TextInput, audio: AudioChunkStream) {
        try streaming.validate()
        let validated = try validateForTextStream(request, options: options, segmentCharacters: streaming.maxSegmentCharacters)
        let text = try makeTextInput(for: validated)
        let audio = producing(progress: progress, onExit: onExit) { [self] channel in
            defer { text.end() }
            try produce(validated, text: text, streaming: streaming, progress: progress, emit: channel.yield)
        }
        return (text, audio)
    }

    /// The producer loop behind `stream`, synchronous (also usable from a caller's own thread):
    /// the request as a batch of one through `BatchStreamer`, the daemon's batched driver.
    /// Validates the request with `streaming`'s segment length; returns its summary.
    @discardableResult
    public func produce(_ request: SynthesisRequest, options: GenerationOptions, streaming: StreamOptions,
                        progress: StreamProgress = StreamProgress(), emit: (AudioChunk) -> Void) throws -> StreamSummary {
        let validated = try validate(request, options: options, segmentCharacters: streaming.maxSegmentCharacters)
        return try produce(validated, streaming: streaming, progress: progress, emit: emit)
    }

    /// `produce` for a validated request; chunks' `elapsed` count from `start`. `text`: the text
    /// of a request validated for text streaming (`validateForTextStream`), given as it arrives.
    @discardableResult
    public func produce(_ validated: ValidatedRequest, text: TextInput? = nil, streaming: StreamOptions,
                        progress: StreamProgress = StreamProgress(), start: ContinuousClock.Instant = .now,
                        emit: (AudioChunk) -> Void) throws -> StreamSummary {
        try withoutActuallyEscaping(emit) { emit in
            let streamer = try BatchStreamer(model: self, streaming: streaming)
            if progress.isCancelled { throw CancellationError() }
            try streamer.add(validated, text: text, progress: progress, start: start, emit: emit)
            while streamer.count > 0 {
                streamer.waitWhileIdle()
                for (_, outcome) in streamer.step() {
                    switch outcome {
                    case .finished(let summary): return summary
                    case .cancelled: throw CancellationError()
                    case .failed(let error): throw error
                    }
                }
            }
            throw CancellationError()  // not reached: a batch of one ends with its outcome
        }
    }
}

/// The audio of one `stream` request, read by one consumer. It counts the chunks buffered and
/// not yet read (in the request's `StreamProgress`): the producer pauses while too many wait
/// (backpressure). Ending the iteration early, cancelling the reading task or dropping the
/// stream cancels the request.
public struct AudioChunkStream: AsyncSequence, Sendable {
    public typealias Element = AudioChunk
    public typealias Failure = any Error

    private let buffer: AsyncThrowingStream<AudioChunk, Error>
    private let progress: StreamProgress

    public struct AsyncIterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<AudioChunk, Error>.AsyncIterator
        let progress: StreamProgress

        public mutating func next() async throws -> AudioChunk? {
            let chunk = try await base.next()
            if chunk != nil { progress.buffered.subtract(1, ordering: .releasing) }
            return chunk
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: buffer.makeAsyncIterator(), progress: progress)
    }

    fileprivate init(buffer: AsyncThrowingStream<AudioChunk, Error>, progress: StreamProgress) {
        self.buffer = buffer
        self.progress = progress
    }
}

/// The producer's end of an `AudioChunkStream`: `yield` counts each chunk as buffered. It must
/// not hold the stream itself: the consumer dropping every copy of the stream is what cancels.
struct ChunkChannel: Sendable {
    let continuation: AsyncThrowingStream<AudioChunk, Error>.Continuation
    private let progress: StreamProgress

    /// A new stream for `progress`'s request and the channel that feeds it.
    static func make(progress: StreamProgress) -> (AudioChunkStream, ChunkChannel) {
        let (buffer, continuation) = AsyncThrowingStream<AudioChunk, Error>.makeStream()
        continuation.onTermination = { _ in progress.cancel() }
        return (AudioChunkStream(buffer: buffer, progress: progress), ChunkChannel(continuation: continuation, progress: progress))
    }

    private init(continuation: AsyncThrowingStream<AudioChunk, Error>.Continuation, progress: StreamProgress) {
        self.continuation = continuation
        self.progress = progress
    }

    func yield(_ chunk: AudioChunk) {
        progress.buffered.add(1, ordering: .releasing)
        continuation.yield(chunk)
    }

    /// The producer has stopped: marks `progress` finished, runs `onExit` (a server releases the
    /// request's slot there), then ends the stream, so a consumer that sees the end sees both.
    func finish(_ error: Error?, onExit: (@Sendable () -> Void)?) {
        progress.finished.store(true, ordering: .releasing)
        onExit?()
        if let error { continuation.finish(throwing: error) } else { continuation.finish() }
    }
}
