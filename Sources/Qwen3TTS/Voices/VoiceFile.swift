// Reusable cloned voices: a small JSON file holding the x-vector (and, for in-context cloning, the
// reference codes and transcript) and the identity of the model that made it, so a voice is
// cloned once and used everywhere (CLI, library, daemon).
import Foundation
import TTSRuntime

/// A `.voice` file (format "qwen3-tts-voice", version 1).
public struct VoiceFile: Codable, Sendable, Equatable {
    public var format = "qwen3-tts-voice"
    public var version = 1
    public var name: String
    /// "xvector": the speaker slot of the prompt is this vector (x-vector-only cloning).
    /// "icl": in-context cloning, the x-vector plus `reference` (codes and transcript).
    public var mode = "xvector"
    public var xvector: [Float]
    public var reference: VoiceReference?
    public var model: ModelIdentity
    /// Seconds of reference audio the voice was made from (without appended silence).
    public var referenceSeconds: Double
    /// Seconds of silence appended to the reference before cloning.
    public var appendedSilence: Double = 0

    public static let modes = ["xvector", "icl"]

    public init(name: String, xvector: [Float], reference: VoiceReference? = nil, model: ModelIdentity,
                referenceSeconds: Double, appendedSilence: Double = 0) {
        self.name = name
        self.xvector = xvector
        self.reference = reference
        mode = reference == nil ? "xvector" : "icl"
        self.model = model
        self.referenceSeconds = referenceSeconds
        self.appendedSilence = appendedSilence
    }

    public struct ModelIdentity: Codable, Sendable, Equatable {
        public var kind: String
        public var size: String
        public var hidden: Int
        /// FNV-1a (64-bit, hex) over the speaker encoder's final projection: different checkpoints
        /// give different x-vector spaces even at the same width.
        public var speakerEncoder: String

        enum CodingKeys: String, CodingKey {
            case kind, size, hidden
            case speakerEncoder = "speaker_encoder"
        }
    }

    enum CodingKeys: String, CodingKey {
        case format, version, name, mode, xvector, reference, model
        case referenceSeconds = "reference_seconds", appendedSilence = "appended_silence"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(String.self, forKey: .format)
        version = try c.decode(Int.self, forKey: .version)
        name = try c.decode(String.self, forKey: .name)
        mode = try c.decode(String.self, forKey: .mode)
        xvector = try c.decode([Float].self, forKey: .xvector)
        reference = try c.decodeIfPresent(VoiceReference.self, forKey: .reference)
        model = try c.decode(ModelIdentity.self, forKey: .model)
        referenceSeconds = try c.decode(Double.self, forKey: .referenceSeconds)
        appendedSilence = try c.decodeIfPresent(Double.self, forKey: .appendedSilence) ?? 0
    }

    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }

    /// Parses a voice file; errors say what is wrong with it.
    /// Largest voice file read: a 65 s in-context voice is about 300 KB of JSON.
    public static let maximumFileBytes = 4 << 20

    /// Memory the voice holds (its x-vector, reference codes and transcript), for caches
    /// bounded in bytes.
    public var approximateBytes: Int {
        xvector.count * MemoryLayout<Float>.size + (reference.map { $0.codes.count * ($0.codes.first?.count ?? 0) * MemoryLayout<Int>.size + $0.text.utf8.count } ?? 0) + 256
    }

    public static func decode(_ data: Data, source: String) throws -> VoiceFile {
        guard data.count <= maximumFileBytes else {
            throw VoiceError.malformed(source, "it is \(data.count) bytes; a voice file is at most \(maximumFileBytes)")
        }
        let v: VoiceFile
        do {
            v = try JSONDecoder().decode(VoiceFile.self, from: data)
        } catch {
            throw VoiceError.malformed(source, "\(error)")
        }
        guard v.format == "qwen3-tts-voice" else { throw VoiceError.malformed(source, "format is \"\(v.format)\", not qwen3-tts-voice") }
        guard v.version == 1 else { throw VoiceError.malformed(source, "version \(v.version) is not supported (1 is)") }
        guard modes.contains(v.mode) else {
            throw VoiceError.malformed(source, "mode \"\(v.mode)\" is not supported (\(modes.joined(separator: ", ")) are)")
        }
        guard v.xvector.count == v.model.hidden, v.xvector.allSatisfy(\.isFinite) else {
            throw VoiceError.malformed(source, "the x-vector has \(v.xvector.count) values, the file says \(v.model.hidden)")
        }
        switch (v.mode, v.reference) {
        case ("icl", nil): throw VoiceError.malformed(source, "mode icl needs a reference (codes and text)")
        case ("xvector", .some): throw VoiceError.malformed(source, "mode xvector has no reference; say mode icl")
        case ("icl", let r?):
            if r.codes.isEmpty || r.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw VoiceError.malformed(source, "the reference needs codes and a transcript")
            }
            if r.codes.count > Qwen3TTSModel.maximumReferenceFrames {
                throw VoiceError.malformed(source, "the reference has \(r.codes.count) frames; at most \(Qwen3TTSModel.maximumReferenceFrames) (65 s)")
            }
            if r.text.utf8.count > TextLimits.maximumTranscriptBytes {
                throw VoiceError.malformed(source, "the transcript is \(r.text.utf8.count) bytes; at most \(TextLimits.maximumTranscriptBytes)")
            }
        default: break
        }
        return v
    }
}

