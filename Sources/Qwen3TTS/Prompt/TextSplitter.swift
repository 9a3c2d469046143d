// Splitting long text into utterances at sentence boundaries.
import Foundation

public enum TextSplitter {
    /// Sentence-ending characters (Latin, CJK, and others common in the ten languages).
    static let enders: Set<Character> = [".", "!", "?", "。", "！", "？", "…", "\n", ";", "；"]
    /// Weaker boundaries, used when a single sentence is too long.
    static let pauses: Set<Character> = [",", "，", "、", ":", "：", " "]

    /// Pieces of at most `maxCharacters` characters and `maxBytes` UTF-8 bytes (default: 4 per
    /// character), cut after sentence enders where possible, else after pauses, else hard; sentences
    /// are grouped greedily up to the limits. A single character over `maxBytes` (a letter with
    /// thousands of combining marks) is cut between its scalars. Whitespace at the cuts is trimmed
    /// and empty pieces are dropped. Text within the limits comes back whole.
    public static func split(_ text: String, maxCharacters: Int, maxBytes: Int? = nil) -> [String] {
        let (limit, byteLimit) = limits(maxCharacters: maxCharacters, maxBytes: maxBytes)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.utf8.count <= byteLimit && trimmed.count <= limit { return trimmed.isEmpty ? [] : [trimmed] }
        let (sentences, last) = sentences(trimmed, lastIsFinal: true)
        let pieces = (sentences + (last.isEmpty ? [] : [last])).flatMap { cutLong($0, limit: limit, byteLimit: byteLimit) }
        return groups(pieces, limit: limit, byteLimit: byteLimit).compactMap { group in
            let t = pieces[group].joined().trimmingCharacters(in: .whitespacesAndNewlines)
            return t.isEmpty ? nil : t
        }
    }

    /// The limits `split` applies: at least 1 character and 4 bytes (default: 4 per character).
    static func limits(maxCharacters: Int, maxBytes: Int?) -> (characters: Int, bytes: Int) {
        let limit = max(maxCharacters, 1)
        return (limit, max(maxBytes ?? limit * 4, 4))
    }

    /// `text` cut after each sentence ender: the sentences that ended, and the text after the
    /// last of them. `lastIsFinal` false: the last character may still change (combining marks
    /// may follow), so it does not end a sentence yet.
    static func sentences(_ text: String, lastIsFinal: Bool) -> (ended: [String], rest: String) {
        var sentences: [String] = []
        var current = ""
        var i = text.startIndex
        while i < text.endIndex {
            let ch = text[i]
            i = text.index(after: i)
            current.append(ch)
            if enders.contains(ch), lastIsFinal || i < text.endIndex { sentences.append(current); current = "" }
        }
        return (sentences, current)
    }

    /// Pieces grouped greedily in order: each group is the longest run of consecutive pieces
    /// within both limits (a piece is never over them: `cutLong`). Returns index ranges.
    static func groups(_ pieces: [String], limit: Int, byteLimit: Int) -> [Range<Int>] {
        var groups: [Range<Int>] = []
        var start = 0, characters = 0, bytes = 0
        for (i, piece) in pieces.enumerated() {
            let c = piece.count, b = piece.utf8.count
            if i > start && (characters + c > limit || bytes + b > byteLimit) {
                groups.append(start..<i)
                (start, characters, bytes) = (i, 0, 0)
            }
            characters += c
            bytes += b
        }
        if start < pieces.count { groups.append(start..<pieces.count) }
        return groups
    }

    /// A sentence over either limit, cut after the last pause within each window (or hard).
    static func cutLong(_ sentence: String, limit: Int, byteLimit: Int) -> [String] {
        var rest = Substring(sentence)
        var out: [String] = []
        while !rest.isEmpty {
            let end = windowEnd(rest, characters: limit, bytes: byteLimit)
            if end == rest.endIndex { break }
            let window = rest[..<end]
            var cut = window.lastIndex(where: { pauses.contains($0) }).map { rest.index(after: $0) } ?? end
            if cut > end { cut = end }
            out.append(String(rest.unicodeScalars[..<cut]))
            rest = Substring(rest.unicodeScalars[cut...])
        }
        if !rest.isEmpty { out.append(String(rest)) }
        return out
    }

    /// The end of the longest prefix of `text` within both limits: whole characters, or, when the
    /// first character alone is over `bytes`, as many of its scalars as fit (at least one).
    static func windowEnd(_ text: Substring, characters: Int, bytes: Int) -> Substring.Index {
        var end = text.startIndex, count = 0, used = 0
        while end < text.endIndex && count < characters {
            let next = text.index(after: end)
            let size = text.utf8.distance(from: end, to: next)
            if used + size > bytes { break }
            used += size
            count += 1
            end = next
        }
        guard end == text.startIndex, !text.isEmpty else { return end }
        let scalars = text.unicodeScalars
        var i = scalars.startIndex
        used = 0
        repeat {
            used += scalars[i].utf8.count
            i = scalars.index(after: i)
        } while i < scalars.endIndex && used + scalars[i].utf8.count <= bytes
        return i
    }
}
