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
            // The steps end early when the server closes (inbound ends first).
            try await withThrowingTaskGroup(of: Bool.self) { group in
                let started = ContinuousClock.now
                group.addTask {
                    for step in steps {
                        switch step {
                        case .json(let text): try await outbound.write(.text(text))
                        case .binary(let n): try await outbound.write(.binary(ByteBuffer(repeating: 7, count: n)))
                        case .pause(let d): try await Task.sleep(for: d)
                        case .await(let type, let count):
                            while box.value.types.filter({ $0 == type }).count < count {
                                guard ContinuousClock.now - started < .seconds(seconds) else { return false }
                                try await Task.sleep(for: .milliseconds(5))
                            }
                        case .drop:
                            throw CancellationError()
                        }
                    }
                    return false
                }
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 26) {
                        switch message {
                        case .text(let s): box.event(s)
                        case .binary(let b): box.audio(b)
                        }
                    }
                    return true
                }
                if try await group.next() == true {
                    group.cancelAll()
                } else {
                    _ = try await group.next()
                }
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
            let feeds = [[text], text.unicodeScalars.map { String($0) }, randomPieces(text, seed: UInt64(i + 1))]
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

/// A WebSocket client over a plain socket, for what no library client does: leave without a
/// close, or send frames a library would refuse to make.
final class RawWebSocket {
    let connection: RawConnection

    /// Whatever the server sent right after its 101 answer.
    private(set) var early = Data()

    init(port: Int, headers: String = "", receiveBuffer: Int32? = nil) throws {
        connection = try RawConnection(port: port, receiveBuffer: receiveBuffer)
        connection.send("GET \(SpeechRoutes.streamPath) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(headers)\r\n")
        let answer = connection.receiveOnce(seconds: 2)
        guard answer.starts(with: Data("HTTP/1.1 101".utf8)), let end = answer.firstRange(of: Data("\r\n\r\n".utf8)) else {
            throw TestServerError(description: "no upgrade: \(String(decoding: answer, as: UTF8.self))")
        }
        early = answer[end.upperBound...]
    }

    /// What arrives until `text` has (or `seconds` pass, or the server closes).
    func receive(until text: String, seconds: Double = 10) -> String {
        var got = early
        early = Data()
        let deadline = Date().addingTimeInterval(seconds)
        while !String(decoding: got, as: UTF8.self).contains(text), Date() < deadline {
            let (data, closed) = connection.receive(seconds: 0.05)
            got += data
            if closed { break }
        }
        return String(decoding: got, as: UTF8.self)
    }

    /// A masked client frame.
    static func frame(_ payload: Data, opcode: UInt8 = 1, fin: Bool = true) -> Data {
        var out = Data([(fin ? 0x80 : 0) | opcode])
        let n = payload.count
        if n < 126 {
            out.append(0x80 | UInt8(n))
        } else if n < 65536 {
            out.append(0x80 | 126)
            out.append(contentsOf: [UInt8(n >> 8), UInt8(n & 0xFF)])
        } else {
            out.append(0x80 | 127)
            out.append(contentsOf: (0..<8).reversed().map { UInt8((n >> ($0 * 8)) & 0xFF) })
        }
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        out.append(contentsOf: mask)
        out.append(contentsOf: payload.enumerated().map { $0.element ^ mask[$0.offset % 4] })
        return out
    }

    @discardableResult
    func send(_ text: String, opcode: UInt8 = 1, fin: Bool = true) -> Bool { connection.send(Self.frame(Data(text.utf8), opcode: opcode, fin: fin)) }
}

extension SpeechStreamSocketTests {
    private static func config(_ extra: [String: Any] = [:]) -> StreamStep { .config(voice.merging(extra) { $1 }) }

