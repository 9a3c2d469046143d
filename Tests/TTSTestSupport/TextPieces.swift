// Text cut into random pieces, as an LLM's answer or a network delivers it: the chunking that the
// text-streaming tests (tokenizer, splitter, engine, server) must all be indifferent to.

/// `text` cut between Unicode scalars into pieces of 1...`longest` scalars, the same cut for the
/// same seed (xorshift64, so that no test target needs the runtime's RNG for it).
public func randomPieces(_ text: String, seed: UInt64, longest: Int = 6) -> [String] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    let scalars = Array(text.unicodeScalars)
    var pieces: [String] = [], i = 0
    while i < scalars.count {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        let n = min(Int(state % UInt64(longest)) + 1, scalars.count - i)
        pieces.append(String(String.UnicodeScalarView(scalars[i..<(i + n)])))
        i += n
    }
    return pieces
}
