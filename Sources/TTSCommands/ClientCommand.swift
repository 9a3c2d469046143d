// `qwen3-tts client`: speak through a running daemon.
import ArgumentParser
import Foundation
import TTSAudio
import TTSServer

struct ClientCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client",
        abstract: "Speak text through a running `qwen3-tts serve` daemon.",
        discussion: """
            The audio streams as it is generated: into --output (a WAV whose sizes are filled in \
            at the end; "-" for standard output), into --play-cmd's standard input, or, with \
            neither, into the first of aplay, play (sox) or ffplay found on PATH. Without \
            --voice the server's first voice is used. The API key may also come from \
            QWEN3_TTS_API_KEY.

            --text-stream sends standard input as it arrives, over the daemon's WebSocket \
            endpoint (/v1/audio/speech/stream), so `llm ... | qwen3-tts client --text-stream` \
            speaks while the text is written (TCP only).
            """)

    @Argument(help: "Text to speak (default: standard input).")
    var text: String?

    @Option(name: .long, help: "Language name, or auto.")
    var language: String?

    @Option(name: .long, help: "Voice (a CustomVoice speaker; 'default' for VoiceDesign).")
    var voice: String?

    @Option(name: .long, help: "Voice instructions (VoiceDesign; 1.7B CustomVoice).")
    var instructions: String?

    @Option(name: .long, help: "Server address: http://HOST:PORT.")
    var server = "http://127.0.0.1:8000"

    @Option(name: .long, help: "Talk to the daemon over this Unix domain socket instead.")
    var socket: String?

    @Option(name: [.short, .long], help: "Write the audio to this file ('-': standard output).")
    var output: String?

    @Option(name: .customLong("play-cmd"), help: "Shell command that plays audio from its standard input, e.g. 'aplay -q'.")
    var playCommand: String?

    @Option(name: .long, help: "wav, pcm (16-bit, 24 kHz, mono), mp3, opus, aac or flac (the server encodes).")
    var format = "wav"

    @Option(name: .long, help: "Speed, 0.25-4 (the server time-stretches the audio, keeping its pitch).")
    var speed: Double?

    @Option(name: .long, help: "Seed, for reproducible audio.")
    var seed: UInt64?

    @Option(name: .long, help: "Model name to ask for.")
    var model = "qwen3-tts"

    @Option(name: .customLong("api-key"), help: "API key for a daemon started with --api-key.")
    var apiKey: String?

    @Flag(name: .customLong("text-stream"), help: "Send standard input as it arrives; speech starts before the text ends.")
    var textStream = false

    func validate() throws {
        if output != nil && playCommand != nil { throw ValidationError("give --output or --play-cmd, not both") }
        if AudioFormat(rawValue: format) == nil {
            throw ValidationError("--format must be one of \(AudioFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let speed, !TimeStretcher.range.contains(speed) { throw ValidationError("--speed must be between 0.25 and 4") }
        if textStream && text != nil { throw ValidationError("--text-stream reads the text from standard input; give no text argument") }
        if textStream && socket != nil { throw ValidationError("--text-stream connects over TCP (--server), not a Unix socket") }
    }

    func run() async throws {
        let address = try socket.map { ServerAddress.unix(path: $0) } ?? ServerAddress(server)
        let key = (apiKey ?? ProcessInfo.processInfo.environment["QWEN3_TTS_API_KEY"]).flatMap { $0.isEmpty ? nil : $0 }
        // The whole text is read (and a refused one reported) before anything goes to the server.
        let input = textStream ? nil : try text ?? readStandardInput()
        var headers = [("Content-Type", "application/json")]
        if let key { headers.append(("Authorization", "Bearer \(key)")) }
        let chosenVoice: String
        if let voice { chosenVoice = voice } else { chosenVoice = try await firstVoice(address, headers: headers) }
        var body: [String: Any] = ["model": model, "voice": chosenVoice, "response_format": format]
        if let language { body["language"] = language }
        if let instructions { body["instructions"] = instructions }
        if let seed { body["seed"] = seed }
        if let speed { body["speed"] = speed }
        guard let input else { return try await speakStreamedText(address, apiKey: key, config: body) }
        body["input"] = input
        let sink = try AudioSink(output: output, playCommand: playCommand, format: format)
        let start = ContinuousClock.now
        var firstAudio: Double?
        var bytes = 0
        var errorBody = Data()
        var status = 0
        do {
            let head = try await HTTPClient.send("POST", "/v1/audio/speech", to: address, headers: headers,
                                                 body: try JSONSerialization.data(withJSONObject: body)) { head in
                status = head.status
            } onBody: { buffer in
                if status != 200 {
                    errorBody.append(contentsOf: buffer.readableBytesView)
                    return
                }
                if firstAudio == nil { firstAudio = (ContinuousClock.now - start).seconds }
                bytes += buffer.readableBytes
                try sink.write(Data(buffer.readableBytesView))
            }
            if head.status != 200 { throw ClientError.server(status: head.status, message: HTTPClient.errorMessage(errorBody)) }
        } catch {
            sink.abandon()
            throw CommandError("\(error)")
        }
        try sink.finish()
        report(bytes: bytes, firstAudio: firstAudio, start: start, voice: chosenVoice)
    }

    /// `--text-stream`: standard input goes to the daemon's stream endpoint as it arrives.
    private func speakStreamedText(_ address: ServerAddress, apiKey: String?, config: [String: Any]) async throws {
        let sink = try AudioSink(output: output, playCommand: playCommand, format: format)
        let (text, pieces) = AsyncThrowingStream.makeStream(of: String.self)
        TextArrival.readStandardInput(take: { pieces.yield($0) }, end: { pieces.finish(throwing: $0) })
        let start = ContinuousClock.now
        let summary: SpeechStreamClient.Summary
        do {
            summary = try await SpeechStreamClient.speak(address, apiKey: apiKey, config: config, text: text) { try sink.write(Data($0.readableBytesView)) }
        } catch {
            sink.abandon()
            throw CommandError("\(error)")
        }
        guard summary.characters > 0 else {
            sink.abandon()
            throw CommandError("no text on standard input")
        }
        try sink.finish()
        report(bytes: summary.bytes, firstAudio: summary.firstAudio, start: start, voice: config["voice"] as? String ?? "-")
    }

    private func report(bytes: Int, firstAudio: Double?, start: ContinuousClock.Instant, voice: String) {
        // Seconds of audio are known from the byte count for PCM and WAV only.
        let audio = format == "wav" || format == "pcm"
            ? String(format: "%.2f s audio", Double(max(0, bytes - (format == "wav" ? 44 : 0)) / 2) / 24_000) : "\(bytes) bytes of \(format)"
        FileHandle.standardError.write(Data(String(format: "%@, first audio after %.3f s, %.2f s in all (voice %@)\n",
                                                   audio, firstAudio ?? 0, (ContinuousClock.now - start).seconds, voice).utf8))
    }

    private func firstVoice(_ address: ServerAddress, headers: [(String, String)]) async throws -> String {
        let reply: (head: HTTPResponseHead, body: Data)
        do {
            reply = try await HTTPClient.fetch("GET", "/v1/audio/voices", to: address, headers: headers)
        } catch {
            throw CommandError("\(error)")
        }
        guard reply.head.status == 200 else {
            throw CommandError("\(ClientError.server(status: reply.head.status, message: HTTPClient.errorMessage(reply.body)))")
        }
        guard let object = try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any],
              let data = object["data"] as? [[String: Any]], let id = data.first?["id"] as? String
        else { throw CommandError("the server listed no voices; give --voice") }
        return id
    }

    private func readStandardInput() throws -> String {
        let s = try CommandSupport.text(of: try CommandSupport.readStandardInput(), source: "standard input")
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !t.isEmpty else { throw CommandError("no text: give it as an argument or on standard input") }
        return t
    }
}