    /// Every protocol error is answered with an `error` event naming it, then a close with its
    /// code, never a crash; the server goes on serving.
    func testProtocolErrorsAreAnsweredThenClosed() async throws {
        let server = try await TestServer.start {
            $0.maxBodyBytes = 4096
            $0.maxInputCharacters = 20
        }
        let cases: [(String, [StreamStep], String, WebSocketErrorCode)] = [
            ("binary", [Self.config(), .binary(10)], "binary_message", .unacceptableData),
            ("unknown type", [.json(#"{"type": "input.append", "text": "Hi."}"#)], "unknown_message_type", .policyViolation),
            ("no type", [.json(#"{"text": "Hi."}"#)], "missing_required_parameter", .policyViolation),
            ("not JSON", [.json("Hello.")], "invalid_json", .dataInconsistentWithMessage),
            ("a JSON array", [.json("[1, 2]")], "invalid_json", .dataInconsistentWithMessage),
            ("text before config", [.text("Hi.")], "missing_config", .policyViolation),
            ("done before config", [.done], "missing_config", .policyViolation),
            ("text not a string", [Self.config(), .json(#"{"type": "input.text", "text": 5}"#)], "invalid_type", .policyViolation),
            ("oversized message", [Self.config(), .text(String(repeating: "a", count: 5000))], "message_too_large", .messageTooLarge),
            ("too many pieces", [Self.config()] + Array(repeating: StreamStep.text(""), count: 3) + Array(repeating: StreamStep.text("a"), count: 21),
             "too_many_pieces", .policyViolation),
            ("too much text", [Self.config(), .text(String(repeating: "a", count: 15)), .text(String(repeating: "b", count: 6))],
             "string_above_max_length", .policyViolation),
            ("config while text is open", [Self.config(), .text("Hi"), Self.config()], "utterance_open", .policyViolation),
            ("unknown voice", [Self.config(["voice": "nobody"])], "voice_not_found", .policyViolation),
            ("unknown field", [Self.config(["pitch": 2])], "unknown_parameter", .policyViolation),
            ("non-streaming layout", [Self.config(["non_streaming_mode": true])], "unsupported_value", .policyViolation),
            ("word timestamps", [Self.config(["word_timestamps": true])], "unsupported_value", .policyViolation),
            ("in-context reference", [Self.config(["ref_audio": "UklGRg=="])], "unsupported_value", .policyViolation),
        ]
        for (name, steps, code, close) in cases {
            let t = try await server.stream(steps + [.pause(.seconds(5))])
            XCTAssertEqual(t.error?["code"] as? String, code, "\(name): \(t.events)")
            XCTAssertEqual(t.types.last, "error", name)
            XCTAssertEqual(t.close?.closeCode, close, name)
        }
        // A frame over every message limit is refused by the WebSocket layer as its header
        // arrives: a close with 1009 (no room for an event), and nothing is buffered.
        let huge = try await server.stream([Self.config(), .binary(SpeechRoutes.streamFrameBytes(server.server.configuration) + 1)])
        XCTAssertEqual(huge.close?.closeCode, .messageTooLarge)
        let health = try await server.waitForHealth { ($0["active"] as? Int) == 0 }
        XCTAssertEqual(health["active"] as? Int, 0, "\(health)")
        let t = try await server.stream([Self.config(), .text("Still here."), .done, .await("session.done", count: 1), .close])
        XCTAssertEqual(t.types, ["audio.start", "audio.done", "session.done"])
        try await server.stop()
    }

    /// A config the server refuses after a valid one is reported and the session goes on with
    /// the valid one; an utterance with no text is a session.done of no sentences.
    func testALaterBadConfigKeepsTheSession() async throws {
        let server = try await TestServer.start()
        let t = try await server.stream([Self.config(), .done, Self.config(["voice": "nobody"]), .text("Hi."), .done,
                                         .await("session.done", count: 2), .close])
        XCTAssertEqual(t.types, ["session.done", "error", "audio.start", "audio.done", "session.done"], "\(t.events)")
        XCTAssertEqual(t.events.first?["total_sentences"] as? Int, 0)
        XCTAssertEqual(t.error?["code"] as? String, "voice_not_found")
        XCTAssertEqual(t.close?.closeCode, .normalClosure)
        try await server.stop()
    }

    /// A client that says nothing for the idle timeout gets an error and a close, before its
    /// config, between utterances and with an utterance's text open (whose work stops).
    func testASilentClientTimesOut() async throws {
        let server = try await TestServer.start { $0.idleTimeout = 1 }
        for steps: [StreamStep] in [[], [Self.config()], [Self.config(["max_frames": 8000]), .text("Hello")]] {
            let start = ContinuousClock.now
            let t = try await server.stream(steps + [.pause(.seconds(6))])
            XCTAssertEqual(t.error?["code"] as? String, "idle_timeout", "\(steps.count) steps: \(t.events)")
            XCTAssertEqual(t.close?.closeCode, .policyViolation)
            XCTAssertLessThan(ContinuousClock.now - start, .seconds(4))
        }
        let health = try await server.waitForHealth { ($0["active"] as? Int) == 0 }
        XCTAssertEqual(health["active"] as? Int, 0, "\(health)")
        XCTAssertEqual(health["timed_out"] as? Int, 1, "\(health)")
        try await server.stop()
    }

    /// The API key and the origin check apply as on HTTP: the refusal is an error event, then a
    /// close, before any message is read.
    func testAuthenticationAndOriginApply() async throws {
        let server = try await TestServer.start { $0.apiKey = "sesame" }
        let steps: [StreamStep] = [Self.config(), .text("Hi."), .done, .await("session.done", count: 1), .close]
        let none = try await server.stream(steps)
        XCTAssertEqual(none.error?["code"] as? String, "invalid_api_key")
        XCTAssertEqual(none.close?.closeCode, .policyViolation)
        XCTAssertEqual(none.types, ["error"])
        // (A web page's origin: swift-websocket's client always sends its own, so a raw client.)
        let page = try RawWebSocket(port: server.port, headers: "Authorization: Bearer sesame\r\nOrigin: https://evil.example\r\n")
        XCTAssertTrue(page.receive(until: "origin_not_allowed").contains("origin_not_allowed"))
        let ok = try await server.stream(steps, headers: [.authorization: "Bearer sesame"])
        XCTAssertEqual(ok.types, ["audio.start", "audio.done", "session.done"], "\(ok.events)")
        // Without an upgrade the endpoint says what it is.
        let plain = try await server.get(SpeechRoutes.streamPath, headers: [("Authorization", "Bearer sesame")])
        XCTAssertEqual(plain.status, 426)
        try await server.stop()
    }

    /// A client that drops the connection (no close frame) while its audio is being made stops
    /// the work at once, with its text still open or complete. The long-running tests here use
    /// seed 3, with which the tiny model runs this text to its 8000-frame cap: with a random seed
    /// it may end by itself after ~100 frames (CI once saw 94), before any limit is reached.
    func testAClientThatLeavesStopsItsWork() async throws {
        let server = try await TestServer.start()
        for (n, done) in [false, true].enumerated() {
            do {
                let ws = try RawWebSocket(port: server.port)
                ws.send(#"{"type": "session.config", "voice": "ryan", "max_frames": 8000, "seed": 3, "response_format": "pcm"}"#)
                ws.send(#"{"type": "input.text", "text": "Keep talking, please."}"#)
                if done { ws.send(#"{"type": "input.done"}"#) }
                XCTAssertTrue(ws.receive(until: "audio.start").contains("audio.start"))
            }
            let left = ContinuousClock.now
            let health = try await server.waitForHealth(seconds: 30) { ($0["cancelled"] as? Int ?? 0) > n && ($0["active"] as? Int) == 0 }
            XCTAssertLessThan(ContinuousClock.now - left, .seconds(2), "\(health)")
            XCTAssertEqual(health["cancelled"] as? Int, n + 1, "\(health)")
            XCTAssertLessThan(health["frames"] as? Int ?? .max, 8000)
        }
        try await server.stop()
    }

    /// A client that stops reading: its utterance pauses once the socket's buffers are full,
    /// then the write timeout closes the connection and stops the work.
    func testAClientThatNeverReadsIsDropped() async throws {
        let server = try await TestServer.start { $0.writeTimeout = 2 }
        let ws = try RawWebSocket(port: server.port, receiveBuffer: 4096)
        ws.send(#"{"type": "session.config", "voice": "ryan", "max_frames": 8000, "seed": 3, "response_format": "pcm"}"#)
        ws.send(#"{"type": "input.text", "text": "Keep talking, please."}"#)
        ws.send(#"{"type": "input.done"}"#)
        let health = try await server.waitForHealth(seconds: 30) { ($0["cancelled"] as? Int ?? 0) == 1 && ($0["active"] as? Int) == 0 }
        XCTAssertEqual(health["cancelled"] as? Int, 1, "\(health)")
        XCTAssertLessThan(health["frames"] as? Int ?? .max, 8000)
        XCTAssertTrue(ws.connection.waitForClose(seconds: 10))
        try await server.stop()
    }

    /// Frames no library client sends: a continuation without a message, a message begun inside
    /// a fragmented one and a fragmented message over the limit are protocol errors; a message in
    /// fragments within it is read whole.
    func testFragmentedMessages() async throws {
        let server = try await TestServer.start { $0.maxBodyBytes = 4096 }
        let stray = try RawWebSocket(port: server.port)
        stray.send("{}", opcode: 0)
        XCTAssertTrue(stray.receive(until: "invalid_frame").contains("invalid_frame"))
        let interleaved = try RawWebSocket(port: server.port)
        interleaved.send(#"{"type": "input.t"#, fin: false)
        interleaved.send(#"{"type": "input.done"}"#)
        XCTAssertTrue(interleaved.receive(until: "invalid_frame").contains("invalid_frame"))
        let big = try RawWebSocket(port: server.port)
        big.send(#"{"type": "input.text", "text": ""#, fin: false)
        for _ in 0..<3 { big.send(String(repeating: "a", count: 2000), opcode: 0, fin: false) }
        XCTAssertTrue(big.receive(until: "message_too_large").contains("message_too_large"))
        let parts = try RawWebSocket(port: server.port)
        parts.send(#"{"type": "session.con"#, fin: false)
        parts.send(#"fig", "voice": "ryan", "max_frames": 4}"#, opcode: 0)
        parts.send(#"{"type": "input.text", "text": "Hi."}"#)
        parts.send(#"{"type": "input.done"}"#)
        XCTAssertTrue(parts.receive(until: "session.done").contains("session.done"))
        try await server.stop()
    }
}

extension SpeechStreamSocketTests {
    /// Shutting down gives a running utterance the grace period, as HTTP requests get, then
    /// closes the sessions: one whose client neither reads nor answers the close is cut off 5 s
    /// later (it used to hold the shutdown for the write timeout, 30 s, then for the idle one).
    func testShutdownEndsSessionsPromptly() async throws {
        let server = try await TestServer.start { $0.shutdownGrace = 1 }
        let idle = try RawWebSocket(port: server.port)
        idle.send(#"{"type": "session.config", "voice": "ryan"}"#)
        let talking = try RawWebSocket(port: server.port)
        talking.send(#"{"type": "session.config", "voice": "ryan", "max_frames": 8000, "seed": 3, "response_format": "pcm"}"#)
        talking.send(#"{"type": "input.text", "text": "Keep talking, please."}"#)
        talking.send(#"{"type": "input.done"}"#)
        XCTAssertTrue(talking.receive(until: "audio.start").contains("audio.start"))
        let start = ContinuousClock.now
        try await server.stop()
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(8))
        let active = await server.server.scheduler.stats.active
        XCTAssertEqual(active, 0)
        withExtendedLifetime((idle, talking)) {}
    }
}
