// Reusable cloned voices: a small JSON file holding the x-vector and the identity of the model
// that made it, so a voice is cloned once and used everywhere (CLI, library, daemon).
import Foundation
import TTSRuntime

/// A `.voice` file (format "qwen3-tts-voice", version 1).
public struct VoiceFile: Codable, Sendable, Equatable {
    public var format = "qwen3-tts-voice"
    public var version = 1
    public var name: String
    /// "xvector": the speaker slot of the prompt is this vector (x-vector-only cloning).
    public var mode = "xvector"
    public var xvector: [Float]
    public var model: ModelIdentity
    /// Seconds of reference audio the voice was made from.
    public var referenceSeconds: Double

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
        case format, version, name, mode, xvector, model
        case referenceSeconds = "reference_seconds"
    }

    public func encoded() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }

    /// Parses a voice file; errors say what is wrong with it.
    public static func decode(_ data: Data, source: String) throws -> VoiceFile {
        let v: VoiceFile
        do {
            v = try JSONDecoder().decode(VoiceFile.self, from: data)
        } catch {
            throw VoiceError.malformed(source, "\(error)")
        }
        guard v.format == "qwen3-tts-voice" else { throw VoiceError.malformed(source, "format is \"\(v.format)\", not qwen3-tts-voice") }
        guard v.version == 1 else { throw VoiceError.malformed(source, "version \(v.version) is not supported (1 is)") }
        guard v.mode == "xvector" else { throw VoiceError.malformed(source, "mode \"\(v.mode)\" is not supported (xvector is)") }
        guard v.xvector.count == v.model.hidden, v.xvector.allSatisfy(\.isFinite) else {
            throw VoiceError.malformed(source, "the x-vector has \(v.xvector.count) values, the file says \(v.model.hidden)")
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

    /// Clones a voice from reference audio into a voice file.
    public func makeVoice(name: String, audio: AudioBuffer) throws -> VoiceFile {
        let xvector = try speakerEmbedding(for: audio)
        guard let identity = voiceIdentity else { throw SynthesisError.voiceRequired(model: configuration.modelKind.rawValue) }
        return VoiceFile(name: name, xvector: xvector, model: identity, referenceSeconds: audio.seconds)
    }

    /// The x-vector of a voice file, if it was made by this model.
    public func speakerEmbedding(from voice: VoiceFile, source: String) throws -> [Float] {
        guard let identity = voiceIdentity else {
            throw SynthesisError.invalidOption(name: "voice file", reason: "needs a Base model; this is \(configuration.modelKind.rawValue)")
        }
        func describe(_ m: VoiceFile.ModelIdentity) -> String { "\(m.kind) \(m.size), width \(m.hidden), speaker encoder \(m.speakerEncoder)" }
        guard voice.model == identity else { throw VoiceError.otherModel(source, made: describe(voice.model), loaded: describe(identity)) }
        return voice.xvector
    }
}

extension SpeakerEncoder {
    /// FNV-1a (64-bit) over the final projection's weights and bias, in hex.
    static func fingerprint(_ fc: ReflectConv1d) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in fc.taps + fc.bias {
            var bits = v.bitPattern
            for _ in 0..<4 {
                h = (h ^ UInt64(bits & 0xFF)) &* 0x0000_0100_0000_01B3
                bits >>= 8
            }
        }
        return String(h, radix: 16)
    }
}
