// Tokenizing text that arrives in pieces (an LLM's answer as it is written). A token is emitted
// only once no later text can change it, so the tokens emitted for any split of a text are
// exactly `encode(text)`'s.
//
// Where later text can still change the tokens, and how each case is held back:
// - Added tokens ("<|im_end|>", ...) are matched verbatim, leftmost then longest: text from where
//   one could still begin (a proper prefix of some added token runs to the end) is held.
// - NFC: appending combining marks (or jamo, or a ZWJ sequence) changes the last grapheme
//   cluster, never an earlier one; cuts are made only at grapheme boundaries before the last
//   cluster, and only where NFC of the two sides joins to NFC of the whole.
// - The Qwen2 pre-tokenizer split: a piece's extent depends on the text up to its end plus one
//   scalar of lookahead, except whitespace runs, whose split depends on where the run ends. A
//   piece boundary after non-whitespace with the next scalar known, or after whitespace with a
//   non-whitespace scalar known later (the run has ended), therefore never moves: cuts are made
//   only there ("known": not held back for an added token, which may not stay text).
// Byte-pair encoding works within a piece, so equal pieces give equal tokens.

/// Tokenizes text given in pieces: `append` returns the tokens that are final, `finish` the rest.
public struct IncrementalTokenizer: Sendable {
    public let tokenizer: BPETokenizer
    /// Text received but not yet tokenized (it starts where a token may start).
    public private(set) var pending = ""

    public init(_ tokenizer: BPETokenizer) { self.tokenizer = tokenizer }

    /// Adds `text` and returns the tokens no later text can change, in order.
    public mutating func append(_ text: String) -> [Int] { append(text, whitespaceAfter: "") }

    /// Adds `text`, knowing that `whitespaceAfter` (whitespace only) follows it, though it is
    /// not given yet: either the text ends before it (a caller that trims trailing whitespace),
    /// or it is given next. Knowing the next scalar lets the last word's tokens out at once.
    public mutating func append(_ text: String, whitespaceAfter: String) -> [Int] {
        pending += text
        let after = whitespaceAfter.unicodeScalars.allSatisfy(\.properties.isWhitespace) ? whitespaceAfter.unicodeScalars.count : 0
        let (ids, rest) = tokenizer.stablePrefix(of: after > 0 ? pending + whitespaceAfter : pending, lookahead: after)
        pending = String(String.UnicodeScalarView(rest.unicodeScalars.dropLast(after)))
        return ids
    }

    /// The end of the text: the tokens of whatever is still pending.
    public mutating func finish() -> [Int] {
        defer { pending = "" }
        return tokenizer.encode(pending)
    }
}

extension BPETokenizer {
    /// Grapheme boundaries tried, from the end, for a cut inside an open text segment. A piece
    /// boundary followed by non-whitespace is almost always among the last few; when none is,
    /// the text waits (it is a single piece so far, such as a long word).
    static let cutCandidates = 16

    /// The tokens of the longest prefix of `text` that no continuation can change, and the rest.
    /// The last `lookahead` scalars are known to follow but are not to be cut into: no cut lies
    /// after `text`'s first `count - lookahead` scalars.
    func stablePrefix(of text: String, lookahead: Int = 0) -> (ids: [Int], rest: String) {
        let scalars = Array(text.unicodeScalars)
        let n = scalars.count
        // 1. Added tokens that may still complete (or grow): hold from where they begin.
        var held = n
        let longest = addedScalars.map(\.0.count).max() ?? 0
        if longest > 0 {
            for p in stride(from: n - 1, through: max(0, n - longest + 1), by: -1)
            where addedScalars.contains(where: { $0.0.count > n - p && $0.0.starts(with: scalars[p..<n]) }) {
                held = p
            }
        }
        // 2. Added tokens and the text between them, up to `held`: segments that end before it
        //    are final when an emitted added token follows them.
        var ids: [Int] = []
        var start = 0
        let end = n - lookahead
        for segment in splitAddedTokensWithOffsets(scalars) {
            guard case .added(let id) = segment.kind else { continue }
            if segment.end > min(held, end) { break }
            if start < segment.start { ids += encode(String(String.UnicodeScalarView(scalars[start..<segment.start]))) }
            ids.append(id)
            start = segment.end
        }
        // 3. The open text after the last emitted added token: cut at a stable piece boundary.
        let open = String(String.UnicodeScalarView(scalars[start..<n]))
        let cut = stableCut(in: open, limit: min(held, end + 1) - start)
        let done = String(Substring(open.unicodeScalars.prefix(cut))), rest = String(Substring(open.unicodeScalars.dropFirst(cut)))
        if cut > 0 { ids += encode(done) }
        return (ids, rest)
    }

    /// The largest scalar offset 0 < c < limit in `text` (no added tokens before `limit`) where a
    /// cut is stable: the start of a grapheme cluster (so the last cluster, which may still grow,
    /// stays after it), NFC splitting there, a piece boundary of the whole text's split whose
    /// pieces before it are fixed (`fixed`). 0 when there is none. Linear in `text` when it is
    /// in NFC and a cut is found at once, at most `cutCandidates` times that otherwise.
    private func stableCut(in text: String, limit: Int) -> Int {
        // A boundary whose piece before it ends in non-whitespace is fixed by one scalar of
        // lookahead; one after whitespace needs the run to have ended: a non-whitespace scalar
        // after it. Either must lie before `limit` (what is held back for an added token may not
        // stay text).
        let scalars = Array(text.unicodeScalars)
        let solid = scalars.prefix(limit).lastIndex { !$0.properties.isWhitespace } ?? -1
        func fixed(_ c: Int) -> Bool { c > 0 && c < limit && (!scalars[c - 1].properties.isWhitespace || c <= solid) }
        var clusterStarts: [Int: String.Index] = [:]
        var offset = 0
        for index in text.indices {
            clusterStarts[offset] = index
            offset += text[index].unicodeScalars.count
        }
        let whole = text.precomposedStringWithCanonicalMapping
        let pieces = Qwen2PreTokenizer.split(whole).map(String.init)
        // Text already in NFC (the usual case): the candidates are the whole split's piece
        // boundaries; otherwise every cluster start, checked below.
        var candidates: [Int]
        if whole.unicodeScalars.elementsEqual(text.unicodeScalars) {
            var end = 0
            candidates = pieces.dropLast().map { end += $0.unicodeScalars.count; return end }
        } else {
            candidates = clusterStarts.keys.sorted()
        }
        var tried = 0
        for c in candidates.reversed() where fixed(c) {
            guard let index = clusterStarts[c] else { continue }
            if tried == Self.cutCandidates { break }
            tried += 1
            let before = String(text[..<index]).precomposedStringWithCanonicalMapping
            let after = String(text[index...]).precomposedStringWithCanonicalMapping
            guard before + after == whole else { continue }  // a safeguard: cluster starts have always split NFC in the tests
            let head = Qwen2PreTokenizer.split(before).map(String.init)
            if pieces.starts(with: head) { return c }
        }
        return 0
    }
}
