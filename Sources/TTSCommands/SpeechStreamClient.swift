// The client side of /v1/audio/speech/stream, for `qwen3-tts client --text-stream`: text pieces
// go out as they come, audio comes back as it is made.
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization
import TTSServer

enum SpeechStreamClient {
    /// What one utterance gave.
    struct Summary: Sendable {
        var bytes = 0
        /// Seconds from the first text sent to the first audio.
        var firstAudio: Double?
        var characters = 0
    }

    /// Sends `config` (a session.config's fields), each piece of `text` as an input.text, then
    /// input.done, and hands each binary audio message to `audio` as it arrives. Ends when the
    /// utterance is done; throws the server's error event as `ClientError.stream`, or the error
    /// that ended `text`. TCP only (swift-websocket's client has no Unix domain sockets).
    static func speak(_ address: ServerAddress, apiKey: String?, config: [String: Any], text: AsyncThrowingStream<String, Error>,
                             audio: @escaping @Sendable (ByteBuffer) throws -> Void) async throws -> Summary {
        guard case .tcp(let host, let port) = address else {
            throw ClientError.badAddress("\(address): the WebSocket client connects over TCP only; use http://HOST:PORT")
        }
        var fields = config
        fields["type"] = "session.config"
        let configMessage = String(decoding: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), as: UTF8.self)
        var settings = WebSocketClientConfiguration(maxFrameSize: 1 << 24, autoPing: .enabled(timePeriod: .seconds(20)))
        if let apiKey { settings.additionalHeaders[.authorization] = "Bearer \(apiKey)" }
        let state = SharedState()
        var logger = Logger(label: "qwen3-tts-client")
        logger.logLevel = .critical
        do {
            try await WebSocketClient.connect(url: "ws://\(host):\(port)/v1/audio/speech/stream", configuration: settings, logger: logger) { inbound, outbound, _ in
                try await outbound.write(.text(configMessage))
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        var pieces = text.makeAsyncIterator()
                        while true {
                            let next: String?
                            do {
                                next = try await pieces.next()
                            } catch {
                                // The text failed (not the session ending, which cancels this
                                // task): say so and leave; the server stops the utterance.
                                if !(error is CancellationError) { state.value.withLock { $0.inputError = error } }
                                try await outbound.write(.text(#"{"type": "session.close"}"#))
                                return
                            }
                            guard let piece = next else { break }
                            if piece.isEmpty { continue }
                            state.value.withLock { s in
                                if s.firstText == nil { s.firstText = .now }
                                s.summary.characters += piece.count
                            }
                            let message = try JSONSerialization.data(withJSONObject: ["type": "input.text", "text": piece])
                            try await outbound.write(.text(String(decoding: message, as: UTF8.self)))
                        }
                        try await outbound.write(.text(#"{"type": "input.done"}"#))
                    }
                    for try await message in inbound.messages(maxSize: 1 << 26) {
                        switch message {
                        case .binary(let bytes):
                            state.value.withLock { s in
                                if s.summary.firstAudio == nil { s.summary.firstAudio = s.firstText.map { (ContinuousClock.now - $0).seconds } }
                                s.summary.bytes += bytes.readableBytes
                            }
                            try audio(bytes)
                        case .text(let text):
                            let event = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
                            switch event["type"] as? String {
                            case "error":
                                state.value.withLock { $0.serverError = event["message"] as? String ?? text }
                            case "session.done":
                                try await outbound.write(.text(#"{"type": "session.close"}"#))
                            default:
                                break
                            }
                        }
                    }
                    group.cancelAll()
                }
            }
        } catch let e as ClientError {
            throw e
        } catch {
            try state.value.withLock { try $0.throwRecorded() }
            throw ClientError.cannotConnect(address, "\(error)")
        }
        let s = state.value.withLock { $0 }
        try s.throwRecorded()
        return s.summary
    }

    private final class SharedState: Sendable {
        let value = Mutex(State())
    }

    private struct State {
        var summary = Summary()
        var firstText: ContinuousClock.Instant?
        var serverError: String?
        var inputError: Error?

        /// What ended the session, if not its end: the server's error first (it explains what
        /// follows, such as the connection closing), then the text's.
        func throwRecorded() throws {
            if let serverError { throw ClientError.stream(message: serverError) }
            if let inputError { throw inputError }
        }
    }
}
