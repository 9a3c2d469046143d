// Continuous batching for a server: requests arrive from any thread and are admitted into one
// running batch at frame boundaries; one thread steps them all together (issue 18).
import Foundation
import Synchronization
import TTSRuntime

/// Runs every submitted request in one batch on a thread of its own. `stream` has the contract
/// of `Qwen3TTSModel.stream` (chunks as they are decoded, errors thrown from the stream,
/// cancellation within a frame, `onExit` once the request's work has stopped), but instead of a
/// thread per request, each request joins the batch at the next frame boundary and leaves when it
/// ends: each step runs the code predictor and the talker once for all of them.
/// At most `maxBatch` requests generate at once; later ones wait in arrival order. The thread
/// runs while there is work and ends when the batch is empty.
public final class BatchEngine: Sendable {
    public let model: Qwen3TTSModel
    public let maxBatch: Int

    struct Submission: Sendable {
        let request: ValidatedRequest
        let text: TextInput?
        let streaming: StreamOptions
        let progress: StreamProgress
        let channel: ChunkChannel
        let onExit: (@Sendable () -> Void)?
        let start: ContinuousClock.Instant
    }

    private struct Inbox {
        var waiting: [Submission] = []
        /// Whether the stepping thread is running (it takes the inbox at every step).
        var running = false
        /// Requests in the batch (owned by the thread; mirrored here for `activeCount`).
        var active = 0
    }

    private let inbox = Mutex(Inbox())

    /// The widest batch `serve --max-batch` accepts.
    public static let largestBatch = 64

    public init(model: Qwen3TTSModel, maxBatch: Int) {
        self.model = model
        self.maxBatch = max(1, maxBatch)
    }

    /// Requests generating now and waiting to join.
    public var activeCount: Int { inbox.withLock { $0.active } }
    public var waitingCount: Int { inbox.withLock { $0.waiting.count } }

    /// Queues a validated request; its audio comes from the returned stream. Dropping or
    /// cancelling the stream stops its work within one frame. `text`: the text of a request
    /// validated for text streaming (`Qwen3TTSModel.makeTextInput`), fed as it arrives.
    public func stream(_ request: ValidatedRequest, text: TextInput? = nil, streaming: StreamOptions = .init(),
                       progress: StreamProgress = StreamProgress(), onExit: (@Sendable () -> Void)? = nil) -> AudioChunkStream {
        let (stream, channel) = ChunkChannel.make(progress: progress)
        let submission = Submission(request: request, text: text, streaming: streaming, progress: progress, channel: channel,
                                    onExit: onExit, start: .now)
        let startThread = inbox.withLock { state -> Bool in
            state.waiting.append(submission)
            if state.running { return false }
            state.running = true
            return true
        }
        if startThread {
            let thread = Thread { [self] in run() }
            thread.name = "tts-batch"
            thread.stackSize = 8 << 20
            thread.start()
        }
        return stream
    }

    /// Validates a request (split at `streaming`'s segment length) and queues it. Errors in the
    /// request are thrown from the stream (after `onExit` has run).
    public func stream(_ request: SynthesisRequest, options: GenerationOptions = .init(), streaming: StreamOptions = .init(),
                       progress: StreamProgress = StreamProgress(), onExit: (@Sendable () -> Void)? = nil) -> AudioChunkStream {
        do {
            let validated = try model.validate(request, options: options, segmentCharacters: streaming.maxSegmentCharacters)
            return stream(validated, streaming: streaming, progress: progress, onExit: onExit)
        } catch {
            let (stream, channel) = ChunkChannel.make(progress: progress)
            channel.finish(error, onExit: onExit)
            return stream
        }
    }

    /// The stepping loop: admit waiting requests up to `maxBatch`, step, report who left.
    private func run() {
        let streamer: BatchStreamer
        do {
            streamer = try BatchStreamer(model: model)
        } catch {
            // StreamOptions() is valid; nothing else can fail here. Fail everything waiting.
            let waiting = inbox.withLock { state -> [Submission] in
                state.running = false
                defer { state.waiting.removeAll() }
                return state.waiting
            }
            for s in waiting { end(s, error) }
            return
        }
        var submissions: [BatchStreamer.ID: Submission] = [:]
        while true {
            let admitted = inbox.withLock { state -> [Submission]? in
                let room = maxBatch - submissions.count
                let taken = Array(state.waiting.prefix(max(room, 0)))
                state.waiting.removeFirst(taken.count)
                if taken.isEmpty && submissions.isEmpty {
                    state.running = false
                    state.active = 0
                    return nil
                }
                state.active = submissions.count + taken.count
                return taken
            }
            guard let admitted else { return }
            for s in admitted {
                if s.progress.isCancelled {
                    end(s, CancellationError())
                    continue
                }
                do {
                    let id = try streamer.add(s.request, text: s.text, streaming: s.streaming, progress: s.progress, start: s.start,
                                              emit: s.channel.yield)
                    submissions[id] = s
                } catch {
                    end(s, error)
                }
            }
            guard streamer.count > 0 else { continue }
            streamer.waitWhileIdle()
            let left = streamer.step()
            inbox.withLock { $0.active = submissions.count - left.count }
            for (id, outcome) in left {
                guard let s = submissions.removeValue(forKey: id) else { continue }
                switch outcome {
                case .finished: end(s, nil)
                case .cancelled: end(s, CancellationError())
                case .failed(let error): end(s, error)
                }
            }
        }
    }

    private func end(_ s: Submission, _ error: Error?) {
        s.text?.end()
        s.channel.finish(error, onExit: s.onExit)
    }
}
