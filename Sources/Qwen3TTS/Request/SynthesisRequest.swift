// What to say and how: the per-request inputs of synthesis.

/// Text layout of the prompt (spec §6.3). Only the prompt changes; audio is produced the same way.
public enum TextLayout: String, Sendable, CaseIterable {
    /// Text enters one token per generated frame ("dual track"); the official default for Base.
    case streaming
    /// All text is in the prefill; the official default for CustomVoice and VoiceDesign.
    case nonStreaming = "non-streaming"
}

public struct SynthesisRequest: Sendable, Equatable {
    public var text: String
    /// A language name from the model's config ("english", "chinese", ...) or "auto".
    public var language: String
    /// A CustomVoice speaker name; nil for the plain no-speaker layout.
    public var speaker: String?
    /// Instruction text (VoiceDesign; 1.7B CustomVoice).
    public var instruct: String?
    /// nil: the model's default layout.
    public var textLayout: TextLayout?
    /// Base models: the voice as an x-vector (`Qwen3TTSModel.speakerEmbedding(for:)`), which takes
    /// the speaker slot of the prompt ("x-vector only" cloning).
    public var speakerEmbedding: [Float]?
    /// Base models, in-context cloning: the reference audio's codes and transcript. Generation
    /// continues the reference (which needs `speakerEmbedding` too, as in the official code).
    public var reference: VoiceReference?

    public init(text: String, language: String = "auto", speaker: String? = nil, instruct: String? = nil, textLayout: TextLayout? = nil) {
        self.text = text
        self.language = language
        self.speaker = speaker
        self.instruct = instruct
        self.textLayout = textLayout
    }
}

/// The reference of in-context cloning: codes of the reference audio (`Qwen3TTSModel
/// .referenceCodes(for:)`, frames of 16) and what is said in it.
public struct VoiceReference: Sendable, Equatable, Codable {
    public var codes: [[Int]]
    public var text: String

    public init(codes: [[Int]], text: String) {
        self.codes = codes
        self.text = text
    }
}

/// Errors in a request: each names what was wrong and, where it helps, what is valid.
public enum SynthesisError: Error, Sendable, CustomStringConvertible, Equatable {
    case emptyText
    /// `what` ("text", "instruction", "reference text", ...) is `length` `unit`s long (characters,
    /// bytes, tokens, frames); the limit is `limit`.
    case tooLong(what: String, length: Int, unit: String, limit: Int)
    case unknownLanguage(String, valid: [String])
    case unknownSpeaker(String, valid: [String])
    case speakerNotSupported(model: String)
    case instructNotSupported(model: String)
    case voiceRequired(model: String)
    case invalidOption(name: String, reason: String)
    case invalidCodes(reason: String)

    public var description: String {
        switch self {
        case .emptyText:
            return "the text is empty"
        case .tooLong(let what, let length, let unit, let limit):
            return "the \(what) is \(length) \(unit) long; the limit is \(limit) \(unit)"
        case .unknownLanguage(let l, let valid):
            return "unknown language \"\(l)\"; valid: \(valid.joined(separator: ", "))"
        case .unknownSpeaker(let s, let valid):
            return valid.isEmpty ? "unknown speaker \"\(s)\"; this model has no named speakers"
                : "unknown speaker \"\(s)\"; valid: \(valid.joined(separator: ", "))"
        case .speakerNotSupported(let model):
            return "\(model) models have no named speakers (use --instruct to describe the voice)"
        case .instructNotSupported(let model):
            return "\(model) models do not take instructions"
        case .voiceRequired(let model):
            return "\(model) models speak in a cloned voice: give reference audio (an x-vector)"
        case .invalidOption(let name, let reason):
            return "\(name) \(reason)"
        case .invalidCodes(let reason):
            return "invalid codes: \(reason)"
        }
    }
}
