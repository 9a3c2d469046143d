// One utterance of a WebSocket text-streaming session: the text the client has sent for it and
// the synthesis job speaking it.
import Foundation
import Qwen3TTS
import Synchronization

/// The text arrives before the job exists (the request waits for a slot, a reference may be
/// cloned): it is kept here and handed to the engine's `TextInput` once there is one. The
/// server's limits on a request's text (characters, bytes, tokens, pieces) are checked as it
/// grows.
final class StreamUtterance: Sendable {
    let index: Int
    private let limits: StreamMessageLimits

    private struct State {
        var input: TextInput?
        var pending: [String] = []
        var finished = false
        var job: SynthesisJob?
        var speaker: Task<Void, Never>?
        var stopped: StopReason?
        var text = ""
        var characters = 0
        var bytes = 0
        var pieces = 0
    }

    private let state = Mutex(State())

    init(index: Int, limits: StreamMessageLimits) {
        self.index = index
        self.limits = limits
    }

    /// Adds a piece of text; throws an APIError when it passes a limit. Text after the request
    /// has stopped (it ended early, by its frame cap or the model's end of speech) is dropped.
    func append(_ piece: String) throws {
        try state.withLock { s in
            s.pieces += 1
            if s.pieces > limits.pieces {
                throw APIError.invalid("more than \(limits.pieces) input.text messages in one utterance", param: "text", code: "too_many_pieces")
            }
            s.bytes += piece.utf8.count
            if s.bytes > limits.bytes {
                throw APIError.invalid("the utterance's text passed \(limits.bytes) bytes", param: "text", code: "string_above_max_length")
            }
            s.characters += piece.count
            if s.characters > limits.characters {
                throw APIError.invalid("the utterance's text passed \(limits.characters) characters", param: "text", code: "string_above_max_length")
            }
            s.text += piece
            if let input = s.input {
                try feed(input, [piece])
            } else {
                s.pending.append(piece)
            }
        }
    }

    /// The utterance's text is complete.
    func finish() {
        state.withLock { s in
            s.finished = true
            s.input?.finish()
        }
    }

    /// Connects the engine's input, handing it the text sent so far (under the lock, so that
    /// pieces reach it in order).
    func attach(_ input: TextInput) throws {
        try state.withLock { s in
            s.input = input
            let pending = s.pending
            s.pending = []
            try feed(input, pending)
            if s.finished { input.finish() }
        }
    }

    private func feed(_ input: TextInput, _ pieces: [String]) throws {
        do {
            for piece in pieces { try input.append(piece) }
        } catch is CancellationError {
            return
        } catch let e as SynthesisError {
            throw APIError(e)
        }
        if input.tokenCount > limits.tokens {
            throw APIError.invalid("the utterance's text passed \(limits.tokens) tokens", param: "text", code: "string_above_max_length")
        }
    }

    /// The job speaking this utterance; stopped at once if the utterance was stopped before.
    func started(_ job: SynthesisJob) {
        let stopped = state.withLock { s in
            s.job = job
            return s.stopped
        }
        if let stopped { job.stop(stopped) }
    }

    /// The task speaking the utterance (cancelled by `stop`, which ends its wait for a slot or a
    /// write a client does not read).
    func spoken(by speaker: Task<Void, Never>) {
        let stopped = state.withLock { s in
            s.speaker = speaker
            return s.stopped != nil
        }
        if stopped { speaker.cancel() }
    }

    /// Stops the utterance's job (now, or as soon as it has one) and its speaker.
    func stop(_ reason: StopReason) {
        let (job, speaker) = state.withLock { s in
            if s.stopped == nil { s.stopped = reason }
            return (s.job, s.speaker)
        }
        job?.stop(reason)
        speaker?.cancel()
    }

    /// Whether the session stopped the utterance (and so reports why itself).
    var stoppedBySession: Bool { state.withLock { $0.stopped != nil } }

    var text: String { state.withLock { $0.text } }
}
