// The Qwen2 pre-tokenizer split, written as a scanner over Unicode scalars.
//
// It is equal to the pattern (first matching alternative wins, as in the regex engine):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d) | [^\r\n\p{L}\p{N}]?\p{L}+ | \p{N} | ' '?[^\s\p{L}\p{N}]+[\r\n]* |
//   \s*[\r\n]+ | \s+(?!\S) | \s+
// Every scalar is covered by some alternative, so the pieces tile the input.

enum Qwen2PreTokenizer {
    private static func isLetter(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
        default: return false
        }
    }

    private static func isNumber(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    private static func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace }
    private static func isNewline(_ s: Unicode.Scalar) -> Bool { s == "\r" || s == "\n" }
    /// Neither whitespace, letter nor number.
    private static func isOther(_ s: Unicode.Scalar) -> Bool { !isSpace(s) && !isLetter(s) && !isNumber(s) }

    /// Splits `text` into pieces (ranges of scalar offsets).
    static func split(_ text: String) -> [Substring] {
        let scalars = Array(text.unicodeScalars)
        let view = text.unicodeScalars
        var indices: [String.UnicodeScalarView.Index] = []
        indices.reserveCapacity(scalars.count + 1)
        var idx = view.startIndex
        while idx != view.endIndex { indices.append(idx); idx = view.index(after: idx) }
        indices.append(view.endIndex)

        var pieces: [Substring] = []
        var i = 0
        let n = scalars.count
        while i < n {
            let end = matchLength(scalars, at: i) + i
            pieces.append(Substring(view[indices[i]..<indices[end]]))
            i = end
        }
        return pieces
    }

    /// Length (in scalars, >= 1) of the piece starting at `i`.
    private static func matchLength(_ s: [Unicode.Scalar], at i: Int) -> Int {
        let n = s.count
        let c = s[i]
        // 1. contractions, case-insensitive
        if c == "'" && i + 1 < n {
            let a = lower(s[i + 1])
            if a == "s" || a == "t" || a == "m" || a == "d" { return 2 }
            if i + 2 < n {
                let b = lower(s[i + 2])
                if (a == "r" && b == "e") || (a == "v" && b == "e") || (a == "l" && b == "l") { return 3 }
            }
        }
        // 2. optional non-newline, non-letter, non-number prefix, then letters
        var j = i
        if !isLetter(c) && !isNumber(c) && !isNewline(c) && i + 1 < n && isLetter(s[i + 1]) { j = i + 1 }
        if isLetter(s[j]) {
            var k = j
            while k < n && isLetter(s[k]) { k += 1 }
            return k - i
        }
        // 3. one number
        if isNumber(c) { return 1 }
        // 4. optional space, run of "other", trailing newlines
        j = i
        if c == " " && i + 1 < n && isOther(s[i + 1]) { j = i + 1 }
        if isOther(s[j]) {
            var k = j
            while k < n && isOther(s[k]) { k += 1 }
            while k < n && isNewline(s[k]) { k += 1 }
            return k - i
        }
        // c is whitespace from here on.
        var runEnd = i
        var lastNewline = -1
        while runEnd < n && isSpace(s[runEnd]) {
            if isNewline(s[runEnd]) { lastNewline = runEnd }
            runEnd += 1
        }
        // 5. whitespace up to and including the last newline of the run
        if lastNewline >= 0 { return lastNewline + 1 - i }
        // 6. whitespace not followed by a non-space: the run at the end, else all but its last
        if runEnd == n { return runEnd - i }
        if runEnd - i >= 2 { return runEnd - 1 - i }
        // 7. a single whitespace scalar
        return 1
    }

    private static func lower(_ s: Unicode.Scalar) -> Unicode.Scalar {
        (s.value >= 65 && s.value <= 90) ? Unicode.Scalar(s.value + 32)! : s
    }
}
