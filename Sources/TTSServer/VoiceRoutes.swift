// Cloned voices over HTTP (Base models): list, show, create (multipart upload), delete.
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Qwen3TTS
import TTSRuntime
import Synchronization

extension SpeechRoutes {
    func addVoiceRoutes(to v1: RouterGroup<SpeechRequestContext>) {
        v1.get("audio/voices") { _, _ in try listVoices() }
        v1.get("audio/voices/{id}") { _, context in try showVoice(context.parameters.require("id")) }
        v1.post("audio/voices") { request, context in try await createVoice(request, channel: context.channel) }
        v1.delete("audio/voices/{id}") { _, context in try deleteVoice(context.parameters.require("id")) }
    }

    /// The fields a voice upload may have.
    static let voiceUploadFields: Set<String> = ["name", "audio", "text", "xvector_only", "append_silence"]

    private func listVoices() throws -> Response {
        let model = try readyModel()
        let c = model.configuration
        let data: [[String: Any]]
        if c.modelKind == .base {
            data = host.voices.all.values.sorted { $0.voice.name.lowercased() < $1.voice.name.lowercased() }.map(voiceObject)
        } else {
            data = (c.speakers.isEmpty ? [Self.defaultVoice] : c.speakers).map { ["id": $0, "object": "voice", "name": $0] }
        }
        return json([
            "object": "list", "model": configuration.servedModelID, "data": data,
            "languages": c.languages, "instructions": c.supportsInstruct,
            "cloning": c.modelKind == .base, "persistent": configuration.voicesDirectory != nil,
        ])
    }

    private func showVoice(_ id: String) throws -> Response {
        _ = try readyModel()
        guard let entry = host.voices.entry(named: id) else { throw voiceNotFound(id) }
        return json(voiceObject(entry))
    }

    private func deleteVoice(_ id: String) throws -> Response {
        try requireCloning(try readyModel())
        do {
            let entry = try host.voices.remove(named: id)
            return json(["id": entry.voice.name, "object": "voice.deleted", "deleted": true])
        } catch VoiceLibraryError.notFound {
            throw voiceNotFound(id)
        } catch VoiceLibraryError.storage(let why) {
            throw APIError(.internalServerError, why, type: "server_error", code: "storage_error")
        }
    }

    private func voiceObject(_ e: VoiceLibrary.Entry) -> [String: Any] {
        var o: [String: Any] = ["id": e.voice.name, "object": "voice", "name": e.voice.name, "mode": e.voice.mode,
                                "created": e.created, "reference_seconds": e.voice.referenceSeconds]
        if let r = e.voice.reference {
            o["reference_text"] = r.text
            o["reference_frames"] = r.codes.count
        }
        if e.voice.appendedSilence > 0 { o["appended_silence"] = e.voice.appendedSilence }
        return o
    }

    private func voiceNotFound(_ id: String) -> APIError {
        APIError(.notFound, "no voice named '\(id)'", param: "voice", code: "voice_not_found")
    }

    private func requireCloning(_ model: Qwen3TTSModel) throws {
        guard model.configuration.modelKind == .base else {
            throw APIError.invalid("voice cloning needs a Base model; this is \(model.configuration.modelKind.rawValue)", code: "cloning_not_supported")
        }
        guard configuration.voicesDirectory != nil else {
            throw APIError(.conflict, "voices are kept on disk: start the server with --voices DIR to create or delete them",
                           code: "voices_directory_required")
        }
    }

