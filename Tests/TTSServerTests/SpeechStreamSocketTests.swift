// /v1/audio/speech/stream (issue 19): text in pieces over a WebSocket gives the audio of one
// request with the whole text; protocol errors, limits, timeouts, authentication and a client
// that leaves are answered without harm to the server.
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import Synchronization
import TTSRuntime
import TTSTestSupport
import XCTest
@testable import TTSServer

/// What a WebSocket client received: the JSON events in order, the binary audio of each
/// utterance, and the server's close.
struct StreamTranscript {
    var events: [[String: Any]] = []
    var audio: [Data] = []
    var close: WebSocketCloseFrame?

    var types: [String] { events.compactMap { $0["type"] as? String } }
    var error: [String: Any]? { events.first { $0["type"] as? String == "error" }?["error"] as? [String: Any] }
}

private final class TranscriptBox: @unchecked Sendable {
    private let lock = Mutex(())
    private var transcript = StreamTranscript()

    func event(_ text: String) {
        let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? ["unparsed": text]
        lock.withLock { _ in
            transcript.events.append(json)
            if json["type"] as? String == "audio.start" { transcript.audio.append(Data()) }
        }
    }

    func audio(_ bytes: ByteBuffer) {
        lock.withLock { _ in
            if transcript.audio.isEmpty { transcript.audio.append(Data()) }
            transcript.audio[transcript.audio.count - 1].append(contentsOf: bytes.readableBytesView)
        }
    }

    var value: StreamTranscript { lock.withLock { _ in transcript } }
}

/// One client message, or a pause.
enum StreamStep: Sendable {
    case json(String)
    case binary(Int)
    case pause(Duration)
    /// Waits until the server has sent `count` events of a type.
    case await(String, count: Int)
    /// Drops the connection without a close handshake.
    case drop

    static func config(_ fields: [String: Any]) -> StreamStep {
        var f = fields
        f["type"] = "session.config"
        return .json(String(decoding: try! JSONSerialization.data(withJSONObject: f, options: [.sortedKeys]), as: UTF8.self))
    }

    static func text(_ s: String) -> StreamStep {
        .json(String(decoding: try! JSONSerialization.data(withJSONObject: ["type": "input.text", "text": s]), as: UTF8.self))
    }

    static let done = StreamStep.json(#"{"type": "input.done"}"#)
    static let close = StreamStep.json(#"{"type": "session.close"}"#)
}

extension TestServer {
    /// Runs `steps` against the stream endpoint while collecting what the server sends, until the
    /// server closes the connection (or `seconds` pass).
    func stream(_ steps: [StreamStep], headers: HTTPFields = [:], seconds: Double = 60) async throws -> StreamTranscript {
        let box = TranscriptBox()
        var config = WebSocketClientConfiguration(maxFrameSize: 1 << 24, additionalHeaders: headers, autoPing: .disabled)
        config.closeTimeout = .seconds(5)
        var logger = Logger(label: "stream-client")
        logger.logLevel = .critical
        let close = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)\(SpeechRoutes.streamPath)", configuration: config, logger: logger) { inbound, outbound, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                let started = ContinuousClock.now
                group.addTask {
                    for step in steps {
                        switch step {
                        case .json(let text): try await outbound.write(.text(text))
                        case .binary(let n): try await outbound.write(.binary(ByteBuffer(repeating: 7, count: n)))
                        case .pause(let d): try await Task.sleep(for: d)
                        case .await(let type, let count):
                            while box.value.types.filter({ $0 == type }).count < count {
                                guard ContinuousClock.now - started < .seconds(seconds) else { return }
                                try await Task.sleep(for: .milliseconds(5))
                            }
                        case .drop:
                            throw CancellationError()
                        }
                    }
                }
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 26) {
                        switch message {
                        case .text(let s): box.event(s)
                        case .binary(let b): box.audio(b)
                        }
                    }
                }
                try await group.next()
                if case .drop = steps.last { throw CancellationError() }
                try await group.next()
            }
        }
        var t = box.value
        t.close = close
        return t
    }
}

final class SpeechStreamSocketTests: XCTestCase {
    static let texts = [
        "Hello there! This is spoken while it is written, word by word.",
        "今天天气很好，我们去公园吧。然后回家吃饭。",
        "Emoji 👩\u{200D}👩\u{200D}👧 and 🇺🇸, café and e\u{301}\u{323}, <|im_end|> and <tts_pad> as text.",
        "  Leading and trailing spaces, a\ttab and a\nnewline.  \n",
    ]

    static func randomPieces(_ text: String, seed: UInt64) -> [String] {
        var rng = SeededRNG(seed: seed)
        let scalars = Array(text.unicodeScalars)
        var pieces: [String] = [], i = 0
        while i < scalars.count {
            let n = min(Int(rng.next() % 7) + 1, scalars.count - i)
            pieces.append(String(String.UnicodeScalarView(scalars[i..<(i + n)])))
            i += n
        }
        return pieces
    }

    private static var voice: [String: Any] { ["voice": "ryan", "language": "english", "seed": 11, "max_frames": 16, "response_format": "pcm"] }

    /// Each text, whole, scalar by scalar and in random pieces, gives the bytes of one HTTP
    /// request in the streaming layout with the same seed: several utterances on one connection.
    /// The first text is longer than the segment length here, so it is spoken in several segments.
    func testAnyChunkingGivesTheHTTPRequestsAudio() async throws {
        let server = try await TestServer.start { $0.streaming.maxSegmentCharacters = 24 }
        for (i, text) in Self.texts.enumerated() {
            var body = Self.voice
            body["model"] = "tts-1"
            body["input"] = text
            body["non_streaming_mode"] = false
            let (head, expected) = try await server.speech(body)
            XCTAssertEqual(head.status, 200, String(decoding: expected, as: UTF8.self))
            XCTAssertFalse(expected.isEmpty)
            let feeds = [[text], text.unicodeScalars.map { String($0) }, Self.randomPieces(text, seed: UInt64(i + 1))]
            var steps: [StreamStep] = [.config(Self.voice)]
            for (n, pieces) in feeds.enumerated() {
                steps += pieces.map(StreamStep.text) + [.done, .await("session.done", count: n + 1)]
            }
            steps.append(.close)
            let t = try await server.stream(steps)
            XCTAssertEqual(t.close?.closeCode, .normalClosure, "text \(i): \(t.events)")
            XCTAssertEqual(t.types.filter { $0 == "session.done" }.count, feeds.count, "text \(i): \(t.types)")
            XCTAssertEqual(t.audio.count, feeds.count, "text \(i)")
            for (n, audio) in t.audio.enumerated() {
                XCTAssertEqual(audio, expected, "text \(i), feed \(n): \(audio.count) bytes against \(expected.count)")
            }
            let done = t.events.filter { $0["type"] as? String == "audio.done" }
            XCTAssertEqual(done.map { $0["sentence_text"] as? String }, Array(repeating: text, count: feeds.count))
            XCTAssertEqual(done.map { $0["error"] as? Bool }, Array(repeating: false, count: feeds.count))
        }
        try await server.stop()
    }
}
