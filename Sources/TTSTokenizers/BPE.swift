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

    /// Token ids of one pre-tokenized piece.
    func encode(piece: Substring) -> [Int] {
        var symbols = piece.utf8.map { byteIds[Int($0)] }
        if symbols.count < 2 { return symbols }
        while true {
            var bestRank = Int.max
            var bestIndex = -1
            var bestId = 0
            for i in 0..<(symbols.count - 1) {
                if let m = merges[BPEModel.key(symbols[i], symbols[i + 1])], m.rank < bestRank {
                    bestRank = m.rank
                    bestIndex = i
                    bestId = m.id
                }
            }
            if bestIndex < 0 { break }
            // Merge every occurrence of this pair, left to right.
            let left = symbols[bestIndex], right = symbols[bestIndex + 1]
            var merged: [Int] = []
            merged.reserveCapacity(symbols.count)
            var i = 0
            while i < symbols.count {
                if i + 1 < symbols.count && symbols[i] == left && symbols[i + 1] == right {
                    merged.append(bestId)
                    i += 2
                } else {
                    merged.append(symbols[i])
                    i += 1
                }
            }
            symbols = merged
            if symbols.count < 2 { break }
        }
        return symbols
    }
}