public enum VoiceError: Error, Sendable, Equatable, CustomStringConvertible {
    case malformed(String, String)
    case otherModel(String, made: String, loaded: String)

    public var description: String {
        switch self {
        case .malformed(let source, let why): return "\(source) is not a usable voice file: \(why)"
        case .otherModel(let source, let made, let loaded):
            return "\(source) was made with another model (\(made)); this model is \(loaded). Create the voice again with this model."
        }
    }
}

extension Qwen3TTSModel {
    /// This model's identity for voice files (nil without a speaker encoder).
    public var voiceIdentity: VoiceFile.ModelIdentity? {
        guard let encoder = speakerEncoder else { return nil }
        return VoiceFile.ModelIdentity(kind: configuration.modelKind.rawValue, size: configuration.modelSize,
                                       hidden: talker.hidden, speakerEncoder: encoder.fingerprint)
    }

    /// Clones a voice from reference audio into a voice file: x-vector only, or in context when
    /// `transcript` (what is said in the audio) is given. `appendSilence` seconds of silence are
    /// added to the end of the reference first (peers report ~0.5 s stops run-on endings).
    public func makeVoice(name: String, audio: AudioBuffer, transcript: String? = nil, appendSilence: Double = 0) throws -> VoiceFile {
        guard (0...Self.maximumAppendedSilence).contains(appendSilence) else {
            throw SynthesisError.invalidOption(name: "appended silence", reason: "must be 0 to 5 seconds, not \(appendSilence)")
        }
        if let transcript { try TextLimits.checkTranscript(transcript, tokenizer: tokenizer) }
        // Both encoders take 24 kHz: check and resample once here, then neither has to.
        let checked = try audio.validatedForReference(maxSeconds: Self.maximumReferenceSeconds)
        let rate = MelSpectrogram.speakerEncoder.sampleRate
        let resampled = AudioBuffer(samples: Resampler.resample(checked.samples, from: checked.sampleRate, to: rate), sampleRate: rate)
        let reference = resampled.appendingSilence(seconds: appendSilence)
        let xvector = try speakerEmbedding(for: reference)  // refuses models that cannot clone
        guard let identity = voiceIdentity else { throw SynthesisError.voiceRequired(model: configuration.modelKind.rawValue) }
        var inContext: VoiceReference?
        if let transcript {
            guard !transcript.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw SynthesisError.invalidOption(name: "reference text", reason: "is empty; give the transcript of the reference audio")
            }
            inContext = VoiceReference(codes: try referenceCodes(for: reference), text: transcript)
        }
        return VoiceFile(name: name, xvector: xvector, reference: inContext, model: identity,
                         referenceSeconds: audio.seconds, appendedSilence: appendSilence)
    }

    /// Checks that `voice` was made by this model (throws VoiceError.otherModel, naming both).
    public func check(_ voice: VoiceFile, source: String) throws {
        guard let identity = voiceIdentity else {
            throw SynthesisError.invalidOption(name: "voice file", reason: "needs a Base model; this is \(configuration.modelKind.rawValue)")
        }
        func describe(_ m: VoiceFile.ModelIdentity) -> String { "\(m.kind) \(m.size), width \(m.hidden), speaker encoder \(m.speakerEncoder)" }
        guard voice.model == identity else { throw VoiceError.otherModel(source, made: describe(voice.model), loaded: describe(identity)) }
        if let reference = voice.reference {
            do {
                try validateCodes(reference.codes)
                try TextLimits.checkTranscript(reference.text, tokenizer: tokenizer)
            } catch let e as SynthesisError {
                throw VoiceError.malformed(source, "its reference: \(e)")
            }
        }
    }
}

extension SynthesisRequest {
    /// Speaks in a cloned voice: its x-vector, and its reference when it clones in context.
    public mutating func setVoice(_ voice: VoiceFile) {
        speakerEmbedding = voice.xvector
        reference = voice.reference
    }
}
