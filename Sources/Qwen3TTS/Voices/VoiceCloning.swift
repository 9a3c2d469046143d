// Voice cloning from reference audio: audio -> 24 kHz -> log-mel -> speaker encoder -> x-vector,
// which a Base model's prompt takes as its speaker ("x-vector only"); and, for in-context
// cloning, audio -> speech tokenizer encoder -> reference codes that the prompt continues from.
import Foundation
import TTSRuntime

extension Qwen3TTSModel {
    /// Longest reference audio accepted, in seconds (the official examples use 3-20 s).
    public static let maximumReferenceSeconds = 60.0
    /// Most silence that may be appended to a reference, in seconds.
    public static let maximumAppendedSilence = 5.0
    /// Most reference frames an in-context voice may hold: the longest reference plus the most
    /// appended silence, at 12.5 frames per second (813).
    public static let maximumReferenceFrames = Int(((maximumReferenceSeconds + maximumAppendedSilence) * 12.5).rounded(.up))

    /// The x-vector of `audio` (any sample rate; resampled to 24 kHz). Throws for models without
    /// a speaker encoder (not Base) and for audio that is empty, silent, too long or too short.
    public func speakerEmbedding(for audio: AudioBuffer) throws -> [Float] {
        guard let encoder = speakerEncoder else {
            throw SynthesisError.invalidOption(name: "reference audio", reason: "needs a Base model; this is \(configuration.modelKind.rawValue)")
        }
        let checked = try audio.validatedForReference(maxSeconds: Self.maximumReferenceSeconds)
        let mel = MelSpectrogram.speakerEncoder
        let samples = Resampler.resample(checked.samples, from: checked.sampleRate, to: mel.sampleRate)
        let (values, frames) = mel(samples)
        return try encoder.run(mel: values, frames: frames, pool: pool).xvector
    }

    /// The reference codes of `audio` (any sample rate; resampled to 24 kHz): ceil(samples / 1920)
    /// frames of 16 codes, as the official `speech_tokenizer.encode` gives them.
    public func referenceCodes(for audio: AudioBuffer) throws -> [[Int]] {
        guard let encoder = speechEncoder else {
            throw SynthesisError.invalidOption(name: "in-context cloning",
                                               reason: "needs a Base model with a speech tokenizer encoder; this is \(configuration.modelKind.rawValue)")
        }
        let checked = try audio.validatedForReference(maxSeconds: Self.maximumReferenceSeconds)
        let samples = Resampler.resample(checked.samples, from: checked.sampleRate, to: encoder.config.samplingRate)
        return encoder.encode(samples, pool: pool)
    }
}
