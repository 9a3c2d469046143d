import Foundation
import Testing
@testable import TTSTokenizers

struct GoldenRecord: Decodable {
    let text: String
    let ids: [Int]
    let pieces: [String]
    let decoded: String
}

struct GoldenFile: Decodable { let records: [GoldenRecord] }

enum TokenizerFixtures {
    static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let tinyVocab = testsDir.appendingPathComponent("Qwen3TTSTests/Fixtures/checkpoints/tiny-cv-0b6").path

    static func goldens(_ name: String) throws -> [GoldenRecord] {
        let url = testsDir.appendingPathComponent("TTSTokenizersTests/Resources/\(name)")
        return try JSONDecoder().decode(GoldenFile.self, from: Data(contentsOf: url)).records
    }
}

@Suite struct TinyVocabularyTests {
    static let records = (try? TokenizerFixtures.goldens("tiny_goldens.json")) ?? []

    @Test func goldensArePresent() { #expect(Self.records.count > 50) }

    @Test func idsMatchTransformers() throws {
        let tok = try BPETokenizer.load(directory: TokenizerFixtures.tinyVocab)
        for r in Self.records {
            #expect(tok.encode(r.text) == r.ids, "\(r.text.debugDescription)")
        }
    }

    @Test func preTokenizerPiecesMatchTheRegex() throws {
        let tok = try BPETokenizer.load(directory: TokenizerFixtures.tinyVocab)
        for r in Self.records {
            var pieces: [String] = []
            for segment in tok.splitAddedTokens(r.text) {
                if case .text(let t) = segment {
                    pieces += Qwen2PreTokenizer.split(t.precomposedStringWithCanonicalMapping).map(String.init)
                }
            }
            #expect(pieces == r.pieces, "\(r.text.debugDescription)")
        }
    }

    @Test func decodeMatchesTransformersAndRoundTrips() throws {
        let tok = try BPETokenizer.load(directory: TokenizerFixtures.tinyVocab)
        for r in Self.records {
            #expect(tok.decode(r.ids) == r.decoded, "\(r.text.debugDescription)")
            let nfc = r.text.precomposedStringWithCanonicalMapping
            #expect(tok.decode(tok.encode(r.text)) == nfc)
        }
    }

    @Test func specialTokensAreMatchedVerbatim() throws {
        let tok = try BPETokenizer.load(directory: TokenizerFixtures.tinyVocab)
        let imStart = try #require(tok.id(of: "<|im_start|>"))
        let ids = tok.encode("<|im_start|>assistant\n")
        #expect(ids.first == imStart && ids.count == 3)
        #expect(!tok.encode("<|im_start").contains(imStart))
    }
}

@Suite struct MalformedFileTests {
    func directory(vocab: String, merges: String, config: String? = nil) throws -> String {
        let dir = NSTemporaryDirectory() + "tok-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try vocab.write(toFile: dir + "/vocab.json", atomically: true, encoding: .utf8)
        try merges.write(toFile: dir + "/merges.txt", atomically: true, encoding: .utf8)
        if let config { try config.write(toFile: dir + "/tokenizer_config.json", atomically: true, encoding: .utf8) }
        return dir
    }

    /// A vocabulary with the 256 byte symbols and "ab".
    var byteVocab: String {
        var entries: [String: Int] = [:]
        for (i, s) in ByteLevel.byteToScalar.enumerated() { entries[String(s)] = i }
        entries["ab"] = 256
        let data = try! JSONSerialization.data(withJSONObject: entries)
        return String(decoding: data, as: UTF8.self)
    }

