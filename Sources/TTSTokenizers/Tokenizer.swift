// Qwen2-style byte-level BPE tokenizer: added tokens, NFC, Qwen2 split, byte-level BPE.
import Foundation

/// A text tokenizer loaded from a model directory (vocab.json + merges.txt + tokenizer_config.json,
/// or tokenizer.json). Immutable and safe to share; encoding keeps no state.
public final class BPETokenizer: Sendable {
    let model: BPEModel
    /// Added tokens matched verbatim before any other processing, longest first.
    let addedTokens: [(content: String, id: Int)]
    let addedScalars: [([Unicode.Scalar], Int)]
    let addedFirstScalars: Set<Unicode.Scalar>
    let addedById: [Int: String]

    public var vocabularySize: Int { max((model.idToToken.keys.max() ?? -1), (addedById.keys.max() ?? -1)) + 1 }

    init(model: BPEModel, added: [(String, Int)], source: String) throws {
        try BPEModel.checkIds(added, source: source)
        self.model = model
        self.addedTokens = added.sorted { $0.0.unicodeScalars.count > $1.0.unicodeScalars.count }
        self.addedScalars = addedTokens.map { (Array($0.content.unicodeScalars), $0.id) }
        self.addedFirstScalars = Set(addedScalars.compactMap(\.0.first))
        var byId: [Int: String] = [:]
        for (c, id) in added { byId[id] = c }
        addedById = byId
    }

    /// Loads the tokenizer files of a Hugging Face model directory.
    public static func load(directory: String) throws -> BPETokenizer {
        let fm = FileManager.default
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        let vocabPath = path("vocab.json"), mergesPath = path("merges.txt"), jsonPath = path("tokenizer.json")
        if fm.fileExists(atPath: vocabPath) && fm.fileExists(atPath: mergesPath) {
            let vocab = try TokenizerFiles.readVocab(vocabPath)
            let merges = try TokenizerFiles.readMerges(mergesPath)
            let added = try TokenizerFiles.readAddedTokens(config: path("tokenizer_config.json"))
            return try BPETokenizer(model: try BPEModel(vocab: vocab, merges: merges, vocabSource: vocabPath, source: mergesPath), added: added,
                                    source: path("tokenizer_config.json"))
        }
        if fm.fileExists(atPath: jsonPath) {
            let (vocab, merges, added) = try TokenizerFiles.readTokenizerJSON(jsonPath)
            return try BPETokenizer(model: try BPEModel(vocab: vocab, merges: merges, vocabSource: jsonPath, source: jsonPath), added: added, source: jsonPath)
        }
        throw TokenizerError.missingFile(path: fm.fileExists(atPath: vocabPath) ? mergesPath : vocabPath)
    }

    /// A tokenizer from the contents of vocab.json, merges.txt and (optionally)
    /// tokenizer_config.json; `source` names where they came from in error messages.
    public static func load(vocabJSON: Data, merges: String, tokenizerConfig: Data?, source: String) throws -> BPETokenizer {
        let vocab: [String: Int]
        do {
            vocab = try VocabParser.parse([UInt8](vocabJSON))
        } catch {
            throw TokenizerError.malformed(path: source + " vocab.json", line: error.line, reason: error.reason)
        }
        let mergeList = try TokenizerFiles.parseMerges(merges, path: source + " merges.txt")
        let added = try tokenizerConfig.map { try TokenizerFiles.addedTokens(from: $0, path: source + " tokenizer_config.json") } ?? []
        return try BPETokenizer(model: try BPEModel(vocab: vocab, merges: mergeList, vocabSource: source + " vocab.json", source: source + " merges.txt"), added: added,
                                source: source + " tokenizer_config.json")
    }

    /// The id of a token string (ordinary or added), if it exists.
    public func id(of token: String) -> Int? {
        if let a = addedTokens.first(where: { $0.content == token }) { return a.id }
        return model.vocab[token]
    }

    /// Token ids of `text`. Added tokens are recognised verbatim (before normalisation); the rest is
    /// NFC-normalised, split with the Qwen2 pattern and byte-pair encoded.
    public func encode(_ text: String) -> [Int] {
        var ids: [Int] = []
        for segment in splitAddedTokens(text) {
            switch segment {
            case .added(let id):
                ids.append(id)
            case .text(let t):
                let normalized = t.precomposedStringWithCanonicalMapping
                for piece in Qwen2PreTokenizer.split(normalized) {
                    ids.append(contentsOf: model.encode(piece: piece))
                }
            }
        }
        return ids
    }

    /// Text of `ids`: byte-level tokens are joined and decoded as UTF-8 (invalid bytes become
    /// U+FFFD); added tokens appear verbatim unless `skipAdded`.
    public func decode(_ ids: [Int], skipAdded: Bool = false) -> String {
        var out = ""
        var bytes: [UInt8] = []
        func flush() {
            if !bytes.isEmpty { out += String(decoding: bytes, as: UTF8.self); bytes.removeAll() }
        }
        for id in ids {
            if let added = addedById[id] {
                flush()
                if !skipAdded { out += added }
            } else if let token = model.idToToken[id] {
                ByteLevel.decode(token, into: &bytes)
            }
        }
        flush()
        return out
    }

    enum Segment: Equatable { case text(String), added(Int) }

    /// Leftmost, then longest, verbatim matches of added tokens, compared scalar by scalar.
    func splitAddedTokens(_ text: String) -> [Segment] {
        let scalars = Array(text.unicodeScalars)
        return splitAddedTokensWithOffsets(scalars).map { segment in
            if case .added = segment.kind { return segment.kind }
            return .text(String(String.UnicodeScalarView(scalars[segment.start..<segment.end])))
        }
    }

    /// The added-token matches of `splitAddedTokens` and the text between them, as scalar ranges
    /// (a text range's kind is `.text("")`).
    func splitAddedTokensWithOffsets(_ scalars: [Unicode.Scalar]) -> [(kind: Segment, start: Int, end: Int)] {
        var out: [(Segment, Int, Int)] = []
        var i = 0, textStart = 0
        outer: while i < scalars.count {
            if addedFirstScalars.contains(scalars[i]) {
                for (token, id) in addedScalars where token.count <= scalars.count - i {
                    if scalars[i..<(i + token.count)].elementsEqual(token) {
                        if textStart < i { out.append((.text(""), textStart, i)) }
                        out.append((.added(id), i, i + token.count))
                        i += token.count
                        textStart = i
                        continue outer
                    }
                }
            }
            i += 1
        }
        if textStart < scalars.count { out.append((.text(""), textStart, scalars.count)) }
        return out
    }
}

