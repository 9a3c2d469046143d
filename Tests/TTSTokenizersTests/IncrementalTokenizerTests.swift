// Text given in pieces tokenizes exactly as given whole (issue 19): one scalar at a time, in
// random splits, and at once, on the real Qwen vocabulary's golden texts and on texts built to
// catch every way later text can change earlier tokens.
import Foundation
import Testing
import TTSTestSupport
@testable import TTSTokenizers

@Suite struct IncrementalTokenizerTests {
    /// Texts where a naive cut goes wrong: words that continue, contractions, whitespace runs
    /// whose split depends on what follows, newlines, combining marks (NFC), Hangul jamo, emoji
    /// with ZWJ and flags, CJK, added tokens and their prefixes, numbers.
    static let hostile = [
        "Hello world, this is a test.", "don't we'll they're I'M", "a   b    \n\n  c\n", "x \n  \n y",
        "cafe\u{301} e\u{301}\u{323} A\u{30A}", "\u{1100}\u{1161}\u{11A8} 한국어 텍스트", "👩\u{200D}👩\u{200D}👧 🇺🇸🇬🇧 👍🏽!",
        "今天天气很好，我们去公园吧。", "<|im_start|>assistant\nHi<|im_end|>\n", "a <|im_end|> <|im_ x <|im_endless",
        "<tts_pad><tts_text_bos>text<tts_text_eod>", "1234567 3.14159 ١٢٣", "  leading and trailing  ", "\t\ttabs\r\nand CRLF\r\n",
        "Ünïcödé déjà vu — “quotes” … ¿qué?", "<", "<|", "'", " '", "'s", "\n", "",
    ]

    static let tokenizer = QwenVocabularyTests.tokenizer

    /// Feeds `pieces` and returns every token emitted, in order.
    func feed(_ pieces: [String], _ tok: BPETokenizer) -> [Int] {
        var incremental = IncrementalTokenizer(tok)
        var ids: [Int] = []
        for p in pieces { ids += incremental.append(p) }
        return ids + incremental.finish()
    }

    func scalarsOneByOne(_ text: String) -> [String] { text.unicodeScalars.map { String($0) } }

    @Test func hostileTextsAnySplit() throws {
        let tok = try #require(Self.tokenizer)
        for text in Self.hostile {
            let whole = tok.encode(text)
            #expect(feed([text], tok) == whole, "at once: \(text.debugDescription)")
            #expect(feed(scalarsOneByOne(text), tok) == whole, "scalar by scalar: \(text.debugDescription)")
            for seed in 1...20 {
                #expect(feed(randomPieces(text, seed: UInt64(seed)), tok) == whole, "split \(seed): \(text.debugDescription)")
            }
        }
    }

    /// Every golden text (checked against transformers' ids), and all of them joined as one long
    /// text, fed one scalar at a time and in random splits.
    @Test func goldenTextsAnySplit() throws {
        let tok = try #require(Self.tokenizer)
        let texts = QwenVocabularyTests.records.map(\.text)
        #expect(texts.count >= 500)
        var failures = 0
        for (i, text) in texts.enumerated() {
            let whole = tok.encode(text)
            if feed(scalarsOneByOne(text), tok) != whole || feed(randomPieces(text, seed: UInt64(i)), tok) != whole {
                failures += 1
                if failures <= 5 { Issue.record("differs for \(text.debugDescription)") }
            }
        }
        #expect(failures == 0)
        let joined = texts.prefix(200).joined(separator: " ")
        let joinedOK = feed(randomPieces(joined, seed: 99), tok) == tok.encode(joined)
        #expect(joinedOK, "the joined golden texts")
    }

