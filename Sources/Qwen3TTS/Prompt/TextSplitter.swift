// Splitting long text into utterances at sentence boundaries.
import Foundation

public enum TextSplitter {
    /// Sentence-ending characters (Latin, CJK, and others common in the ten languages).
    static let enders: Set<Character> = [".", "!", "?", "。", "！", "？", "…", "\n", ";", "；"]
    /// Weaker boundaries, used when a single sentence is too long.
    static let pauses: Set<Character> = [",", "，", "、", ":", "：", " "]

    /// Pieces of at most `maxCharacters` characters, cut after sentence enders where possible,
    /// else after pauses, else hard; sentences are grouped greedily up to the limit. Whitespace at
    /// the cuts is trimmed and empty pieces are dropped. Text within the limit comes back whole.
    public static func split(_ text: String, maxCharacters: Int) -> [String] {
        let limit = max(maxCharacters, 1)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.count <= limit { return trimmed.isEmpty ? [] : [trimmed] }
        var sentences: [String] = []
        var current = ""
        for ch in trimmed {
            current.append(ch)
            if enders.contains(ch) { sentences.append(current); current = "" }
        }
        if !current.isEmpty { sentences.append(current) }
        var pieces: [String] = []
        var group = ""
        func emit(_ s: String) {
            let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
            if !t.isEmpty { pieces.append(t) }
        }
        for sentence in sentences.flatMap({ cutLong($0, limit: limit) }) {
            if group.count + sentence.count > limit { emit(group); group = "" }
            group += sentence
        }
        emit(group)
        return pieces
    }

    /// A sentence longer than the limit, cut after the last pause within each window (or hard).
    static func cutLong(_ sentence: String, limit: Int) -> [String] {
        var rest = Substring(sentence)
        var out: [String] = []
        while rest.count > limit {
            let window = rest.prefix(limit)
            let cut = window.lastIndex(where: { pauses.contains($0) }).map { rest.index(after: $0) } ?? window.endIndex
            out.append(String(rest[..<cut]))
            rest = rest[cut...]
        }
        if !rest.isEmpty { out.append(String(rest)) }
        return out
    }
}
