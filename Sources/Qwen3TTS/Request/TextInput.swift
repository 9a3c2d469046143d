// Text that arrives while it is being spoken (issue 19): the producer's side of a text stream.
import Foundation
import Synchronization
import TTSTokenizers

/// The text of one text-streaming request, given in pieces as it is written (an LLM's answer
/// token by token): `append` each piece, then `finish`. Any thread may call them; generation
/// waits for the text each frame needs. The pieces are cut into the utterances
/// `TextSplitter.split` makes of the whole text (`IncrementalSplitter`) and tokenized as they
/// become certain (`IncrementalTokenizer`), so how the text is cut into pieces changes nothing:
/// the audio is that of one request with the whole text, in the streaming text layout.
public final class TextInput: Sendable {
    struct State {
        var splitter: IncrementalSplitter
        var tokenizer: IncrementalTokenizer
        /// Whitespace at the end of the text given to the tokenizer so far: passed on when more
        /// text of the utterance follows, dropped at its end (`split` trims utterances).
        var held = ""
        /// Token ids of each utterance so far; utterances before `complete` are whole.
        var utterances: [[Int]] = [[]]
        var complete = 0
        var finished = false
        /// The request has stopped (ended, cancelled or failed): more text is refused.
        var ended = false
        var characters = 0
        var bytes = 0
        var error: SynthesisError?
    }

    private let state: Mutex<State>

    init(tokenizer: BPETokenizer, segmentCharacters: Int) {
        state = Mutex(State(splitter: IncrementalSplitter(maxCharacters: segmentCharacters,
                                                          maxBytes: segmentCharacters * TextLimits.segmentBytesPerCharacter),
                            tokenizer: IncrementalTokenizer(tokenizer)))
    }

    /// Adds a piece of text. Throws after `finish`, once the request has stopped (its audio
    /// stream was dropped or cancelled, or it failed: `CancellationError`), or when the text would
    /// pass a request's limits (`TextLimits`: 100,000 characters, 400,000 bytes); the text given
    /// before stays.
    public func append(_ text: String) throws {
        try state.withLock { s in
            guard !s.finished else { throw SynthesisError.invalidOption(name: "text", reason: "was already finished") }
            if s.ended { throw CancellationError() }
            // Characters are counted piece by piece: a piece that starts with a combining mark
            // counts one more than the joined text, so the bound errs on the safe side.
            try TextLimits.check("text", s.bytes + text.utf8.count, "bytes", limit: TextLimits.maximumTextBytes)
            try TextLimits.check("text", s.characters + text.count, "characters", limit: TextLimits.maximumTextCharacters)
            s.bytes += text.utf8.count
            s.characters += text.count
            Self.take(s.splitter.append(text), into: &s)
        }
    }

    /// The end of the text. Generation then speaks what is left and ends. Calling it again does
    /// nothing.
    public func finish() {
        state.withLock { s in
            guard !s.finished else { return }
            Self.take(s.splitter.finish(), into: &s)
            s.finished = true
            // No text came after the last utterance's end: there is no utterance there.
            if s.utterances.count > s.complete, s.utterances[s.complete].isEmpty { s.utterances.removeLast() }
        }
    }

    private static func take(_ events: [IncrementalSplitter.Event], into s: inout State) {
        for event in events {
            switch event {
            case .text(let text):
                let joined = s.held + text
                let body = joined.unicodeScalars.reversed().drop(while: IncrementalSplitter.isWhitespace).count
                s.held = String(String.UnicodeScalarView(joined.unicodeScalars.dropFirst(body)))
                if body > 0 {
                    // The held whitespace follows the body (or the utterance ends before it): the
                    // tokenizer may end the last word on it.
                    s.utterances[s.complete] += s.tokenizer.append(String(String.UnicodeScalarView(joined.unicodeScalars.prefix(body))),
                                                                   whitespaceAfter: s.held)
                }
            case .end:
                s.utterances[s.complete] += s.tokenizer.finish()
                s.held = ""
                s.complete += 1
                s.utterances.append([])
            }
        }
    }

    /// What generation may use of utterance `index`: its tokens from `offset` on, and whether
    /// they are all of it. nil: the utterance has no tokens yet, or never will
    /// (`hasNoUtterance`).
    func tokens(of index: Int, from offset: Int) -> (tokens: [Int], complete: Bool)? {
        state.withLock { s in
            guard index < s.utterances.count, index < s.complete || !s.utterances[index].isEmpty else { return nil }
            let all = s.utterances[index]
            return (Array(all[min(offset, all.count)...]), index < s.complete)
        }
    }

    /// Whether utterance `index` will never come (the text is finished with fewer utterances).
    func hasNoUtterance(_ index: Int) -> Bool {
        state.withLock { $0.finished && index >= $0.utterances.count }
    }

    /// Whether the text is finished.
    public var isFinished: Bool { state.withLock { $0.finished } }

    /// Tokens of the text so far (a server bounds a request's tokens as it grows).
    public var tokenCount: Int { state.withLock { $0.utterances.reduce(0) { $0 + $1.count } } }

    /// Whether the request it feeds has stopped, so that more text would be spoken by no one.
    public var hasEnded: Bool { state.withLock { $0.ended } }

    /// The request has stopped (its producer calls this as it exits).
    func end() { state.withLock { $0.ended = true } }
}
