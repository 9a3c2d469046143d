// What docs/API.md promises and no other test checked: model ids and aliases, response headers
// and SSE usage, shutdown with running and queued requests, socket files, --no-tcp.
import Foundation
import Logging
import Qwen3TTS
import XCTest
@testable import TTSServer

final class DocumentedBehaviourTests: XCTestCase {
    private let request: [String: Any] = ["model": "tts-1", "input": "Documented.", "voice": "ryan",
                                          "language": "english", "seed": 3, "max_frames": 3]

    /// --model-id names the served model; it and the OpenAI aliases are accepted, anything else
    /// (the checkpoint's own name included, once renamed) is 404 model_not_found.
    func testModelIdAndAliases() async throws {
        let server = try await TestServer.start { $0.modelID = "house-voice" }
        let models = try await server.get("/v1/models")
        let ids = (models.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
        XCTAssertEqual(ids, ["house-voice", "qwen3-tts", "tts-1", "tts-1-hd", "gpt-4o-mini-tts"])
        for id in ids {
            var r = request
            r["model"] = id
            let status = try await server.speech(r).head.status
            XCTAssertEqual(status, 200, id)
        }
        for id in ["tiny-cv-0b6", "whisper-1", "TTS-1"] {
            var r = request
            r["model"] = id
            let reply = try await server.speech(r)
            XCTAssertEqual(reply.head.status, 404, id)
            XCTAssertEqual(apiError(reply.body)?["code"] as? String, "model_not_found", id)
        }
        try await server.stop()
    }

    /// Headers X-Seed and X-Sample-Rate on every format; the SSE stream ends with usage counting
    /// input characters and output frames.
    func testHeadersAndSSEUsage() async throws {
        let server = try await TestServer.start()
        for (format, stream) in [("wav", "audio"), ("pcm", "audio"), ("pcm", "sse")] {
            var r = request
            r["response_format"] = format
            r["stream_format"] = stream
            let reply = try await server.speech(r)
            XCTAssertEqual(reply.head.status, 200)
            XCTAssertEqual(reply.head.header("X-Sample-Rate"), "24000", "\(format) \(stream)")
            XCTAssertEqual(reply.head.header("X-Seed"), "3")
            guard stream == "sse" else { continue }
            let events = String(decoding: reply.body, as: UTF8.self).components(separatedBy: "\n\n").filter { !$0.isEmpty }
            let done = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(events.last).dropFirst(6).utf8)) as? [String: Any])
            XCTAssertEqual(done["type"] as? String, "speech.audio.done")
            let usage = try XCTUnwrap(done["usage"] as? [String: Int])
            XCTAssertEqual(usage["input_tokens"], "Documented.".count)
            XCTAssertEqual(usage["output_tokens"], 3, "frames")
            XCTAssertEqual(usage["total_tokens"], "Documented.".count + 3)
        }
        try await server.stop()
    }

    /// At shutdown a queued request and a new one get 503 shutting_down; the running one gets
    /// --shutdown-grace seconds, then is stopped; then the server ends.
    func testShutdownWithRunningAndQueuedRequests() async throws {
        let server = try await TestServer.start { $0.maxConcurrent = 1; $0.maxQueued = 4; $0.shutdownGrace = 1 }
        var long = request
        long["max_frames"] = 8000
        long["temperature"] = 0.0001  // near-greedy, so an early end of speech is not drawn by chance
        let longBody = try JSONSerialization.data(withJSONObject: long), shortBody = try JSONSerialization.data(withJSONObject: request)
        let running = Task { try await server.speech(longBody) }
        _ = try await server.waitForHealth { $0["active"] as? Int == 1 }
        let queued = Task { try await server.speech(shortBody) }
        _ = try await server.waitForHealth { $0["queued"] as? Int == 1 }
        let start = Date()
        server.server.shutdown()
        let refused = try await queued.value
        XCTAssertEqual(refused.head.status, 503)
        XCTAssertEqual(apiError(refused.body)?["code"] as? String, "shutting_down")
        let late = try await server.speech(request)
        XCTAssertEqual(late.head.status, 503)
        XCTAssertEqual(apiError(late.body)?["code"] as? String, "shutting_down")
        // The running stream is cut when the grace ends (it does not look complete).
        do {
            _ = try await running.value
            XCTFail("an 8000-frame stream cannot have finished within the 1 s grace")
        } catch let e as ClientError {
            guard case .incompleteResponse = e else { return XCTFail("\(e)") }
        }
        try await server.task.value
        let took = Date().timeIntervalSince(start)
        XCTAssertGreaterThanOrEqual(took, 0.9, "the running request had its grace")
        XCTAssertLessThan(took, 6)
    }

    /// A stale socket file (its server died without removing it) is replaced; a live one is
    /// refused; the file is removed at shutdown; with --no-tcp only the socket listens.
    func testSocketFilesAndNoTCP() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tts-\(UUID().uuidString.prefix(8)).sock").path
        defer { unlink(path) }
        // A stale socket: bound, never listened on, its descriptor closed, the file left behind.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in _ = path.utf8CString.withUnsafeBytes { memcpy(p.baseAddress!, $0.baseAddress!, $0.count) } }
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        XCTAssertEqual(bound, 0)
        close(fd)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))

        let server = try await TestServer.start { $0.port = nil; $0.socketPath = path }
        XCTAssertEqual(server.address, .unix(path: path), "with --no-tcp the socket is the only listener")
        let reply = try await server.speech(request)
        XCTAssertEqual(reply.head.status, 200)

        // A second server on the live socket is refused and leaves the first one working.
        var second = ServerConfiguration(modelPath: Fixture.path("tiny-cv-0b6"))
        second.port = nil
        second.socketPath = path
        let other = try SpeechServer(configuration: second, logger: Logger(label: "second"), loader: { _ in try Fixture.model("tiny-cv-0b6") })
        do {
            try await other.run(handleSignals: false)
            XCTFail("a live socket must not be taken over")
        } catch let e as ServerError {
            XCTAssertEqual("\(e)", "another server is listening on \(path)")
        }
        let again = try await server.speech(request).head.status
        XCTAssertEqual(again, 200)

        try await server.stop()
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "the socket file is removed at shutdown")

        // A path that is not a socket is never replaced.
        FileManager.default.createFile(atPath: path, contents: Data("keep me".utf8))
        let blocked = try SpeechServer(configuration: second, logger: Logger(label: "second"), loader: { _ in try Fixture.model("tiny-cv-0b6") })
        do {
            try await blocked.run(handleSignals: false)
            XCTFail("a regular file must not be replaced")
        } catch let e as ServerError {
            XCTAssertTrue("\(e)".contains("is not a socket"), "\(e)")
        }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), Data("keep me".utf8))
    }

    /// Voice uploads over --max-upload are refused with 413 from their Content-Length, before the
    /// body is read; the same upload under the limit reaches the parser (400 for this garbage).
    func testVoiceUploadsOverTheLimitAre413() async throws {
        let voices = FileManager.default.temporaryDirectory.appendingPathComponent("voices-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: voices, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: voices) }
        let server = try await TestServer.start("tiny-base-0b6") { $0.voicesDirectory = voices; $0.maxUploadBytes = 100_000 }
        let headers = [("Content-Type", "multipart/form-data; boundary=xyz")]
        let over = try await HTTPClient.fetch("POST", "/v1/audio/voices", to: server.address, headers: headers,
                                              body: Data(repeating: 65, count: 100_001))
        XCTAssertEqual(over.head.status, 413)
        XCTAssertEqual(apiError(over.body)?["code"] as? String, "body_too_large")
        let under = try await HTTPClient.fetch("POST", "/v1/audio/voices", to: server.address, headers: headers,
                                               body: Data(repeating: 65, count: 100_000))
        XCTAssertEqual(under.head.status, 400)
        try await server.stop()
    }
}