    /// POST /v1/audio/voices, multipart/form-data: name, audio (a WAV file), optional text (the
    /// transcript: in-context cloning), xvector_only, append_silence (seconds). Runs in a
    /// synthesis slot, since cloning is CPU work like synthesis.
    private func createVoice(_ request: Request, channel: any Channel) async throws -> Response {
        let model = try readyModel()
        try requireCloning(model)
        let contentType = request.headers[.contentType] ?? ""
        guard let boundary = MultipartForm.boundary(contentType: contentType) else {
            throw APIError(.unsupportedMediaType, "Content-Type must be multipart/form-data with a boundary (got \(contentType.isEmpty ? "none" : contentType))",
                           code: "unsupported_media_type")
        }
        // The declared size (or the most an upload may be) is held in the shared budget from
        // before the body is read until the voice is made, so N concurrent uploads never
        // buffer more than the budget.
        let reserved = request.headers[.contentLength].flatMap(Int.init).map { min($0, configuration.maxUploadBytes) } ?? configuration.maxUploadBytes
        guard uploads.reserve(reserved) else {
            throw APIError(.serviceUnavailable, "the server is receiving other uploads (\(configuration.uploadBudget) bytes at once); retry shortly",
                           type: "server_error", code: "upload_capacity")
        }
        defer {
            uploads.release(reserved)
            Task { await releaseMemoryIfIdle() }
        }
        return try await createVoice(request, boundary: boundary, model: model, channel: channel)
    }

    private func createVoice(_ request: Request, boundary: String, model: Qwen3TTSModel, channel: any Channel) async throws -> Response {
        let directory = configuration.voicesDirectory!
        // The body is parsed where it was received and dropped once the parts are copied out.
        let upload: VoiceUpload
        do {
            let body = try await collectBody(request, channel: channel, limit: configuration.maxUploadBytes, what: "the upload")
            upload = try VoiceUpload(try body.withUnsafeReadableBytes { try MultipartForm.parse($0, boundary: boundary) })
        } catch let e as MultipartError {
            throw APIError.invalid("malformed multipart body: \(e)", code: "invalid_multipart")
        }
        if host.voices.entry(named: upload.name) != nil { throw voiceExists(upload.name) }
        if host.voices.count >= configuration.maxVoices { throw voiceLimit(configuration.maxVoices) }
        if let transcript = upload.transcript {
            do {
                try TextLimits.checkTranscript(transcript, tokenizer: model.tokenizer)
            } catch let e as SynthesisError {
                throw APIError.invalid("'text' (the transcript): \(e)", param: "text", code: "string_above_max_length")
            }
        }
        let audio: AudioBuffer
        do {
            audio = try WAVReader.read(bytes: upload.audio)
        } catch let e as AudioInputError {
            throw APIError.invalid("the audio is not usable: \(e)", param: "audio", code: "invalid_audio")
        }

        let job: SynthesisJob
        do {
            job = try await scheduler.admit(timeout: configuration.timeout)
        } catch let refusal as SchedulerRefusal {
            throw Self.error(for: refusal)
        }
        let voice: VoiceFile
        do {
            defer { job.release() }
            voice = try await runOnThread(named: "tts-clone") {
                try model.makeVoice(name: upload.name, audio: audio, transcript: upload.transcript, appendSilence: upload.appendSilence)
            }
        } catch let e as AudioInputError {
            throw APIError.invalid("the audio is not usable: \(e)", param: "audio", code: "invalid_audio")
        } catch let e as SynthesisError {
            throw APIError(e)
        }
        do {
            let entry = try host.voices.add(voice, directory: directory, limit: configuration.maxVoices)
            return json(voiceObject(entry), status: .created)
        } catch VoiceLibraryError.exists(let name) {
            throw voiceExists(name)
        } catch VoiceLibraryError.full(let limit) {
            throw voiceLimit(limit)
        } catch VoiceLibraryError.storage(let why) {
            throw APIError(.internalServerError, why, type: "server_error", code: "storage_error")
        }
    }

    private func voiceLimit(_ limit: Int) -> APIError {
        APIError(.conflict, "the server keeps at most \(limit) voices (--max-voices); delete one first", code: "voice_limit_reached")
    }

    private func voiceExists(_ name: String) -> APIError {
        APIError(.conflict, "a voice named '\(name)' exists; delete it first or choose another name", param: "name", code: "voice_exists")
    }
}

