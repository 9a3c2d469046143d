// The hostile-client suite of issue #15 against the real daemon process: malformed multipart
// bodies, 100,000-deep JSON, the combining grapheme, huge instructions, a frame cap of 10^9 with
// a repetition penalty of 1e-30, slow headers and bodies, 16 concurrent maximum-size uploads, a
// client that never reads, a half-closed client, a forged browser request. Afterwards the daemon
// is alive, a normal request succeeds, and its resident memory is back within 10% of idle.
import Foundation
import TTSRuntime
import TTSServer
import TTSTestSupport
import XCTest

final class DaemonHostileTests: XCTestCase {
    func testTheDaemonSurvivesHostileClientsAtItsIdleMemory() async throws {
        let voices = try CLI.temporaryDirectory()
        let maxUpload = 4 << 20
        // QWEN3_TTS_HOSTILE_MODEL: another Base model (a full-size GGUF, measured by hand).
        let model = ProcessInfo.processInfo.environment["QWEN3_TTS_HOSTILE_MODEL"] ?? CLI.checkpoint("tiny-base-0b6")
        let daemon = try Daemon.start(["--model", model, "--voices", voices, "--max-upload", String(maxUpload),
                                       "--idle-timeout", "1", "--read-timeout", "1", "--write-timeout", "1", "--timeout", "60"])
        defer { _ = daemon.terminate() }
        let address = try ServerAddress(daemon.tcp)
        guard case .tcp(_, let port) = address else { return XCTFail("no TCP address") }
        let json = [("Content-Type", "application/json")]

        func speak() async throws -> Int {
            let body = #"{"model":"tts-1","input":"Still speaking.","voice":"anna","language":"english","max_frames":8}"#
            return try await HTTPClient.fetch("POST", "/v1/audio/speech", to: address, headers: json, body: Data(body.utf8)).head.status
        }
        func upload(_ parts: [(String, String?, Data)], headers: [(String, String)] = []) async throws -> Int {
            let (body, type) = multipart(parts)
            return try await HTTPClient.fetch("POST", "/v1/audio/voices", to: address, headers: [("Content-Type", type)] + headers, body: body).head.status
        }
        var rng = SystemRandomNumberGenerator()
        let noise = Data((0..<(maxUpload - 1024)).map { _ in UInt8.random(in: 0...255, using: &rng) })
        func maximumUploads(_ n: Int) async throws -> [Int] {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<n { group.addTask { try await upload([("name", nil, Data("Big".utf8)), ("audio", "a.wav", noise)]) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }

        // Warm up: a voice, speech with it, and two maximum-size uploads at once (the budget).
        let reference = (0..<36000).map { Float(0.3 * sin(Double($0) * 0.05) + 0.1 * sin(Double($0) * 0.23)) }
        let wav = WAV.encode(reference, sampleRate: 24000, encoding: .pcm16)
        let created = try await upload([("name", nil, Data("Anna".utf8)), ("audio", "ref.wav", wav), ("text", nil, Data("A steady hum.".utf8))])
        XCTAssertEqual(created, 201)
        for _ in 0..<3 { _ = try await speak() }
        let warmUploads = try await maximumUploads(2)
        XCTAssertTrue(warmUploads.allSatisfy { $0 == 400 || $0 == 503 }, "\(warmUploads)")
        let warmStatus = try await speak()
        XCTAssertEqual(warmStatus, 200)
        /// The daemon's RSS and allocated heap bytes once no request runs and what the last one
        /// freed has been handed back (it trims when it goes idle).
        func settledMemory() async throws -> (resident: Int, heap: Int) {
            var health: [String: Any] = [:]
            for _ in 0..<200 {
                let (_, data) = try await HTTPClient.fetch("GET", "/health", to: address)
                health = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
                if health["active"] as? Int == 0 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            XCTAssertEqual(health["active"] as? Int, 0, "\(health)")
            try await Task.sleep(for: .milliseconds(300))
            let (_, data) = try await HTTPClient.fetch("GET", "/health", to: address)
            health = (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:]
            return (try XCTUnwrap(daemon.residentBytes), try XCTUnwrap(health["heap_in_use_bytes"] as? Int))
        }
        let idle = try await settledMemory()

        /// One round of the hostile suite.
        func hostileRound() async throws {
            // Malformed multipart bodies, the first of them issue #15's 24 bytes.
            for body in ["--B\r\n\r\nx\r\n--B--\r\n", "--B\r\n\r\n\r\n", "--B--", "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx",
                         String(repeating: "--B\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nx\r\n", count: 100) + "--B--\r\n"] {
                let (head, _) = try await HTTPClient.fetch("POST", "/v1/audio/voices", to: address,
                                                           headers: [("Content-Type", "multipart/form-data; boundary=B")], body: Data(body.utf8))
                XCTAssertEqual(head.status, 400, body.debugDescription)
            }
            // Bodies built to expand.
            let hostileBodies: [(String, Int)] = [
                (String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000), 400),
                (#"{"model":"tts-1","voice":"anna","input":"e"# + String(repeating: "\u{301}", count: 60_000) + #""}"#, 400),
                (#"{"model":"tts-1","voice":"anna","input":"Hi.","instructions":""# + String(repeating: "calm ", count: 40_000) + #""}"#, 400),
                (#"{"model":"tts-1","voice":"anna","input":"Hi.","max_frames":1000000000,"repetition_penalty":1e-30}"#, 400),
            ]
            for (body, status) in hostileBodies {
                let (head, data) = try await HTTPClient.fetch("POST", "/v1/audio/speech", to: address, headers: json, body: Data(body.utf8))
                XCTAssertEqual(head.status, status, String(decoding: data, as: UTF8.self))
            }
            // Slow headers and a slow body: cut by the idle and read timeouts.
            let slowHeaders = try RawConnection(port: port)
            slowHeaders.send("POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            let slowBody = try RawConnection(port: port)
            slowBody.send("POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{")
            var cut = (headers: false, body: false)
            for i in 0..<30 where !(cut.headers && cut.body) {
                if !cut.headers { cut.headers = !slowHeaders.send("X-\(i): y\r\n") || slowHeaders.receive(seconds: 0.15).closed }
                if !cut.body { cut.body = !slowBody.send(" ") || slowBody.receive(seconds: 0.15).closed }
            }
            XCTAssertTrue(cut.headers && cut.body, "\(cut)")
            // Sixteen maximum-size uploads at once: two are read, the rest refused at once.
            let statuses = try await maximumUploads(16)
            XCTAssertTrue(statuses.allSatisfy { $0 == 400 || $0 == 503 }, "\(statuses)")
            // A client that never reads, and one that half-closes after its request.
            let long = #"{"model":"tts-1","voice":"anna","input":"A long one.","max_frames":4000,"seed":3,"response_format":"pcm"}"#
            let request = "POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(long.utf8.count)\r\n\r\n\(long)"
            let silent = try RawConnection(port: port, receiveBuffer: 4096)
            silent.send(request)
            let leaving = try RawConnection(port: port)
            leaving.send(request)
            leaving.shutdownWrite()
            XCTAssertTrue(silent.waitForClose(seconds: 300), "a client that never reads was not dropped")
            // A web page's forged upload.
            let forged = try await upload([("name", nil, Data("Evil".utf8)), ("audio", "a.wav", wav)], headers: [("Origin", "http://evil.example")])
            XCTAssertEqual(forged, 403)

        }

        // Four rounds: after each the daemon is alive and serves a normal request, and the heap
        // it has allocated is back within 10% of idle (+1 MiB for the allocator's own tables):
        // nothing a hostile client sends stays allocated. RSS is bounded more loosely, and said
        // why: glibc keeps freed memory in per-thread arenas (SystemMetrics.retainFreedMemory),
        // and even after the daemon trims at idle, a burst of 16 concurrent 4 MB uploads leaves
        // 5 to 20 MB of it (measured on this 70 MB test model: 2% of a 0.6B model's 1.1 GB).
        var after: [(resident: Int, heap: Int)] = []
        for _ in 0..<4 {
            try await hostileRound()
            let status = try await speak()
            XCTAssertEqual(status, 200)
            XCTAssertTrue(daemon.process.isRunning)
            after.append(try await settledMemory())
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: voices), ["Anna.voice"])
        print("hostile suite: idle RSS \(idle.resident >> 20) MiB, heap \(idle.heap >> 10) KiB; after each round RSS \(after.map { $0.resident >> 20 }) MiB, heap \(after.map { $0.heap >> 10 }) KiB")
        for m in after {
            XCTAssertLessThanOrEqual(Double(m.heap), Double(idle.heap) * 1.1 + 1_048_576, "allocated memory returns within 10% of idle")
            // The round's two 4000-frame requests (a client that never reads, one that
            // half-closes) generate together in the batch; backpressure pauses the one whose
            // client does not read after 4 undelivered chunks, so its audio does not pile up.
            // Measured here with backpressure: 80-87 MiB against idle 66 (without it, on the CI
            // machine: 85-108 against idle 71-76, which had needed a 48 MiB bound).
            XCTAssertLessThanOrEqual(Double(m.resident), Double(idle.resident) + 32 * 1_048_576, "RSS stays within the allocator's arenas of idle")
        }
        XCTAssertEqual(daemon.terminate(), 0, daemon.log.text)
    }
}
