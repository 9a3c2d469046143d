// A request checked once against a model: what prompt building and the generators accept.
import Foundation

/// A request that `Qwen3TTSModel.validate` accepted: its options are within the model's limits,
/// its voice, language, instruction and reference fit the model, its seed is fixed and its text
/// is split into the utterances it is spoken as. Prompt building and the generators
/// (`BatchGenerator`, `BatchStreamer`, `BatchEngine`) take it as it is, without checking again.
/// It belongs to the model that validated it.
public struct ValidatedRequest: Sendable {
    public let request: SynthesisRequest
    /// The options as given, with `seed` set to the one the request runs with.
    public let options: GenerationOptions
    /// The seed of the first utterance (the request's, or one drawn at validation); utterance i
    /// runs with seed + i.
    public let seed: UInt64
    /// The texts of the utterances, in order: one, unless the text is longer than the segment
    /// length it was validated with (then it is cut at sentence boundaries, TextSplitter).
    public let texts: [String]
    /// Which model validated it.
    let model: ObjectIdentifier

    init(request: SynthesisRequest, options: GenerationOptions, seed: UInt64, texts: [String], model: ObjectIdentifier) {
        var options = options
        options.seed = seed
        self.request = request
        self.options = options
        self.seed = seed
        self.texts = texts
        self.model = model
    }

    /// Utterance `i`: the request with that utterance's text, and the options with its seed.
    public func utterance(_ i: Int) -> (request: SynthesisRequest, options: GenerationOptions) {
        var r = request
        r.text = texts[i]
        var o = options
        o.seed = seed &+ UInt64(i)
        return (r, o)
    }

    /// Every utterance, in order.
    public var utterances: [(request: SynthesisRequest, options: GenerationOptions)] { texts.indices.map(utterance) }
}

extension Qwen3TTSModel {
    /// Checks a request against this model once: the options (the frame cap within the model's),
    /// the text's length, the voice, language, instruction and in-context reference. Text longer
    /// than `segmentCharacters` is split at sentence boundaries into utterances of at most that
    /// many characters (and 4 bytes per character); nil keeps the whole text as one utterance, as
    /// given. A missing seed is drawn here. Throws `SynthesisError` naming what is wrong.
    @discardableResult
    public func validate(_ request: SynthesisRequest, options: GenerationOptions = .init(),
                         segmentCharacters: Int? = StreamOptions().maxSegmentCharacters) throws -> ValidatedRequest {
        try options.validate(for: generationDefaults)
        try TextLimits.check("text", request.text.utf8.count, "bytes", limit: TextLimits.maximumTextBytes)
        try TextLimits.check("text", request.text.count, "characters", limit: TextLimits.maximumTextCharacters)
        try promptBuilder.validate(request)
        let texts: [String]
        if let segmentCharacters {
            guard segmentCharacters >= 1 else {
                throw SynthesisError.invalidOption(name: "segment length", reason: "must be at least 1 character")
            }
            let limit = min(segmentCharacters, TextLimits.maximumTextCharacters)
            texts = TextSplitter.split(request.text, maxCharacters: limit, maxBytes: limit * TextLimits.segmentBytesPerCharacter)
        } else {
            texts = [request.text]
        }
        if texts.isEmpty { throw SynthesisError.emptyText }
        return ValidatedRequest(request: request, options: options, seed: options.seedOrDrawn(), texts: texts,
                                model: ObjectIdentifier(self))
    }

    /// Throws unless `validated` was validated by this model.
    func checkOwnership(_ validated: ValidatedRequest) throws {
        guard validated.model == ObjectIdentifier(self) else {
            throw SynthesisError.invalidOption(name: "request", reason: "was validated for another model")
        }
    }

    /// The prompt of a whole request as one utterance (tests and benchmarks).
    func prompt(for request: SynthesisRequest) throws -> Prompt {
        try promptBuilder.build(validate(request, segmentCharacters: nil), utterance: 0)
    }
}
