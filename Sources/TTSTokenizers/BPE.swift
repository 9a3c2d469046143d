// Rank-ordered byte-pair merging over byte-level symbols, with a per-word cache.

/// The BPE model: token strings with ids, and merges ordered by rank.
struct BPEModel: Sendable {
    let vocab: [String: Int]
    let idToToken: [Int: String]
    /// (left id, right id) -> (rank, merged id)
    let merges: [UInt64: (rank: Int, id: Int)]
    /// Byte -> id of its single-symbol token.
    let byteIds: [Int]

    init(vocab: [String: Int], merges: [(String, String)], source: String) throws {
        self.vocab = vocab
        var idToToken: [Int: String] = [:]
        for (t, id) in vocab { idToToken[id] = t }
        self.idToToken = idToToken
        var byteIds = [Int](repeating: -1, count: 256)
        for b in 0..<256 {
            let symbol = String(ByteLevel.byteToScalar[b])
            guard let id = vocab[symbol] else {
                throw TokenizerError.malformed(path: source, line: nil, reason: "vocabulary lacks the byte symbol for byte \(b)")
            }
            byteIds[b] = id
        }
        self.byteIds = byteIds
        var table: [UInt64: (Int, Int)] = [:]
        for (rank, (a, b)) in merges.enumerated() {
            guard let ia = vocab[a], let ib = vocab[b], let merged = vocab[a + b] else {
                throw TokenizerError.malformed(path: source, line: rank + 2,
                                               reason: "merge \"\(a) \(b)\" uses a token missing from the vocabulary")
            }
            let key = BPEModel.key(ia, ib)
            if table[key] == nil { table[key] = (rank, merged) }
        }
        self.merges = table
    }

    static func key(_ a: Int, _ b: Int) -> UInt64 { UInt64(UInt32(a)) << 32 | UInt64(UInt32(b)) }

    /// Token ids of one pre-tokenized piece: repeatedly merge the adjacent pair of lowest rank
    /// (leftmost on ties). Pair ranks are kept per position and only the neighbours of a merge are
    /// looked up again, so long pieces (runs of CJK letters) stay cheap.
    func encode(piece: Substring) -> [Int] {
        var symbols = piece.utf8.map { byteIds[Int($0)] }
        let n = symbols.count
        if n < 2 { return symbols }
        var ranks = [Int](repeating: Int.max, count: n - 1)
        var merged = [Int](repeating: 0, count: n - 1)
        for i in 0..<(n - 1) {
            if let m = merges[BPEModel.key(symbols[i], symbols[i + 1])] { ranks[i] = m.rank; merged[i] = m.id }
        }
        while symbols.count > 1 {
            var best = -1
            var bestRank = Int.max
            for i in 0..<ranks.count where ranks[i] < bestRank {
                bestRank = ranks[i]
                best = i
            }
            if best < 0 { break }
            symbols[best] = merged[best]
            symbols.remove(at: best + 1)
            ranks.remove(at: best)
            merged.remove(at: best)
            for i in [best - 1, best] where i >= 0 && i < ranks.count {
                if let m = merges[BPEModel.key(symbols[i], symbols[i + 1])] {
                    ranks[i] = m.rank
                    merged[i] = m.id
                } else {
                    ranks[i] = Int.max
                }
            }
        }
        return symbols
    }
}
