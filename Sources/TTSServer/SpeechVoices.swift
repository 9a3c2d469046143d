// Which voice a speech request speaks with: a CustomVoice speaker, a cloned voice from the
// library, a blend of either ("a(2)+b(1)"), or a clone made from the request's own reference
// audio (vLLM-Omni's ref_audio), kept in the host's clone cache so a repeated reference is cloned once.
import Foundation
import Qwen3TTS
import TTSRuntime

/// A request's reference audio, decoded and identified, waiting to be cloned (or found cloned).
struct ReferenceClone {
    let audio: AudioBuffer
    let transcript: String?
    let key: String

    init(_ r: SpeechRequest, bytes: [UInt8]) throws {
        do {
            audio = try WAVReader.read(bytes: bytes)
        } catch let e as AudioInputError {
            throw APIError.invalid("'ref_audio' is not usable: \(e)", param: "ref_audio", code: "invalid_audio")
        }
        // x_vector_only_mode clones from the x-vector alone, whatever ref_text says.
        transcript = r.xVectorOnly ? nil : r.referenceText
        var hasher = SHA256Hasher()
        bytes.withUnsafeBytes { hasher.update($0) }
        let mode = transcript.map { "icl\u{0}\($0)" } ?? "xvector"
        Array(mode.utf8).withUnsafeBytes { hasher.update($0) }
        key = hasher.finalizeHex()
    }
}

extension SpeechRoutes {
    /// Maps the OpenAI and vLLM-Omni fields onto the engine's request. For a request with
    /// `ref_audio` whose clone is not cached yet, the voice is left unset and the clone returned
    /// (made later, in the request's synthesis slot).
    func synthesisRequest(_ r: SpeechRequest, model: Qwen3TTSModel) throws -> (SynthesisRequest, ReferenceClone?) {
        let c = model.configuration
        if let task = r.taskType, SpeechRequest.taskTypes[task.lowercased()] != c.modelKind {
            throw APIError.invalid("task_type '\(task)' needs a \(task) model; this server runs a \(c.modelKind.rawValue) model",
                                   param: "task_type", code: "invalid_value")
        }
        let instruct = r.instructions.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        var request = SynthesisRequest(text: r.input, language: r.language, instruct: instruct, textLayout: r.textLayout)
        if let bytes = r.referenceAudio {
            guard c.modelKind == .base else {
                throw APIError.invalid("'ref_audio' clones a voice, which needs a Base model; this is \(c.modelKind.rawValue)",
                                       param: "ref_audio", code: "cloning_not_supported")
            }
            // vLLM-Omni's behaviour: with reference audio, 'voice' (which OpenAI's clients
            // always send) is not used.
            let clone = try ReferenceClone(r, bytes: bytes)
            guard let voice = host.clones.value(for: clone.key) else { return (request, clone) }
            request.setVoice(voice)
            return (request, nil)
        }
        if let text = r.voice, let blend = try VoiceBlend.parse(text) {
            request.speakerEmbedding = try blendedVoice(blend, model: model)
            return (request, nil)
        }
        if c.modelKind == .base {
            request.setVoice(try libraryVoice(r.voice ?? "").voice)
            return (request, nil)
        }
        if c.speakers.isEmpty {
            if let v = r.voice, v.lowercased() != Self.defaultVoice {
                throw APIError.invalid("unknown voice '\(v)'; this model has no named speakers: use voice '\(Self.defaultVoice)'"
                                       + (c.supportsInstruct ? " and describe the voice in 'instructions'" : ""),
                                       param: "voice", code: "voice_not_found")
            }
        } else {
            guard let v = r.voice, !v.isEmpty else {
                throw APIError.invalid("'voice' is required; valid: \(c.speakers.joined(separator: ", "))", param: "voice", code: "missing_required_parameter")
            }
            request.speaker = v
        }
        return (request, nil)
    }

    /// Clones the request's reference audio (in the caller's synthesis slot) and caches it.
    func clone(_ reference: ReferenceClone, model: Qwen3TTSModel) async throws -> VoiceFile {
        do {
            let voice = try await runOnThread(named: "tts-clone") {
                try model.makeVoice(name: "ref_audio", audio: reference.audio, transcript: reference.transcript)
            }
            host.clones.insert(voice, for: reference.key, bytes: voice.approximateBytes)
            return voice
        } catch let e as AudioInputError {
            throw APIError.invalid("'ref_audio' is not usable: \(e)", param: "ref_audio", code: "invalid_audio")
        } catch let e as SynthesisError {
            throw APIError(e)
        }
    }

    private func libraryVoice(_ name: String) throws -> VoiceLibrary.Entry {
        guard let entry = host.voices.entry(named: name) else {
            let valid = host.voices.all.values.map(\.voice.name).sorted()
            throw APIError.invalid(valid.isEmpty ? "this Base model has no cloned voices: create one with POST /v1/audio/voices, send 'ref_audio', or start the server with --voices DIR of files from `qwen3-tts voice create`"
                                       : "unknown voice '\(name)'; valid: \(valid.joined(separator: ", "))",
                                   param: "voice", code: "voice_not_found")
        }
        return entry
    }

    /// The speaker slot for a blend: CustomVoice speakers' rows, or Base x-vector voices.
    private func blendedVoice(_ blend: VoiceBlend, model: Qwen3TTSModel) throws -> [Float] {
        switch model.configuration.modelKind {
        case .customVoice:
            return try model.blendSpeakers(blend)
        case .base:
            let vectors = try blend.parts.map { part -> [Float] in
                let entry = try libraryVoice(part.name)
                guard entry.voice.reference == nil else {
                    throw APIError.invalid("voice '\(entry.voice.name)' clones in context (it continues its reference audio), which cannot be mixed; blend x-vector voices only",
                                           param: "voice", code: "invalid_value")
                }
                return entry.voice.xvector
            }
            return blend.mix(vectors)
        default:
            throw APIError.invalid("this \(model.configuration.modelKind.rawValue) model has no voices to blend; describe the voice in 'instructions'",
                                   param: "voice", code: "invalid_value")
        }
    }
}
