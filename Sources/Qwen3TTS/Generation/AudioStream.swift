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
    /// Seconds from the start of the request to this chunk being ready.
    public var elapsed: Double
}

public struct StreamOptions: Sendable, Equatable {
    /// Frames in the first chunk (small: the first audio comes sooner) and in later chunks.
    public var firstChunkFrames = 1
    public var chunkFrames = 12
    /// Text longer than this is synthesized as consecutive utterances split at sentence
    /// boundaries (TextSplitter); the decoder's state carries across, so joins are seamless.
    public var maxSegmentCharacters = 250

    public init() {}

    func validate() throws {
        guard firstChunkFrames >= 1, chunkFrames >= 1 else {
            throw SynthesisError.invalidOption(name: "chunk size", reason: "must be at least 1 frame")
        }
        guard maxSegmentCharacters >= 1 else {
            throw SynthesisError.invalidOption(name: "segment length", reason: "must be at least 1 character")
        }
    }
}

/// Progress of a stream's producer, visible to tests and to servers that account for work.
public final class StreamProgress: Sendable {
    let framesGenerated = Atomic<Int>(0)
    let cancelled = Atomic<Bool>(false)
    let finished = Atomic<Bool>(false)

    public var frames: Int { framesGenerated.load(ordering: .acquiring) }
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
                       onExit: (@Sendable () -> Void)? = nil)
        -> AsyncThrowingStream<AudioChunk, Error>
    {
        let (stream, continuation) = AsyncThrowingStream<AudioChunk, Error>.makeStream()
        continuation.onTermination = { _ in progress.cancelled.store(true, ordering: .releasing) }
        let thread = Thread { [self] in
            defer {
                progress.finished.store(true, ordering: .releasing)
                onExit?()
            }
            do {
                try self.produce(request, options: options, streaming: streaming, progress: progress) { continuation.yield($0) }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        thread.name = "tts-stream"
        thread.stackSize = 8 << 20
        thread.start()
        return stream
    }

    /// The producer loop behind `stream`, synchronous (also usable from a caller's own thread):
    /// the request as a batch of one through `BatchStreamer`, the daemon's batched driver.
    public func produce(_ request: SynthesisRequest, options: GenerationOptions, streaming: StreamOptions,
                        progress: StreamProgress = StreamProgress(), emit: (AudioChunk) -> Void) throws {
        try withoutActuallyEscaping(emit) { emit in
            let streamer = try BatchStreamer(model: self, streaming: streaming)
            if progress.isCancelled { throw CancellationError() }
            try streamer.add(request, options: options, progress: progress, emit: emit)
            while streamer.count > 0 {
                for (_, outcome) in streamer.step() {
                    switch outcome {
                    case .finished: break
                    case .cancelled: throw CancellationError()
                    case .failed(let error): throw error
                    }
                }
            }
        }
    }
}
