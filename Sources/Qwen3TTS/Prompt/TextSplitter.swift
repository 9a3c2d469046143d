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
        let limit = max(maxCharacters, 1)
        let byteLimit = max(maxBytes ?? limit * 4, 4)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.utf8.count <= byteLimit && trimmed.count <= limit { return trimmed.isEmpty ? [] : [trimmed] }
        var sentences: [String] = []
        var current = ""
        for ch in trimmed {
            current.append(ch)
            if enders.contains(ch) { sentences.append(current); current = "" }
        }
        if !current.isEmpty { sentences.append(current) }
        var pieces: [String] = []
        var group = "", groupCharacters = 0
        func emit(_ s: String) {
            let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
            if !t.isEmpty { pieces.append(t) }
        }
        for sentence in sentences.flatMap({ cutLong($0, limit: limit, byteLimit: byteLimit) }) {
            let characters = sentence.count
            if groupCharacters + characters > limit || group.utf8.count + sentence.utf8.count > byteLimit {
                emit(group)
                group = ""
                groupCharacters = 0
            }
            group += sentence
            groupCharacters += characters
        }
        emit(group)
        return pieces
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
