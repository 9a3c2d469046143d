// Text a hostile client can send: one grapheme of 60,000 combining marks, long runs of one
// symbol, random bytes. The heap-ordered merge loop must give the ids of the plain rank-ordered
// loop (kept here as the reference) and stay near linear in the piece's length.
import Foundation
import Testing
@testable import TTSTokenizers

@Suite struct HostileTextTests {
    static let tokenizer = QwenVocabularyTests.tokenizer

    /// The rank-ordered merge as first written (quadratic: a scan for the best pair per merge):
    /// repeatedly merge the adjacent pair of lowest rank, leftmost on ties.
    static func referenceMerge(_ model: BPEModel, _ piece: Substring) -> [Int] {
        var symbols = piece.utf8.map { model.byteIds[Int($0)] }
        while symbols.count > 1 {
            var best = -1, bestRank = Int.max, bestId = 0
            for i in 0..<(symbols.count - 1) {
                if let m = model.merges[BPEModel.key(symbols[i], symbols[i + 1])], m.rank < bestRank {
                    best = i
                    bestRank = m.rank
                    bestId = m.id
                }
            }
            if best < 0 { break }
            symbols[best] = bestId
            symbols.remove(at: best + 1)
        }
        return symbols
    }

    @Test func heapMergeEqualsTheReferenceLoop() throws {
        let tok = try #require(Self.tokenizer)
        var rng = SystemRandomNumberGenerator()
        // Alphabets whose runs merge in many orders: repeated letters, digits, CJK, marks, emoji.
        let alphabets: [[String]] = [
            ["a", "b", "e", "l", "n", "s", "t", " "], ["a"], ["0", "1", "9"], ["的", "是", "一", "了"],
            ["\u{301}", "\u{300}", "e"], ["😀", "👍", "\u{200D}"], ["я", "б", "л", "о", "к"], ["!", "?", ".", "-", "="],
        ]
        var pieces: [String] = []
        for alphabet in alphabets {
            for _ in 0..<40 {
                let count = Int.random(in: 1...80, using: &rng)
                pieces.append((0..<count).map { _ in alphabet.randomElement(using: &rng)! }.joined())
            }
        }
        pieces += [String(repeating: "a", count: 500), String(repeating: "=", count: 333), String(repeating: "\u{301}", count: 301)]
        for piece in pieces {
            let got = tok.model.encode(piece: Substring(piece))
            let want = Self.referenceMerge(tok.model, Substring(piece))
            #expect(got == want, "\(piece.debugDescription)")
        }
    }

    /// The reproduction of issue #15: "e" and 60,000 combining acute accents (120 KB, one grapheme)
    /// is one pre-tokenizer piece of ~120,000 bytes. The quadratic loop took minutes on it; this
    /// test would then run for minutes. It must encode (and round-trip) in well under a second.
    @Test func aGraphemeOfSixtyThousandMarksEncodes() throws {
        let tok = try #require(Self.tokenizer)
        let text = "e" + String(repeating: "\u{301}", count: 60_000)
        #expect(text.count == 1)
        let ids = tok.encode(text)
        #expect(!ids.isEmpty && ids.count <= 60_001)
        #expect(tok.decode(ids) == text.precomposedStringWithCanonicalMapping)
    }
}
