// Splitting text that arrives in pieces into the utterances TextSplitter makes of the whole text,
// deciding each cut as soon as no later text can move it (issue 19).
import Foundation

/// Feeds text in pieces and reports, as early as the text allows, the text of each utterance
/// `TextSplitter.split` would make of the whole: for any split of a text into pieces, the
/// utterances are the same. `append` and `finish` return events in order:
/// - `.text(s)`: more text of the current utterance, certain to belong to it (the first of an
///   utterance starts at its first non-whitespace character; whitespace at the end of an utterance
///   may be reported and is to be dropped at `.end`, as `split` trims it);
/// - `.end`: the current utterance is complete; the next `.text` starts another.
///
/// What can still change, and how it is held back:
/// - the last character of the text (combining marks may follow): it ends no sentence and ends
///   no pause yet;
/// - a group of sentences: it is decided when the piece after it is final and does not fit;
/// - the last, unfinished piece: it may still join the current utterance or start the next, so
///   only when it starts the utterance is its text reported, up to its last pause (a later cut
///   of a long sentence falls at that pause or after it), or all of it when it has no pause;
/// - whitespace at the end of the text: `split` trims it, so it counts for nothing yet.
struct IncrementalSplitter {
    enum Event: Equatable {
        case text(String)
        case end
    }

    let limit: Int, byteLimit: Int
    /// Text from the start of the current utterance's first piece (for the first utterance,
    /// from the first non-whitespace scalar), not yet cut into utterances.
    private var pending = String.UnicodeScalarView()
    /// Scalars of `pending` already reported (or skipped as leading whitespace).
    private var reported = 0
    /// Whether the current utterance has reported non-whitespace text.
    private var utteranceHasText = false
    /// Whether any non-whitespace text has arrived (leading whitespace of the whole is trimmed).
    private var started = false

    init(maxCharacters: Int, maxBytes: Int? = nil) {
        (limit, byteLimit) = TextSplitter.limits(maxCharacters: maxCharacters, maxBytes: maxBytes)
    }

    static func isWhitespace(_ s: Unicode.Scalar) -> Bool { CharacterSet.whitespacesAndNewlines.contains(s) }

    /// Adds text; returns what became certain.
    mutating func append(_ text: String) -> [Event] {
        for s in text.unicodeScalars {
            if !started {
                if Self.isWhitespace(s) { continue }
                started = true
            }
            pending.append(s)
        }
        return advance(final: false)
    }

    /// The end of the text: the rest of the current utterance and every utterance after it.
    mutating func finish() -> [Event] { advance(final: true) }

    private mutating func advance(final: Bool) -> [Event] {
        var events: [Event] = []
        while true {
            // Trailing whitespace counts for nothing yet (`split` trims the end of the text), and
            // when there is some, the character before it is final.
            var end = pending.endIndex
            while end > pending.startIndex, Self.isWhitespace(pending[pending.index(before: end)]) { end = pending.index(before: end) }
            let text = String(String.UnicodeScalarView(pending[..<end]))
            let lastIsFinal = final || end < pending.endIndex
            let (ended, rest) = TextSplitter.sentences(text, lastIsFinal: lastIsFinal)
            var pieces = ended.flatMap { TextSplitter.cutLong($0, limit: limit, byteLimit: byteLimit) }
            // The unfinished sentence: every cut piece but its last is final (a sentence over the
            // limits now stays over them, and its window holds only final characters).
            var tail = ""
            if !rest.isEmpty {
                let cut = TextSplitter.cutLong(rest, limit: limit, byteLimit: byteLimit)
                if final { pieces += cut } else {
                    pieces += cut.dropLast()
                    tail = cut.last ?? ""
                }
            }
            let groups = TextSplitter.groups(pieces, limit: limit, byteLimit: byteLimit)
            if final {
                for (i, g) in groups.enumerated() {
                    let text = pieces[g].joined()  // the first group is `pending`'s start
                    report(upTo: text.unicodeScalars.count, from: i == 0 ? reported : 0, in: text, into: &events)
                    endUtterance(into: &events)
                }
                pending = String.UnicodeScalarView()
                reported = 0
                return events
            }
            // The current utterance is decided when a final piece starts the next one.
            if groups.count > 1 {
                let g = groups[0]
                let scalars = pieces[g].reduce(0) { $0 + $1.unicodeScalars.count }
                report(upTo: scalars, from: reported, in: nil, into: &events)
                endUtterance(into: &events)
                pending = String.UnicodeScalarView(pending.dropFirst(scalars))
                reported = 0
                continue
            }
            // Undecided: its final pieces are certain, and the unfinished piece when it starts the
            // utterance: up to its last final pause (a later cut of a long sentence falls there
            // or after it), or, with no final pause, all its final characters (a cut falls at a
            // pause still to come or at the window's end, after them).
            var certain = pieces.reduce(0) { $0 + $1.unicodeScalars.count }
            if pieces.isEmpty, !tail.isEmpty {
                var i = tail.startIndex, offset = 0, lastPause = 0, finalScalars = 0
                while i < tail.endIndex {
                    let next = tail.index(after: i)
                    offset += tail.unicodeScalars.distance(from: i, to: next)
                    let isFinal = next < tail.endIndex || lastIsFinal
                    if isFinal { finalScalars = offset }
                    if isFinal, TextSplitter.pauses.contains(tail[i]) { lastPause = offset }
                    i = next
                }
                certain = lastPause > 0 ? lastPause : finalScalars
            }
            // All the text so far is certain: the whitespace after it goes with it (dropped if the
            // utterance ends there, as `split` trims it), so the last word is known to be whole.
            if certain == text.unicodeScalars.count, lastIsFinal { certain = pending.count }
            report(upTo: certain, from: reported, in: nil, into: &events)
            return events
        }
    }

    /// Reports `pending`'s scalars [from, upTo) (or those of `text`, when given: the final
    /// pieces of an utterance at the end) as `.text`, leading whitespace of an utterance dropped.
    private mutating func report(upTo: Int, from: Int, in text: String?, into events: inout [Event]) {
        guard upTo > from else { return }
        let source = text.map { Array($0.unicodeScalars) } ?? Array(pending)
        var slice = source[from..<upTo]
        if !utteranceHasText {
            while let s = slice.first, Self.isWhitespace(s) { slice = slice.dropFirst() }
            if slice.isEmpty {
                if text == nil { reported = upTo }
                return
            }
            utteranceHasText = true
        }
        events.append(.text(String(String.UnicodeScalarView(slice))))
        if text == nil { reported = upTo }
    }

    /// The current utterance is complete (one that held only whitespace is no utterance).
    private mutating func endUtterance(into events: inout [Event]) {
        if utteranceHasText { events.append(.end) }
        utteranceHasText = false
    }
}
