// Voices mixed by weight: "a(2)+b(1)" speaks with the weighted mean of the voices' embeddings.

/// A parsed voice blend: names with positive weights, in the order given.
public struct VoiceBlend: Sendable, Equatable {
    public var parts: [(name: String, weight: Float)]

    public static func == (a: VoiceBlend, b: VoiceBlend) -> Bool {
        a.parts.map(\.name) == b.parts.map(\.name) && a.parts.map(\.weight) == b.parts.map(\.weight)
    }

    /// Most voices one blend may mix.
    public static let maximumParts = 8

    /// Parses "name", "name(w)" and sums of them joined by "+" (spaces allowed around names and
    /// weights). Returns nil for a plain name (no "+" and no weight): that is not a blend.
    /// Throws for a malformed blend, naming what is wrong.
    public static func parse(_ text: String) throws -> VoiceBlend? {
        guard text.contains("+") || text.contains("(") else { return nil }
        var parts: [(String, Float)] = []
        for term in text.split(separator: "+", omittingEmptySubsequences: false) {
            let t = term.trimmingCharacters(in: .whitespaces)
            var name = t, weight: Float = 1
            if let open = t.firstIndex(of: "(") {
                guard t.hasSuffix(")") else { throw invalid("'\(t)' must end with ')' after its weight") }
                name = t[..<open].trimmingCharacters(in: .whitespaces)
                let number = t[t.index(after: open)..<t.index(before: t.endIndex)].trimmingCharacters(in: .whitespaces)
                guard let w = Float(number), w.isFinite, w > 0, w <= 1000 else {
                    throw invalid("the weight of '\(name)' must be a number in (0, 1000], not '\(number)'")
                }
                weight = w
            }
            guard !name.isEmpty, !name.contains("("), !name.contains(")") else { throw invalid("'\(t)' names no voice") }
            parts.append((name, weight))
        }
        guard parts.count <= maximumParts else { throw invalid("mixes \(parts.count) voices; at most \(maximumParts)") }
        let names = parts.map { $0.0.lowercased() }
        if let repeated = names.first(where: { n in names.filter { $0 == n }.count > 1 }) {
            throw invalid("names '\(repeated)' twice; give it one weight")
        }
        return VoiceBlend(parts: parts)
    }

    static func invalid(_ reason: String) -> SynthesisError { .invalidOption(name: "voice blend", reason: reason) }

    /// The weighted mean of `vectors` (one per part, in order).
    public func mix(_ vectors: [[Float]]) -> [Float] {
        let total = parts.reduce(0) { $0 + $1.weight }
        var out = [Float](repeating: 0, count: vectors.first?.count ?? 0)
        for (part, v) in zip(parts, vectors) {
            for i in out.indices { out[i] += part.weight / total * v[i] }
        }
        return out
    }
}

extension Qwen3TTSModel {
    /// A CustomVoice speaker's embedding: its row of the talker's codec embedding, which is
    /// what the prompt's speaker slot holds for that speaker.
    public func speakerVector(named name: String) throws -> [Float] {
        guard configuration.modelKind == .customVoice else { throw SynthesisError.speakerNotSupported(model: configuration.modelKind.rawValue) }
        guard let id = configuration.talker.speakerIds[name.lowercased()] else {
            throw SynthesisError.unknownSpeaker(name, valid: configuration.speakers)
        }
        var row = [Float](repeating: 0, count: talker.hidden)
        row.withUnsafeMutableBufferPointer { talker.addCodec(id, into: $0.baseAddress!) }
        return row
    }

    /// The speaker slot for a blend of this CustomVoice model's speakers.
    public func blendSpeakers(_ blend: VoiceBlend) throws -> [Float] {
        blend.mix(try blend.parts.map { try speakerVector(named: $0.name) })
    }
}
