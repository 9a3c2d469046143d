// Audio for many requests from one thread: a BatchGenerator's frames decoded per request into
// chunks as `stream` makes them (the first chunk small, then chunkFrames; a chunk never spans two
// utterances). A single `stream`/`produce` request is a batch of one through this same driver.
import Foundation
import TTSRuntime

/// Streams audio for several requests at once. `add` requests, then call `step` until `count` is
/// 0; each step generates one frame per request, decodes the chunks that are due and hands them
/// to the requests' `emit`. Used by one thread at a time.
public final class BatchStreamer {
    public typealias ID = BatchGenerator.ID

    /// How a request left the batch.
    public enum Outcome {
        /// All its text was spoken.
        case finished(StreamSummary)
        case cancelled
        case failed(Error)
    }

    public let model: Qwen3TTSModel
    public let streaming: StreamOptions
    private let batch: BatchGenerator

    private final class Stream {
        let decoder: StreamingDecoder
        let progress: StreamProgress
        let emit: (AudioChunk) -> Void
        let start: ContinuousClock.Instant
        let chunkFrames: Int
        var pending: [[Int]] = []
        var segment = 0
        var emittedFrames = 0
        var target: Int
        var summary: StreamSummary

        init(decoder: StreamingDecoder, progress: StreamProgress, emit: @escaping (AudioChunk) -> Void,
             start: ContinuousClock.Instant, streaming: StreamOptions, summary: StreamSummary) {
            self.decoder = decoder
            self.summary = summary
            self.progress = progress
            self.emit = emit
            self.start = start
            chunkFrames = streaming.chunkFrames
            target = streaming.firstChunkFrames
        }
    }

    private var streams: [ID: Stream] = [:]

    public init(model: Qwen3TTSModel, streaming: StreamOptions = .init()) throws {
        try streaming.validate()
        self.model = model
        self.streaming = streaming
        batch = BatchGenerator(model: model)
    }

    /// Requests still generating.
    public var count: Int { streams.count }

    /// Queues a validated request (its prefill runs at the next step); an in-context reference
    /// primes its decoder here. `streaming`: its chunking (nil: the streamer's; its segment
    /// length was applied at validation). `progress` counts its frames and is asked for
    /// cancellation; `emit` receives its chunks in order, their `elapsed` counted from `start`.
    @discardableResult
    public func add(_ validated: ValidatedRequest, text: TextInput? = nil, streaming: StreamOptions? = nil,
                    progress: StreamProgress = StreamProgress(), start: ContinuousClock.Instant = .now,
                    emit: @escaping (AudioChunk) -> Void) throws -> ID {
        let streaming = streaming ?? self.streaming
        try streaming.validate()
        let decoder = model.makeStreamingDecoder()
        let maxBuffered = streaming.maxBufferedChunks
        let isCancelled = { progress.isCancelled }, isPaused = { progress.isBehind(maxBuffered) }
        let id = try text.map { try batch.add(validated, text: $0, isCancelled: isCancelled, isPaused: isPaused) }
            ?? batch.add(validated, isCancelled: isCancelled, isPaused: isPaused)
        var summary = StreamSummary(seed: validated.seed)
        do {
            // In-context cloning continues the reference: its frames prime the decoder, unheard.
            if let reference = validated.request.reference {
                let clock = ContinuousClock(), primed = clock.now
                summary.referenceTail = try decoder.prime(reference.codes)
                summary.timings.decoder += (clock.now - primed).seconds
            }
        } catch {
            batch.remove(id)
            throw error
        }
        streams[id] = Stream(decoder: decoder, progress: progress, emit: emit, start: start, streaming: streaming, summary: summary)
        isIdle = false
        return id
    }

    /// Validates a request (split at its `streaming` segment length, or the streamer's) and adds
    /// it. Throws for an invalid request, nothing queued.
    @discardableResult
    public func add(_ request: SynthesisRequest, options: GenerationOptions = .init(), streaming: StreamOptions? = nil,
                    progress: StreamProgress = StreamProgress(), start: ContinuousClock.Instant = .now,
                    emit: @escaping (AudioChunk) -> Void) throws -> ID {
        let validated = try model.validate(request, options: options,
                                           segmentCharacters: (streaming ?? self.streaming).maxSegmentCharacters)
        return try add(validated, streaming: streaming, progress: progress, start: start, emit: emit)
    }

    /// Whether the last step did nothing: every request waited for its consumer to read, or for
    /// text still to arrive.
    public private(set) var isIdle = false

    /// For a driver with nothing else to do: waits a moment (2 ms) after a step that did
    /// nothing, so a batch of stalled clients or of texts still being written does not spin a
    /// core. Cancellation, a consumer that reads, new text and new requests are all noticed at
    /// the next step.
    public func waitWhileIdle() {
        if isIdle, !streams.isEmpty { Thread.sleep(forTimeInterval: 0.002) }
    }

    /// Stops a request at once (its caller went away); no outcome is reported for it.
    public func remove(_ id: ID) {
        batch.remove(id)
        streams[id] = nil
    }

    /// One frame for every request, the chunks that are due decoded and emitted. Returns the
    /// requests that left the batch at this step.
    public func step() -> [(id: ID, outcome: Outcome)] {
        let result = batch.step()
        isIdle = !result.progressed
        var left: [(ID, Outcome)] = result.cancelled.map { ($0, .cancelled) } + result.failed.map { ($0.id, .failed($0.error)) }
        var failed = Set(result.failed.map(\.id))
        for frame in result.frames {
            guard let stream = streams[frame.id] else { continue }
            stream.progress.framesGenerated.add(1, ordering: .releasing)
            do {
                if frame.segment != stream.segment { try flush(stream) }
                stream.segment = frame.segment
                stream.pending.append(frame.codes)
                if stream.pending.count >= stream.target { try flush(stream) }
            } catch {
                failed.insert(frame.id)
                left.append((frame.id, .failed(error)))
            }
        }
        for (id, endOfSpeech, timings) in result.finished where !failed.contains(id) {
            guard let stream = streams[id] else { continue }
            do {
                try flush(stream)
                let decoder = stream.summary.timings.decoder
                stream.summary.timings = timings
                stream.summary.timings.decoder = decoder
                stream.summary.endOfSpeech = endOfSpeech
                left.append((id, .finished(stream.summary)))
            } catch {
                failed.insert(id)
                left.append((id, .failed(error)))
            }
        }
        for (id, _) in left { remove(id) }
        return left
    }

    private func flush(_ stream: Stream) throws {
        guard !stream.pending.isEmpty else { return }
        let clock = ContinuousClock(), started = clock.now
        let samples = try stream.decoder.decode(stream.pending)
        let now = clock.now
        stream.summary.timings.decoder += (now - started).seconds
        stream.emit(AudioChunk(samples: samples, sampleRate: model.sampleRate, startFrame: stream.emittedFrames,
                               frames: stream.pending.count, segment: stream.segment, codes: stream.pending,
                               elapsed: (now - stream.start).seconds))
        stream.emittedFrames += stream.pending.count
        stream.pending.removeAll(keepingCapacity: true)
        stream.target = stream.chunkFrames
    }
}
