// The real daemon binary on loopback, called the ways users call it: curl over TCP and over the
// Unix socket, the official `openai` Python package, and `qwen3-tts client`. Then a bounded load
// test and a SIGTERM.
import Foundation
import Synchronization
import TTSRuntime
import TTSServer
import XCTest

final class DaemonEndToEndTests: XCTestCase {
    private let text = "The daemon speaks exactly as synthesize does."
    private let seed = 5
    private let maxFrames = 40
    private var model: String { CLI.checkpoint("tiny-cv-0b6") }

    private var requestJSON: String {
        #"{"model":"tts-1","input":"\#(text)","voice":"ryan","language":"english","seed":\#(seed),"max_frames":\#(maxFrames)}"#
    }

    /// `synthesize` with the same request: streamed (the daemon's own chunking) and in one pass.
    private func references(in dir: String) throws -> (stream: Data, onePass: Data) {
        let common = ["synthesize", "--model", model, "--text", text, "--speaker", "ryan", "--language", "english",
                      "--seed", String(seed), "--max-frames", String(maxFrames)]
        let streamed = try CLI.run(common + ["--stream", "-o", dir + "/ref_stream.wav"])
        XCTAssertEqual(streamed.status, 0, streamed.stderr)
        let whole = try CLI.run(common + ["-o", dir + "/ref.wav"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        return (try Data(contentsOf: URL(fileURLWithPath: dir + "/ref_stream.wav")),
                try Data(contentsOf: URL(fileURLWithPath: dir + "/ref.wav")))
    }

    /// Same samples as the streamed reference, bit for bit; within one 16-bit step of the one-pass
    /// decode (chunked and one-pass decoding differ by float rounding, see StreamingDecoderTests).
    private func assertSameAudio(_ got: Data, _ refs: (stream: Data, onePass: Data), _ what: String, line: UInt = #line) {
        let g = pcm16(got), s = pcm16(refs.stream), o = pcm16(refs.onePass)
        XCTAssertEqual(g.count, maxFrames * 1920, what, line: line)
        XCTAssertEqual(g, s, "\(what) differs from synthesize --stream", line: line)
        XCTAssertEqual(g.count, o.count, what, line: line)
        let worst = zip(g, o).map { abs(Int($0) - Int($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1, "\(what) vs synthesize", line: line)
    }

    private func run(_ program: String, _ args: [String]) throws -> CLI.Result {
        try CLI.runProgram(program, args)
    }

    func testClientsGetWhatSynthesizeProduces() throws {
        let dir = try CLI.temporaryDirectory()
        let socket = dir + "/tts.sock"
        let refs = try references(in: dir)
        let daemon = try Daemon.start(["--model", model], socket: socket)
        defer { _ = daemon.terminate() }

        // curl over TCP and over the Unix socket.
        let curl = which("curl")
        try requireTool(curl != nil, "curl")
        let tcp = try run(curl!, ["-sS", "--fail-with-body", "-o", dir + "/tcp.wav", daemon.tcp + "/v1/audio/speech",
                                  "-H", "Content-Type: application/json", "-d", requestJSON])
        XCTAssertEqual(tcp.status, 0, tcp.stderr)
        assertSameAudio(try Data(contentsOf: URL(fileURLWithPath: dir + "/tcp.wav")), refs, "curl over TCP")
        let unix = try run(curl!, ["-sS", "--fail-with-body", "--unix-socket", socket, "-o", dir + "/unix.wav",
                                   "http://localhost/v1/audio/speech", "-H", "Content-Type: application/json", "-d", requestJSON])
        XCTAssertEqual(unix.status, 0, unix.stderr)
        assertSameAudio(try Data(contentsOf: URL(fileURLWithPath: dir + "/unix.wav")), refs, "curl over the socket")

        // `qwen3-tts client`, over the socket; its file gets real WAV sizes.
        let client = try CLI.run(["client", text, "--voice", "ryan", "--language", "english", "--seed", String(seed),
                                  "--socket", socket, "--output", dir + "/client.wav"])
        XCTAssertEqual(client.status, 0, client.stderr)
        let clientWAV = try Data(contentsOf: URL(fileURLWithPath: dir + "/client.wav"))
        XCTAssertNotNil(WAVInfo(clientWAV), "client output is a WAV with its sizes filled in")
        let bad = try CLI.run(["client", text, "--voice", "nobody", "--server", daemon.tcp, "--output", dir + "/bad.wav"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("unknown speaker"), bad.stderr)

        // The official OpenAI SDK, whole and streamed.
        let python = which("python3")
        let hasOpenAI = try python.map { try run($0, ["-c", "import openai"]).status == 0 } ?? false
        try requireTool(hasOpenAI, "python3 with the openai package")
        let script = CLI.testsDir.deletingLastPathComponent().appendingPathComponent("scripts/e2e/openai_speech.py").path
        let sdk = try run(python!, [script, daemon.tcp, dir, "--voice", "ryan", "--language", "english", "--seed", String(seed),
                                    "--max-frames", String(maxFrames), "--input", text])
        XCTAssertEqual(sdk.status, 0, sdk.stderr + String(decoding: sdk.stdout, as: UTF8.self))
        for name in ["openai_whole.wav", "openai_stream.wav"] {
            assertSameAudio(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)), refs, name)
        }

        XCTAssertEqual(daemon.terminate(), 0, daemon.log.text)
        XCTAssertFalse(FileManager.default.fileExists(atPath: socket), "the socket file is removed at shutdown")
    }

    /// A Python WebSocket client (the `websockets` package, as vLLM-Omni's streaming examples
    /// use) sends the text word by word to /v1/audio/speech/stream: the audio is that of
    /// `synthesize` with the whole text in the streaming layout.
    func testAWebSocketClientStreamsText() throws {
        let dir = try CLI.temporaryDirectory()
        let whole = try CLI.run(["synthesize", "--model", model, "--text", text, "--speaker", "ryan", "--language", "english",
                                 "--seed", String(seed), "--stream", "--format", "pcm", "--text-layout", "streaming", "-o", dir + "/whole.pcm"])
        XCTAssertEqual(whole.status, 0, whole.stderr)
        let python = which("python3")
        let hasClient = try python.map { try run($0, ["-c", "import websockets"]).status == 0 } ?? false
        try requireTool(hasClient, "python3 with the websockets package")
        let daemon = try Daemon.start(["--model", model])
        defer { _ = daemon.terminate() }
        let script = CLI.testsDir.deletingLastPathComponent().appendingPathComponent("scripts/e2e/stream_speech.py").path
        let url = daemon.tcp.replacingOccurrences(of: "http://", with: "ws://") + "/v1/audio/speech/stream"
        let client = try run(python!, [script, url, dir + "/ws.pcm", "--voice", "ryan", "--language", "english", "--seed", String(seed), "--input", text])
        let events = String(decoding: client.stdout, as: UTF8.self)
        XCTAssertEqual(client.status, 0, client.stderr + events)
        XCTAssertTrue(events.contains(#""type":"session.done""#), events)
        let expected = try Data(contentsOf: URL(fileURLWithPath: dir + "/whole.pcm"))
        XCTAssertFalse(expected.isEmpty)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/ws.pcm")), expected)
    }

    /// Voices over HTTP with curl: a 1.1 MB upload (curl asks `Expect: 100-continue` and gets it),
    /// speech in the new in-context voice equal to `synthesize --voice` on the saved file, delete.
    func testVoicesUploadedWithCurl() throws {
        let dir = try CLI.temporaryDirectory()
        let voices = dir + "/voices"
        try FileManager.default.createDirectory(atPath: voices, withIntermediateDirectories: true)
        let base = CLI.checkpoint("tiny-base-0b6")
        var samples = [Float](repeating: 0, count: 12 * 24000)
        for i in samples.indices {
            let t = Double(i)
            samples[i] = Float(0.3 * sin(t * 0.031) * (0.7 + 0.3 * sin(t * 0.0007)))
        }
        try WAV.encode(samples, sampleRate: 24000, encoding: .float32).write(to: URL(fileURLWithPath: dir + "/ref.wav"))
        let daemon = try Daemon.start(["--model", base, "--voices", voices])
        defer { _ = daemon.terminate() }
        let curl = which("curl")
        try requireTool(curl != nil, "curl")
        let upload = try run(curl!, ["-sS", "-v", "--fail-with-body", "-F", "name=Nova", "-F", "audio=@\(dir)/ref.wav",
                                     "-F", "text=A slow, steady hum.", daemon.tcp + "/v1/audio/voices"])
        XCTAssertEqual(upload.status, 0, upload.stderr)
        XCTAssertTrue(upload.stderr.contains("100 Continue"), "the server answers Expect: 100-continue")
        let created = try JSONSerialization.jsonObject(with: upload.stdout) as? [String: Any]
        XCTAssertEqual(created?["mode"] as? String, "icl")
        XCTAssertTrue(FileManager.default.fileExists(atPath: voices + "/Nova.voice"))

        let request = #"{"model":"tts-1","input":"Speaking in the uploaded voice.","voice":"nova","language":"english","seed":3,"max_frames":20}"#
        let speech = try run(curl!, ["-sS", "--fail-with-body", "-o", dir + "/nova.wav", daemon.tcp + "/v1/audio/speech",
                                     "-H", "Content-Type: application/json", "-d", request])
        XCTAssertEqual(speech.status, 0, speech.stderr)
        let reference = try CLI.run(["synthesize", "--model", base, "--voice", voices + "/Nova.voice", "--text", "Speaking in the uploaded voice.",
                                     "--language", "english", "--seed", "3", "--max-frames", "20", "--stream", "-o", dir + "/ref_nova.wav"])
        XCTAssertEqual(reference.status, 0, reference.stderr)
        XCTAssertEqual(pcm16(try Data(contentsOf: URL(fileURLWithPath: dir + "/nova.wav"))),
                       pcm16(try Data(contentsOf: URL(fileURLWithPath: dir + "/ref_nova.wav"))), "daemon and CLI speak the voice alike")

        let delete = try run(curl!, ["-sS", "--fail-with-body", "-X", "DELETE", daemon.tcp + "/v1/audio/voices/Nova"])
        XCTAssertEqual(delete.status, 0, delete.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: voices + "/Nova.voice"))
        XCTAssertEqual(daemon.terminate(), 0, daemon.log.text)
    }

    /// 50 requests from 8 concurrent clients against 2 slots and a queue of 4: every request is
    /// served correctly or refused with 429, nothing hangs, and memory returns to its idle level.
    func testBoundedLoad() async throws {
        let dir = try CLI.temporaryDirectory()
        let refs = try references(in: dir)
        let daemon = try Daemon.start(["--model", model, "--max-concurrent", "2", "--queue", "4", "--timeout", "120"])
        defer { _ = daemon.terminate() }
        let address = try ServerAddress(daemon.tcp)
        let body = Data(requestJSON.utf8)
        let headers = [("Content-Type", "application/json")]
        // Warm up with two concurrent requests so the idle level includes both sessions' buffers.
        async let w1 = HTTPClient.fetch("POST", "/v1/audio/speech", to: address, headers: headers, body: body)
        async let w2 = HTTPClient.fetch("POST", "/v1/audio/speech", to: address, headers: headers, body: body)
        let warm = try await [w1, w2]
        XCTAssertEqual(warm.map(\.head.status), [200, 200])
        let idle = try XCTUnwrap(daemon.residentBytes)

        let expected = refs.stream.dropFirst(44)
        let outcomes = try await withThrowingTaskGroup(of: [Int].self) { group in
            let next = Counter()
            for _ in 0..<8 {
                group.addTask {
                    var statuses: [Int] = []
                    while next.take() < 50 {
                        let (head, data) = try await HTTPClient.fetch("POST", "/v1/audio/speech", to: address, headers: headers, body: body)
                        switch head.status {
                        case 200:
                            XCTAssertEqual(data.dropFirst(44), expected, "a served request carries the right audio")
                        case 429:
                            let error = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["error"] as? [String: Any]
                            XCTAssertEqual(error?["type"] as? String, "rate_limit_error")
                            XCTAssertEqual(head.header("Retry-After"), "1")
                            // A polite client waits before its next request (not the full second).
                            try await Task.sleep(for: .milliseconds(100))
                        default:
                            XCTFail("unexpected status \(head.status): \(String(decoding: data, as: UTF8.self))")
                        }
                        statuses.append(head.status)
                    }
                    return statuses
                }
            }
            return try await group.reduce(into: [Int]()) { $0 += $1 }
        }
        let served = outcomes.filter { $0 == 200 }.count
        let refused = outcomes.filter { $0 == 429 }.count
        XCTAssertEqual(outcomes.count, 50)
        XCTAssertEqual(served + refused, 50)
        XCTAssertGreaterThan(served, 0)

        // A slot is released when its producer thread has exited, a moment after the last byte:
        // poll briefly for the idle state rather than racing it.
        var health: [String: Any] = [:]
        for _ in 0..<100 {
            let (head, data) = try await HTTPClient.fetch("GET", "/health", to: address)
            XCTAssertEqual(head.status, 200)
            health = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
            if health["active"] as? Int == 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        XCTAssertEqual(health["active"] as? Int, 0)
        XCTAssertEqual(health["queued"] as? Int, 0)
        XCTAssertEqual(health["completed"] as? Int, served + 2)
        XCTAssertEqual(health["refused"] as? Int, refused)
        let after = try XCTUnwrap(daemon.residentBytes)
        print("load: \(served) served, \(refused) refused; RSS idle \(idle >> 20) MiB, after \(after >> 20) MiB")
        XCTAssertLessThanOrEqual(Double(after), Double(idle) * 1.1 + 16 * 1048576, "memory returns to its idle level")
        XCTAssertEqual(daemon.terminate(), 0)
    }
}

/// A shared ticket counter for the load test's workers.
final class Counter: Sendable {
    private let value = Mutex(0)
    func take() -> Int { value.withLock { v in defer { v += 1 }; return v } }
}
