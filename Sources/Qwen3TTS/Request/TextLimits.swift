// Bounds on the text of a request, in the units that bound its work.
import TTSTokenizers

/// What one request may carry. Characters are what people count, but work follows bytes (the
/// tokenizer's input) and tokens (prefill rows, and the frame cap of 60 + 10 per token), and one
/// character can hold any number of combining marks. So each text is bounded in bytes and, where
/// it enters the prompt whole, in tokens; long text is cut into utterances bounded in both
/// characters and bytes (TextSplitter), so no prefill grows with the request.
public enum TextLimits {
    /// A request's text: 100,000 characters (a short book chapter), and 4 bytes per character
    /// (the longest UTF-8 scalar), so every ordinary text within the character limit fits.
    public static let maximumTextCharacters = 100_000
    public static let maximumTextBytes = 400_000
    /// An utterance holds at most this many UTF-8 bytes per character of its character limit
    /// (250 characters: 1,000 bytes, so at most 1,000 text tokens in its prompt).
    public static let segmentBytesPerCharacter = 4
    /// An instruction (VoiceDesign, 1.7B CustomVoice) and an in-context clone's transcript enter
    /// the prefill whole. A voice description or the transcript of at most 60 s of reference audio
    /// is a few hundred tokens; 1,024 tokens (about 235 MB of talker KV state at f32, which the
    /// prompt cache may keep) is generous for both and bounds the prefill.
    public static let maximumInstructBytes = 16_384
    public static let maximumInstructTokens = 1_024
    public static let maximumTranscriptBytes = 16_384
    public static let maximumTranscriptTokens = 1_024

    /// Throws `SynthesisError.tooLong` when `length` is over `limit` of `unit`.
    static func check(_ what: String, _ length: Int, _ unit: String, limit: Int) throws {
        if length > limit { throw SynthesisError.tooLong(what: what, length: length, unit: unit, limit: limit) }
    }

    /// An instruction within its bytes, then (tokenizing only bounded text) its tokens.
    public static func checkInstruction(_ text: String, tokenizer: BPETokenizer) throws {
        try check("instruction", text.utf8.count, "bytes", limit: maximumInstructBytes)
        try check("instruction", tokenizer.encode(text).count, "tokens", limit: maximumInstructTokens)
    }

    /// An in-context clone's transcript within its bytes and tokens.
    public static func checkTranscript(_ text: String, tokenizer: BPETokenizer) throws {
        try check("reference text", text.utf8.count, "bytes", limit: maximumTranscriptBytes)
        try check("reference text", tokenizer.encode(text).count, "tokens", limit: maximumTranscriptTokens)
    }
}
