// Readers for vocab.json, merges.txt, tokenizer_config.json and tokenizer.json.
import Foundation

enum TokenizerFiles {
    static func readJSON(_ path: String) throws -> Any {
        guard let data = FileManager.default.contents(atPath: path) else { throw TokenizerError.missingFile(path: path) }
        do {
            return try JSONSerialization.jsonObject(with: data)
        } catch {
            throw TokenizerError.malformed(path: path, line: nil, reason: "not valid JSON (\(error.localizedDescription))")
        }
    }

    static func readVocab(_ path: String) throws -> [String: Int] {
        guard let data = FileManager.default.contents(atPath: path) else { throw TokenizerError.missingFile(path: path) }
        do {
            return try VocabParser.parse([UInt8](data))
        } catch {
            throw TokenizerError.malformed(path: path, line: error.line, reason: error.reason)
        }
    }

    static func vocab(from object: [String: Any], path: String) throws -> [String: Int] {
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(object.count)
        for (token, value) in object {
            guard let id = (value as? NSNumber)?.intValue, id >= 0 else {
                throw TokenizerError.malformed(path: path, line: nil, reason: "token \(token.debugDescription) has no valid id")
            }
            vocab[token] = id
        }
        return vocab
    }

    /// merges.txt: an optional "#version" line, then "left right" per line, in rank order.
    static func readMerges(_ path: String) throws -> [(String, String)] {
        guard let data = FileManager.default.contents(atPath: path) else { throw TokenizerError.missingFile(path: path) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TokenizerError.malformed(path: path, line: nil, reason: "not UTF-8 text")
        }
        return try parseMerges(text, path: path)
    }

    static func parseMerges(_ text: String, path: String) throws -> [(String, String)] {
        var merges: [(String, String)] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.isEmpty || (lineNumber == 1 && line.hasPrefix("#version")) { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw TokenizerError.malformed(path: path, line: lineNumber, reason: "expected two tokens separated by one space, got \(String(line).debugDescription)")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        return merges
    }

    /// Added tokens from tokenizer_config.json's added_tokens_decoder (absent file: none).
    static func readAddedTokens(config path: String) throws -> [(String, Int)] {
        guard FileManager.default.fileExists(atPath: path), let data = FileManager.default.contents(atPath: path) else { return [] }
        return try addedTokens(from: data, path: path)
    }

    static func addedTokens(from data: Data, path: String) throws -> [(String, Int)] {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw TokenizerError.malformed(path: path, line: nil, reason: "not valid JSON")
        }
        guard let object = parsed as? [String: Any] else {
            throw TokenizerError.malformed(path: path, line: nil, reason: "expected a JSON object")
        }
        guard let decoder = object["added_tokens_decoder"] else { return [] }
        guard let table = decoder as? [String: Any] else {
            throw TokenizerError.malformed(path: path, line: nil, reason: "added_tokens_decoder is not an object")
        }
        return try table.map { key, value in
            guard let id = Int(key), let entry = value as? [String: Any], let content = entry["content"] as? String, !content.isEmpty else {
                throw TokenizerError.malformed(path: path, line: nil, reason: "added token \(key) lacks an integer id or content")
            }
            return (content, id)
        }
    }

    static func readTokenizerJSON(_ path: String) throws -> ([String: Int], [(String, String)], [(String, Int)]) {
        guard let root = try readJSON(path) as? [String: Any], let model = root["model"] as? [String: Any],
              let vocabObject = model["vocab"] as? [String: Any], let mergeList = model["merges"] as? [Any]
        else { throw TokenizerError.malformed(path: path, line: nil, reason: "expected model.vocab and model.merges") }
        let vocab = try vocab(from: vocabObject, path: path)
        let merges: [(String, String)] = try mergeList.enumerated().map { i, m in
            if let s = m as? String {
                let p = s.split(separator: " ", omittingEmptySubsequences: false)
                if p.count == 2 { return (String(p[0]), String(p[1])) }
            } else if let pair = m as? [String], pair.count == 2 {
                return (pair[0], pair[1])
            }
            throw TokenizerError.malformed(path: path, line: nil, reason: "merge #\(i) is not a pair")
        }
        var added: [(String, Int)] = []
        for item in root["added_tokens"] as? [[String: Any]] ?? [] {
            guard let id = (item["id"] as? NSNumber)?.intValue, let content = item["content"] as? String else {
                throw TokenizerError.malformed(path: path, line: nil, reason: "added_tokens entry lacks id or content")
            }
            added.append((content, id))
        }
        return (vocab, merges, added)
    }
}
