// Rank-ordered byte-pair merging over byte-level symbols, with a per-word cache.

/// The BPE model: token strings with ids, and merges ordered by rank.
struct BPEModel: Sendable {
    let vocab: [String: Int]
    let idToToken: [Int: String]
    /// (left id, right id) -> (rank, merged id)
    let merges: [UInt64: (rank: Int, id: Int)]
    /// Byte -> id of its single-symbol token.
    let byteIds: [Int]

    /// Token ids are at most 2^31 - 1: merge keys pack two ids into 64 bits, and a vocabulary
    /// size is one more than its largest id (a file claiming 104444444448 trapped both).
    static let maxTokenId = Int(Int32.max)

    /// Throws when an id of `tokens` is outside 0...maxTokenId.
    static func checkIds(_ tokens: some Sequence<(String, Int)>, source: String) throws {
        for (token, id) in tokens where id < 0 || id > maxTokenId {
            throw TokenizerError.malformed(path: source, line: nil, reason: "token \(token.debugDescription) has id \(id), outside 0...\(maxTokenId)")
        }
    }

    /// `vocabSource` and `source` name where the vocabulary and the merges came from in errors.
    init(vocab: [String: Int], merges: [(String, String)], vocabSource: String, source: String) throws {
        try Self.checkIds(vocab.lazy.map { ($0.key, $0.value) }, source: vocabSource)
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
    /// (leftmost on ties). The symbols form a linked list and the candidate pairs a min-heap keyed
    /// by (rank, position); a merge pushes only its two new neighbouring pairs, and entries made
    /// stale by earlier merges are skipped when popped. A piece of n bytes costs O(n log n), so a
    /// hostile piece (60,000 combining marks in one grapheme) takes milliseconds, not minutes.
    func encode(piece: Substring) -> [Int] {
        var symbols = piece.utf8.map { byteIds[Int($0)] }
        let n = symbols.count
        if n < 2 { return symbols }
        // next[i] / prev[i]: neighbours of the live symbol starting at byte i (-1: none).
        var next = (0..<n).map { $0 + 1 }
        next[n - 1] = -1
        var prev = (0..<n).map { $0 - 1 }
        var alive = [Bool](repeating: true, count: n)
        var heap = PairHeap()
        func push(_ i: Int) {
            let j = next[i]
            guard j >= 0, let m = merges[BPEModel.key(symbols[i], symbols[j])] else { return }
            heap.push(rank: m.rank, position: i)
        }
        for i in 0..<(n - 1) { push(i) }
        while let (rank, i) = heap.pop() {
            // Stale: the left symbol was merged away, or the pair at i is no longer this merge
            // (each rank names exactly one pair, so an equal rank means the same pair).
            guard alive[i], next[i] >= 0, let m = merges[BPEModel.key(symbols[i], symbols[next[i]])], m.rank == rank else { continue }
            let j = next[i]
            symbols[i] = m.id
            alive[j] = false
            next[i] = next[j]
            if next[j] >= 0 { prev[next[j]] = i }
            if prev[i] >= 0 { push(prev[i]) }
            push(i)
        }
        var out: [Int] = []
        var i = 0
        while i >= 0 {
            out.append(symbols[i])
            i = next[i]
        }
        return out
    }
}

/// A binary min-heap of merge candidates, ordered by rank, then by position (leftmost first).
private struct PairHeap {
    private var keys: [UInt64] = []

    mutating func push(rank: Int, position: Int) {
        keys.append(UInt64(UInt32(truncatingIfNeeded: rank)) << 32 | UInt64(UInt32(truncatingIfNeeded: position)))
        var c = keys.count - 1
        while c > 0 {
            let p = (c - 1) / 2
            if keys[p] <= keys[c] { break }
            keys.swapAt(p, c)
            c = p
        }
    }

    mutating func pop() -> (rank: Int, position: Int)? {
        guard let top = keys.first else { return nil }
        let last = keys.removeLast()
        if !keys.isEmpty {
            keys[0] = last
            var p = 0
            while true {
                let l = 2 * p + 1, r = l + 1
                var m = p
                if l < keys.count && keys[l] < keys[m] { m = l }
                if r < keys.count && keys[r] < keys[m] { m = r }
                if m == p { break }
                keys.swapAt(p, m)
                p = m
            }
        }
        return (Int(top >> 32), Int(top & 0xFFFF_FFFF))
    }
}