    @Test func badMergeLineNamesFileAndLine() throws {
        let dir = try directory(vocab: byteVocab, merges: "#version: 0.2\na b\nthree parts here\n")
        #expect(throws: TokenizerError.malformed(path: dir + "/merges.txt", line: 3,
                                                 reason: "expected two tokens separated by one space, got \"three parts here\"")) {
            try BPETokenizer.load(directory: dir)
        }
    }

    @Test func mergeWithUnknownTokenNamesLine() throws {
        let dir = try directory(vocab: byteVocab, merges: "#version: 0.2\na b\nab zz\n")
        #expect(throws: TokenizerError.self) { try BPETokenizer.load(directory: dir) }
        do { _ = try BPETokenizer.load(directory: dir) } catch let e as TokenizerError {
            #expect(e.description.contains("merges.txt:3"))
        }
    }

    /// Found by the tokenizer-files fuzzer in CI: a vocabulary id beyond 32 bits trapped when the
    /// merge table packed two ids into one key ("Not enough bits to represent the passed value").
    @Test func tokenIdsOutsideThirtyOneBitsAreRefused() throws {
        for bad in [104_444_444_448, -1, Int(Int32.max) + 1] {
            var entries: [String: Int] = [:]
            for (i, s) in ByteLevel.byteToScalar.enumerated() { entries[String(s)] = i }
            entries["ab"] = bad
            let vocab = String(decoding: try JSONSerialization.data(withJSONObject: entries), as: UTF8.self)
            let dir = try directory(vocab: vocab, merges: "#version: 0.2\na b\n")
            #expect(throws: TokenizerError.self, "\(bad)") { try BPETokenizer.load(directory: dir) }
            let config = "{\"added_tokens_decoder\": {\"\(bad)\": {\"content\": \"<x>\"}}}"
            let added = try directory(vocab: byteVocab, merges: "a b\n", config: config)
            #expect(throws: TokenizerError.self, "added \(bad)") { try BPETokenizer.load(directory: added) }
        }
    }

    @Test func brokenVocabAndMissingFiles() throws {
        let dir = try directory(vocab: "{\"a\": ", merges: "")
        #expect(throws: TokenizerError.self) { try BPETokenizer.load(directory: dir) }
        #expect(throws: TokenizerError.missingFile(path: "/nonexistent/vocab.json")) { try BPETokenizer.load(directory: "/nonexistent") }
        let noBytes = try directory(vocab: "{\"a\": 0}", merges: "")
        #expect(throws: TokenizerError.self) { try BPETokenizer.load(directory: noBytes) }
        let badConfig = try directory(vocab: byteVocab, merges: "a b\n", config: "{\"added_tokens_decoder\": {\"x\": {}}}")
        #expect(throws: TokenizerError.self) { try BPETokenizer.load(directory: badConfig) }
    }
}

@Suite struct VocabParserTests {
    @Test func parsesEscapesAndReportsLines() throws {
        let ok = try VocabParser.parse(Array(#"{"a": 1, "\u0120b\n": 22, "\ud83d\ude00": 3, "q\"\\": 4}"#.utf8))
        #expect(ok == ["a": 1, "Ġb\n": 22, "😀": 3, "q\"\\": 4])
        #expect(try VocabParser.parse(Array("{}".utf8)).isEmpty)
        for (text, line) in [("{\n \"a\": 1,\n \"b\": 2\n \"c\": 3\n}", 4), ("{\n\"a\": -1}", 2), ("{\"a\": 1", 1), ("[1]", 1), ("{\"a\": 1}\nx", 2)] {
            do {
                _ = try VocabParser.parse(Array(text.utf8))
                Issue.record("accepted \(text.debugDescription)")
            } catch {
                #expect(error.line == line, "\(text.debugDescription): \(error.reason)")
            }
        }
    }

    @Test func tokenizerJSONGivesTheSameIds() throws {
        // Rebuild the tiny vocabulary as a tokenizer.json and compare with vocab.json + merges.txt.
        let src = TokenizerFixtures.tinyVocab
        let vocab = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: src + "/vocab.json")))
        let merges = try String(contentsOfFile: src + "/merges.txt", encoding: .utf8).split(separator: "\n").dropFirst().map(String.init)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: src + "/tokenizer_config.json"))) as! [String: Any]
        let added = (config["added_tokens_decoder"] as! [String: [String: Any]]).map { ["id": Int($0.key)!, "content": $0.value["content"]!] }
        let json: [String: Any] = ["model": ["type": "BPE", "vocab": vocab, "merges": merges], "added_tokens": added]
        let dir = NSTemporaryDirectory() + "tokjson-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: dir + "/tokenizer.json"))
        let a = try BPETokenizer.load(directory: src), b = try BPETokenizer.load(directory: dir)
        for r in TinyVocabularyTests.records { #expect(a.encode(r.text) == b.encode(r.text)) }
    }
}