    /// Random texts over an alphabet of everything that interacts across a cut (spaces, tabs,
    /// newlines, letters, digits, apostrophes, punctuation, combining marks, jamo, ZWJ, regional
    /// indicators, skin tones, CJK, pieces of added tokens), in random splits.
    @Test func randomTextsAnySplit() throws {
        let tok = try #require(Self.tokenizer)
        let alphabet: [String] = [" ", "  ", "\t", "\n", "\r\n", "a", "b", "Z", "é", "e", "\u{301}", "\u{323}", "1", "2", "'", "'s", "'re",
                                  ",", ".", "!", "—", "“", "<", "|", ">", "<|", "|>", "<|im_end|>", "<|im_start|>", "<tts_pad>", "im_", "end",
                                  "\u{1100}", "\u{1161}", "\u{11A8}", "한", "\u{200D}", "👩", "🇺", "🇸", "🏽", "中", "文", "。", "١"]
        var state: UInt64 = 0x1234_5678_9ABC_DEF1
        func next(_ n: Int) -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(n))
        }
        var failures = 0
        for round in 0..<1500 {
            let text = (0..<(1 + next(24))).map { _ in alphabet[next(alphabet.count)] }.joined()
            let whole = tok.encode(text)
            if feed(randomPieces(text, seed: UInt64(round + 1)), tok) != whole || feed(scalarsOneByOne(text), tok) != whole {
                failures += 1
                if failures <= 5 { Issue.record("differs for \(text.debugDescription)") }
            }
        }
        #expect(failures == 0)
    }

    /// A text with no place to cut for a long while (one 3000-letter word, then 3000 spaces) is
    /// held, then given whole; the work per append stays linear in what is pending.
    @Test func longUncuttableRunsAreHeldThenGiven() throws {
        let tok = try #require(Self.tokenizer)
        let text = String(repeating: "a", count: 3000) + String(repeating: " ", count: 3000) + "end"
        var incremental = IncrementalTokenizer(tok)
        var ids: [Int] = []
        let start = ContinuousClock.now
        for s in scalarsOneByOne(text) { ids += incremental.append(s) }
        print("6003 single-scalar appends over uncuttable runs: \(ContinuousClock.now - start)")
        #expect(incremental.pending.unicodeScalars.count <= 3003)
        #expect(ids + incremental.finish() == tok.encode(text))
    }

    /// A caller that trims the end of its text (an utterance) holds trailing whitespace back and
    /// tells the tokenizer it follows (`whitespaceAfter`): the tokens are those of the text with
    /// its end trimmed, for any split, and a word's tokens come out as soon as a space follows it.
    @Test func whitespaceAfterGivesTheTrimmedTextsTokens() throws {
        let tok = try #require(Self.tokenizer)
        func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace }
        func feedHolding(_ pieces: [String]) -> [Int] {
            var incremental = IncrementalTokenizer(tok)
            var ids: [Int] = [], held = ""
            for p in pieces {
                let joined = held + p
                let body = joined.unicodeScalars.count - joined.unicodeScalars.reversed().prefix(while: isSpace).count
                held = String(String.UnicodeScalarView(joined.unicodeScalars.dropFirst(body)))
                if body > 0 { ids += incremental.append(String(String.UnicodeScalarView(joined.unicodeScalars.prefix(body))), whitespaceAfter: held) }
            }
            return ids + incremental.finish()
        }
        var texts = Self.hostile + QwenVocabularyTests.records.map(\.text).prefix(300)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let alphabet = [" ", "  ", "\t", "\n", "a", "é", "e\u{301}", "\u{301}", "'s", ",", "<|", "<|im_end|>", "中", "👩\u{200D}👧", "\u{3000}", "\u{A0}"]
        for _ in 0..<800 {
            var t = ""
            for _ in 0..<12 {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17
                t += alphabet[Int(state % UInt64(alphabet.count))]
            }
            texts.append(t)
        }
        var failures = 0
        for (i, text) in texts.enumerated() {
            let trimmed = String(String.UnicodeScalarView(text.unicodeScalars.dropLast(text.unicodeScalars.reversed().prefix(while: isSpace).count)))
            let whole = tok.encode(trimmed)
            if feedHolding(scalarsOneByOne(text)) != whole || feedHolding(randomPieces(text, seed: UInt64(i + 7))) != whole || feedHolding([text]) != whole {
                failures += 1
                if failures <= 5 { Issue.record("differs for \(text.debugDescription)") }
            }
        }
        #expect(failures == 0)
        var incremental = IncrementalTokenizer(tok)
        #expect(incremental.append("Hello", whitespaceAfter: " ") == tok.encode("Hello"), "the space after ends the word")
        #expect(incremental.append(" world", whitespaceAfter: "") == [])
    }

    /// Tokens come out while the text is still arriving, not only at the end: each complete word
    /// followed by the start of the next is emitted.
    @Test func tokensFlowBeforeTheEnd() throws {
        let tok = try #require(Self.tokenizer)
        var incremental = IncrementalTokenizer(tok)
        #expect(incremental.append("Hello").isEmpty, "a word may continue")
        #expect(incremental.append(" wor") == tok.encode("Hello"))
        #expect(incremental.append("ld, and") == tok.encode(" world,"))
        #expect(incremental.append(" <|im_") == tok.encode(" and"))
        // The added token completes: it and the space before it are final.
        #expect(incremental.append("end|>") == tok.encode(" ") + [tok.id(of: "<|im_end|>")!])
        #expect(incremental.append("  ").isEmpty, "a whitespace run's split waits for its end")
        #expect(incremental.finish() == tok.encode("  "))
    }
}
