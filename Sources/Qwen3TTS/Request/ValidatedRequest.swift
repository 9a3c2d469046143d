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
    /// The segment length its text is cut at when the text streams in (`validateForTextStream`;
    /// `texts` is then empty), nil when the text was given whole.
    let streamingSegmentCharacters: Int?

    init(request: SynthesisRequest, options: GenerationOptions, seed: UInt64, texts: [String], model: ObjectIdentifier,
         streamingSegmentCharacters: Int? = nil) {
        var options = options
        options.seed = seed
        self.request = request
        self.options = options
        self.seed = seed
        self.texts = texts
        self.model = model
        self.streamingSegmentCharacters = streamingSegmentCharacters
    }

    /// Utterance `i`: the request with that utterance's text, and the options with its seed.
    public func utterance(_ i: Int) -> (request: SynthesisRequest, options: GenerationOptions) {
        var r = request
        r.text = texts[i]
        return (r, utteranceOptions(i))
    }

    /// The options of utterance `i` (its seed: the first's + i).
    func utteranceOptions(_ i: Int) -> GenerationOptions {
        var o = options
        o.seed = seed &+ UInt64(i)
        return o
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

    /// Checks a request whose text will stream in (`TextInput`; its `text` is ignored) as
    /// `validate` does, for the streaming text layout: the text enters one token per frame, so
    /// generation can start with the first words. Its utterances are cut at `segmentCharacters`
    /// as `validate` cuts whole text. In-context clones (whose prompt holds the text's first
    /// tokens beside the reference) and the non-streaming layout are refused.
    public func validateForTextStream(_ request: SynthesisRequest, options: GenerationOptions = .init(),
                                      segmentCharacters: Int = StreamOptions().maxSegmentCharacters) throws -> ValidatedRequest {
        try options.validate(for: generationDefaults)
        guard segmentCharacters >= 1 else {
            throw SynthesisError.invalidOption(name: "segment length", reason: "must be at least 1 character")
        }
        if request.textLayout == .nonStreaming {
            throw SynthesisError.invalidOption(name: "text layout", reason: "must be streaming when the text streams in")
        }
        if request.reference != nil {
            throw SynthesisError.invalidOption(name: "voice", reason: "is an in-context clone, which streaming text does not support yet; use its x-vector (voice create --xvector-only)")
        }
        var checked = request
        checked.text = "-"  // the text is checked as it arrives (TextInput)
        try promptBuilder.validate(checked)
        var streaming = request
        streaming.text = ""
        streaming.textLayout = .streaming
        return ValidatedRequest(request: streaming, options: options, seed: options.seedOrDrawn(), texts: [], model: ObjectIdentifier(self),
                                streamingSegmentCharacters: min(segmentCharacters, TextLimits.maximumTextCharacters))
    }

    /// A new text input for a request validated for text streaming.
    public func makeTextInput(for validated: ValidatedRequest) throws -> TextInput {
        guard let segment = validated.streamingSegmentCharacters else {
            throw SynthesisError.invalidOption(name: "request", reason: "was not validated for streaming text (validateForTextStream)")
        }
        return TextInput(tokenizer: tokenizer, segmentCharacters: segment)
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
