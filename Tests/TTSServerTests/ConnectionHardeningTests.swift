// Connections a hostile or broken client holds open (issue #15): slow headers and bodies, more
// connections than allowed, a client that never reads or half-closes, a web page's forged
// request, Expect: 100-continue, concurrent maximum-size uploads, refusals under load.
import Foundation
import TTSRuntime
import TTSTestSupport
import Qwen3TTS
import XCTest
@testable import TTSServer

final class ConnectionHardeningTests: XCTestCase {
    private func expectAlive(_ server: TestServer, file: StaticString = #filePath, line: UInt = #line) async throws {
        let ok = try await server.speech(["model": "tts-1", "input": "Still here.", "voice": "ryan", "max_frames": 2])
        XCTAssertEqual(ok.head.status, 200, String(decoding: ok.body, as: UTF8.self), file: file, line: line)
    }

    /// Headers sent a byte at a time never complete a request part: the idle timeout closes the
    /// connection. A body that trickles in is cut by the read timeout.
    func testSlowHeadersAndBodiesAreCut() async throws {
        let server = try await TestServer.start {
            $0.idleTimeout = 1
            $0.readTimeout = 1
        }
        let p = server.port
        let headers = try RawConnection(port: p)
        headers.send("POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        let start = Date()
        var closed = false
        for i in 0..<40 where !closed {
            closed = !headers.send("X-Slow-\(i): y\r\n") || headers.receive(seconds: 0.2).closed
        }
        XCTAssertTrue(closed, "slow headers were not cut")
        XCTAssertLessThan(Date().timeIntervalSince(start), 6)

        let body = try RawConnection(port: p)
        body.send("POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
        var bodyClosed = false
        for _ in 0..<40 where !bodyClosed {
            bodyClosed = !body.send(" ") || body.receive(seconds: 0.2).closed
        }
        XCTAssertTrue(bodyClosed, "a trickling body was not cut")
        try await expectAlive(server)
        try await server.stop()
    }

    /// Connections beyond the cap wait to be accepted; one closing lets the next in.
    func testOpenConnectionsAreCapped() async throws {
        let server = try await TestServer.start { $0.maxConnections = 3 }
        let p = server.port
        var held = try (0..<3).map { _ in try RawConnection(port: p) }
        try await Task.sleep(for: .milliseconds(200))
        let waiting = try RawConnection(port: p)
        waiting.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(waiting.receive(seconds: 0.7).data.isEmpty, "a connection over the cap was served")
        held.removeFirst()
        let answer = waiting.receive(seconds: 3).data
        XCTAssertTrue(String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 200"), String(decoding: answer, as: UTF8.self))
        held.removeAll()
        try await server.stop()
    }

    /// A client that never reads: its request stops generating once the kernel's send buffer
    /// and 4 chunks wait (backpressure), instead of running on until the write timeout with all
    /// that audio held in memory; after the write timeout the connection is closed and the
    /// request ends. Without backpressure this request ran to ~1400 frames in 4 s here, so the
    /// timeout is 8 s to make the difference plain.
    func testAClientThatNeverReadsIsPausedThenDropped() async throws {
        let server = try await TestServer.start { $0.writeTimeout = 8 }
        let silent = try RawConnection(port: server.port, receiveBuffer: 4096)
        let body = #"{"model": "tts-1", "input": "A long one.", "voice": "ryan", "max_frames": 8000, "seed": 3, "response_format": "pcm"}"#
        silent.send("POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        let health = try await server.waitForHealth(seconds: 300) { ($0["cancelled"] as? Int ?? 0) >= 1 && ($0["active"] as? Int) == 0 }
        XCTAssertEqual(health["cancelled"] as? Int, 1, "\(health)")
        // What the kernel can hold for the socket (3840 bytes of pcm per frame), the 4 chunks
        // of the first-chunk policy, and a chunk in the writer.
        let sendBuffer = (try? String(contentsOfFile: "/proc/sys/net/ipv4/tcp_wmem", encoding: .utf8))
            .flatMap { $0.split(whereSeparator: \.isWhitespace).last.flatMap { Int($0) } } ?? 4 << 20
        let streaming = StreamOptions()
        let bound = sendBuffer / 3840 + streaming.firstChunkFrames + streaming.chunkFrames * (streaming.maxBufferedChunks + 1)
        print("frames generated for a client that never read: \(health["frames"] ?? "?") (bound \(bound))")
        XCTAssertLessThanOrEqual(health["frames"] as? Int ?? .max, bound, "generation went on for a client that did not read")
        XCTAssertTrue(silent.waitForClose(seconds: 5))
        try await expectAlive(server)
        try await server.stop()
    }

    /// A client that sends its request and half-closes has left: its work stops.
    func testAHalfClosedClientStopsItsWork() async throws {
        let server = try await TestServer.start()
        let client = try RawConnection(port: server.port)
        let body = #"{"model": "tts-1", "input": "Going.", "voice": "ryan", "max_frames": 8000, "seed": 3}"#
        client.send("POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        client.shutdownWrite()
        let health = try await server.waitForHealth(seconds: 300) { ($0["cancelled"] as? Int ?? 0) >= 1 && ($0["active"] as? Int) == 0 }
        XCTAssertEqual(health["cancelled"] as? Int, 1, "\(health)")
        XCTAssertLessThan(health["frames"] as? Int ?? .max, 8000)
        try await expectAlive(server)
        try await server.stop()
    }

    /// A web page's form POST (CORS-simple, so the browser sends it without asking) carries its
    /// Origin; DNS rebinding carries a foreign Host. Both are refused before any work.
    func testForgedBrowserRequestsAreRefused() async throws {
        let dir = NSTemporaryDirectory() + "voices-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try await TestServer.start("tiny-base-0b6") {
            $0.voicesDirectory = dir
            $0.allowedOrigins = ["http://localhost:3000"]
        }
        let wav = WAV.encode(VoiceRoutesTests.referenceAudio.samples, sampleRate: 24000, encoding: .pcm16)
        let (form, type) = multipart([("name", nil, Data("Evil".utf8)), ("audio", "a.wav", wav)])
        let forged = try await HTTPClient.fetch("POST", "/v1/audio/voices", to: server.address,
                                                headers: [("Content-Type", type), ("Origin", "http://evil.example")], body: form)
        XCTAssertEqual(forged.head.status, 403)
        XCTAssertEqual(apiError(forged.body)?["code"] as? String, "origin_not_allowed")
        let speech = try await server.speech(Data(#"{"model":"tts-1","input":"hi"}"#.utf8),
                                             headers: [("Content-Type", "text/plain"), ("Origin", "null")])
        XCTAssertEqual(speech.head.status, 403)
        let raw = try RawConnection(port: server.port)
        raw.send("GET /v1/audio/voices HTTP/1.1\r\nHost: evil.example:8000\r\nConnection: close\r\n\r\n")
        let rebound = String(decoding: raw.receive(seconds: 3).data, as: UTF8.self)
        XCTAssertTrue(rebound.hasPrefix("HTTP/1.1 403") && rebound.contains("host_not_allowed"), rebound)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "a refused upload writes nothing")
        // An allowed origin, and clients that send none, are served.
        let allowed = try await server.get("/v1/audio/voices", headers: [("Origin", "http://localhost:3000")])
        XCTAssertEqual(allowed.status, 200)
        try await server.stop()
    }

    /// "100 Continue" only for a request that will be read: a missing key or a declared size over
    /// the limit gets its final answer at once, and the body is never sent.
    func testExpectContinueIsAnsweredAfterTheChecks() async throws {
        let server = try await TestServer.start {
            $0.apiKey = "secret"
            $0.maxBodyBytes = 4096
        }
        func head(_ headers: String) throws -> String {
            let raw = try RawConnection(port: server.port)
            raw.send("POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nExpect: 100-continue\r\n\(headers)\r\n")
            return String(decoding: raw.receive(seconds: 1).data, as: UTF8.self)
        }
        let noKey = try head("Content-Length: 100\r\n")
        XCTAssertTrue(noKey.hasPrefix("HTTP/1.1 401"), noKey)
        let tooBig = try head("Authorization: Bearer secret\r\nContent-Length: 100000\r\n")
        XCTAssertTrue(tooBig.hasPrefix("HTTP/1.1 413"), tooBig)
        let fine = try head("Authorization: Bearer secret\r\nContent-Length: 100\r\n")
        XCTAssertTrue(fine.hasPrefix("HTTP/1.1 100"), fine)
        try await server.stop()
    }

    /// Sixteen maximum-size uploads at once: at most the budget is buffered; the rest are refused
    /// at once with 503, and the daemon serves on.
    func testConcurrentMaximumUploadsStayWithinTheBudget() async throws {
        let dir = NSTemporaryDirectory() + "voices-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let limit = 4 << 20
        let server = try await TestServer.start("tiny-base-0b6") {
            $0.voicesDirectory = dir
            $0.maxUploadBytes = limit
        }
        // Random bytes (not a WAV): each upload is read whole, then refused as audio.
        var rng = SystemRandomNumberGenerator()
        let noise = Data((0..<(limit - 1024)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        let (form, type) = multipart([("name", nil, Data("Big".utf8)), ("audio", "a.wav", noise)])
        XCTAssertLessThanOrEqual(form.count, limit)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    try await HTTPClient.fetch("POST", "/v1/audio/voices", to: server.address, headers: [("Content-Type", type)], body: form).head.status
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        XCTAssertEqual(statuses.count, 16)
        XCTAssertTrue(statuses.allSatisfy { $0 == 400 || $0 == 503 }, "\(statuses)")
        XCTAssertGreaterThan(statuses.filter { $0 == 400 }.count, 0)
        XCTAssertGreaterThan(statuses.filter { $0 == 503 }.count, 0, "\(statuses)")
        let health = try await server.health()
        XCTAssertEqual(health["status"] as? String, "ok")
        try await server.stop()
    }

    /// Refusals sent before the body is read (415, 413, 401) reach the client as answers, not as
    /// "I/O on closed channel", even with a large body and a busy core (the flake of #15/#20).
    func testEarlyRefusalsAreAnsweredUnderLoad() async throws {
        let server = try await TestServer.start { $0.apiKey = "k" }
        let busy = Task.detached {
            var x = 0.0
            while !Task.isCancelled { for i in 0..<100_000 { x += sin(Double(i)) } }
            return x
        }
        defer { busy.cancel() }
        let big = Data(repeating: 120, count: 2 << 20), medium = Data(repeating: 120, count: 200_000)
        for _ in 0..<10 {
            let wrongType = try await HTTPClient.fetch("POST", "/v1/audio/speech", to: server.address,
                                                       headers: [("Content-Type", "text/plain"), ("Authorization", "Bearer k")], body: medium)
            XCTAssertEqual(wrongType.head.status, 415)
            let tooLarge = try await HTTPClient.fetch("POST", "/v1/audio/speech", to: server.address,
                                                      headers: [("Content-Type", "application/json"), ("Authorization", "Bearer k")], body: big)
            XCTAssertEqual(tooLarge.head.status, 413)
            let noKey = try await HTTPClient.fetch("POST", "/v1/audio/speech", to: server.address,
                                                   headers: [("Content-Type", "application/json")], body: big)
            XCTAssertEqual(noKey.head.status, 401)
        }
        try await server.stop()
    }
}