/// The fields of a voice upload, checked.
struct VoiceUpload {
    let name: String
    let audio: [UInt8]
    let transcript: String?
    let appendSilence: Double

    init(_ form: MultipartForm) throws {
        for part in form.parts where !SpeechRoutes.voiceUploadFields.contains(part.name) {
            throw APIError.invalid("unknown field '\(part.name)'; fields: \(SpeechRoutes.voiceUploadFields.sorted().joined(separator: ", "))",
                                   param: part.name, code: "unknown_parameter")
        }
        func text(_ field: String) throws -> String? {
            guard let part = form.part(field) else { return nil }
            guard let value = part.text else { throw APIError.invalid("'\(field)' is not UTF-8 text", param: field, code: "invalid_value") }
            return value
        }
        guard let name = try text("name")?.trimmingCharacters(in: .whitespaces), !name.isEmpty else {
            throw APIError.invalid("'name' is required", param: "name", code: "missing_required_parameter")
        }
        guard VoiceLibrary.validName(name) else {
            throw APIError.invalid("'name' must be 1-64 characters of A-Z, a-z, 0-9, _, - and . (not starting with .)", param: "name", code: "invalid_value")
        }
        guard let audio = form.part("audio"), !audio.data.isEmpty else {
            throw APIError.invalid("'audio' is required: a WAV file part", param: "audio", code: "missing_required_parameter")
        }
        var transcript = try text("text")
        if let t = transcript, t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { transcript = nil }
        switch try text("xvector_only")?.lowercased() {
        case nil, "false", "0": break
        case "true", "1":
            guard transcript == nil else {
                throw APIError.invalid("'xvector_only' clones from the x-vector alone; leave out 'text' or set it false", param: "xvector_only", code: "invalid_value")
            }
        case let other?:
            throw APIError.invalid("'xvector_only' must be true or false, not '\(other)'", param: "xvector_only", code: "invalid_value")
        }
        var silence = 0.0
        if let s = try text("append_silence") {
            guard let v = Double(s.trimmingCharacters(in: .whitespaces)), (0...5).contains(v) else {
                throw APIError.invalid("'append_silence' must be a number of seconds in 0...5", param: "append_silence", code: "invalid_value")
            }
            silence = v
        }
        self.name = name
        self.audio = audio.data
        self.transcript = transcript
        appendSilence = silence
    }
}

/// Runs blocking work on a thread of its own, off the threads that serve requests. Cancelling
/// the calling task returns at once with CancellationError; the thread runs on and its result is
/// dropped (blocking work cannot be interrupted, but nobody has to wait for it).
func runOnThread<T: Sendable>(named name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    let once = ResumeOnce<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, Error>) in
            once.set(c)
            let t = Thread { once.resume(with: Result { try body() }) }
            t.name = name
            t.stackSize = 8 << 20
            t.start()
        }
    } onCancel: {
        once.resume(with: .failure(CancellationError()))
    }
}

/// A continuation resumed by whichever comes first, the result or a cancellation (which may come
/// before the continuation exists).
private final class ResumeOnce<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, Error>?
        var pending: Result<T, Error>?
        var done = false
    }
    private let state = Mutex(State())

    func set(_ c: CheckedContinuation<T, Error>) {
        let early: Result<T, Error>? = state.withLock { s in
            if let p = s.pending, !s.done { s.done = true; return p }
            s.continuation = c
            return nil
        }
        if let early { c.resume(with: early) }
    }

    func resume(with result: Result<T, Error>) {
        let c: CheckedContinuation<T, Error>? = state.withLock { s in
            guard !s.done else { return nil }
            guard let c = s.continuation else {
                if s.pending == nil { s.pending = result }
                return nil
            }
            s.done = true
            s.continuation = nil
            return c
        }
        c?.resume(with: result)
    }
}
