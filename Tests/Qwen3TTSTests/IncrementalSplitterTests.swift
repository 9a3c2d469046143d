// Text given in pieces is cut into the utterances TextSplitter makes of the whole text (issue 19),
// whatever the pieces, and each utterance's text is reported as soon as it is certain.
import Foundation
import Testing
import TTSTestSupport
import TTSRuntime
@testable import Qwen3TTS

@Suite(.tags(.kernelIndependent)) struct IncrementalSplitterTests {
    /// Feeds `pieces`; returns the utterances (each one's reported text, its end trimmed as
    /// `split` trims it) and checks that no utterance starts with whitespace.
    func utterances(_ pieces: [String], limit: Int, bytes: Int? = nil) -> [String] {
        var splitter = IncrementalSplitter(maxCharacters: limit, maxBytes: bytes)
        var done: [String] = [], current = ""
        func take(_ events: [IncrementalSplitter.Event]) {
            for e in events {
                switch e {
                case .text(let t):
                    if current.isEmpty { #expect(!t.unicodeScalars.first.map(IncrementalSplitter.isWhitespace)!, "starts with whitespace: \(t.debugDescription)") }
                    current += t
                case .end:
                    done.append(current.trimmingCharacters(in: .whitespacesAndNewlines))
                    current = ""
                }
            }
        }
        for p in pieces { take(splitter.append(p)) }
        take(splitter.finish())
        #expect(current.isEmpty, "text after the last end: \(current.debugDescription)")
        return done
    }

    /// Texts for other suites (tokenization of the spoken text alone).
    static let sampleTexts: [String] = {
        var rng = SeededRNG(seed: 7)
        return (0..<100).map { _ in randomText(&rng) }
    }()

    /// Random texts over sentence enders, pauses, whitespace runs and newlines, long words,
    /// combining marks (which can turn an ender into another character), CJK and emoji, cut with
    /// small limits so that grouping, long-sentence cuts and byte limits all happen often.
    static func randomText(_ rng: inout SeededRNG) -> String {
        let atoms = ["Hello", "world", "a", "verylongwordwithoutanypause", "déjà", "今天天气很好", "👩\u{200D}👩\u{200D}👧", "x\u{301}",
                     ".", "!", "?", "。", "…", "\n", ";", ",", "，", ":", " ", "  ", "\n\n", "\u{301}", "\u{323}\u{301}", "\t", "e"]
        var t = ""
        for _ in 0..<Int(rng.next() % 60) { t += atoms[Int(rng.next() % UInt64(atoms.count))] }
        return t
    }

    @Test func anySplitGivesTheWholeTextsUtterances() {
        var rng = SeededRNG(seed: 19)
        for round in 0..<600 {
            let text = Self.randomText(&rng)
            let limit = [1, 3, 8, 12, 20, 40, 250][round % 7]
            let bytes: Int? = round % 5 == 0 ? limit * 2 : nil
            let expected = TextSplitter.split(text, maxCharacters: limit, maxBytes: bytes)
            #expect(utterances([text], limit: limit, bytes: bytes) == expected, "whole \(round): \(text.debugDescription)")
            let scalars = text.unicodeScalars.map { String($0) }
            #expect(utterances(scalars, limit: limit, bytes: bytes) == expected, "scalar by scalar \(round): \(text.debugDescription)")
            #expect(utterances(randomPieces(text, seed: UInt64(round)), limit: limit, bytes: bytes) == expected,
                    "random split \(round): \(text.debugDescription)")
        }
    }

    /// Text over the default segment length: the same utterances as `split` at 250 characters.
    @Test func longTextAtTheDefaultLength() {
        let text = (0..<40).map { i in "Sentence number \(i) says something, then pauses: and goes on\(i % 3 == 0 ? "!" : ".")" }.joined(separator: " ")
            + " " + String(repeating: "unbroken ", count: 60)
        let expected = TextSplitter.split(text, maxCharacters: 250)
        #expect(expected.count > 5)
        for seed in 1...5 {
            #expect(utterances(randomPieces(text, seed: UInt64(seed), longest: 20), limit: 250) == expected)
        }
    }

    /// What is certain is reported at once: a first utterance's words up to the last pause, and
    /// an utterance's end once the next piece is known not to fit.
    @Test func certainTextComesEarly() {
        var s = IncrementalSplitter(maxCharacters: 20)
        #expect(s.append("  Hello world, this") == [.text("Hello world, ")])
        #expect(s.append(" is it.") == [.text("this ")])
        // "Hello world, this is it." is 24 characters: cut after "this " (the last pause within
        // 20), and "is it." does not fit beside it, which is known once its "." is final.
        #expect(s.append(" More") == [.end, .text("is it.")])
        #expect(s.finish() == [.text(" More"), .end])
        // An ender that is the last character may still take a combining mark (then it is none).
        var t = IncrementalSplitter(maxCharacters: 20)
        #expect(t.append("Hi there.") == [.text("Hi ")])
        #expect(t.append("\u{301}") == [])
        #expect(t.finish() == [.text("there.\u{301}"), .end])
    }
}
