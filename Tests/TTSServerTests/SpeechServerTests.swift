// The daemon in-process on loopback with fixture checkpoints: the API contract, bad input,
// authentication, loading, concurrency and disconnects.
import Foundation
import Qwen3TTS
import TTSRuntime
import XCTest
@testable import TTSServer

final class SpeechServerTests: XCTestCase {
    private let request: [String: Any] = ["model": "tts-1", "input": "Hello from the daemon.", "voice": "ryan",
                                          "language": "english", "seed": 11, "max_frames": 40]

    /// The streamed audio is exactly what the engine's own stream produces for the same seed.
    func testSpeechMatchesEngineStream() async throws {
        let server = try await TestServer.start()
        let reply = try await server.speech(request)
        XCTAssertEqual(reply.head.status, 200)
        XCTAssertEqual(reply.head.header("Content-Type"), "audio/wav")
        XCTAssertEqual(reply.head.header("X-Seed"), "11")
        XCTAssertEqual(Array(reply.body.prefix(4)), Array("RIFF".utf8))

        let model = try Fixture.model("tiny-cv-0b6")
        var options = GenerationOptions()
        options.seed = 11
        options.maxFrames = 40
        var expected: [Float] = []
        for try await chunk in model.stream(SynthesisRequest(text: "Hello from the daemon.", language: "english", speaker: "ryan"), options: options) {
            expected += chunk.samples
        }
        XCTAssertEqual(samples(reply.body, wav: true), samples(WAV.pcm(expected, encoding: .pcm16), wav: false))

        // pcm is the same samples without the header; SSE carries the same bytes in base64.
        var pcmRequest = request
        pcmRequest["response_format"] = "pcm"
        let pcm = try await server.speech(pcmRequest)
        XCTAssertEqual(pcm.head.header("Content-Type"), "audio/pcm")
        XCTAssertEqual(pcm.body, reply.body.dropFirst(44))
        pcmRequest["stream_format"] = "sse"
        let sse = try await server.speech(pcmRequest)
        XCTAssertEqual(sse.head.header("Content-Type"), "text/event-stream")
        let events = String(decoding: sse.body, as: UTF8.self).components(separatedBy: "\n\n").filter { !$0.isEmpty }
        var decoded = Data()
        for e in events.dropLast() {
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(e.dropFirst(6).utf8)) as? [String: Any])
            XCTAssertEqual(json["type"] as? String, "speech.audio.delta")
            decoded += try XCTUnwrap(Data(base64Encoded: json["audio"] as? String ?? ""))
        }
        XCTAssertEqual(decoded, pcm.body)
        XCTAssertTrue(events.last?.contains("speech.audio.done") ?? false)
        try await server.stop()
    }

    func testDiscoveryEndpoints() async throws {
        let server = try await TestServer.start()
        let models = try await server.get("/v1/models")
        XCTAssertEqual(models.status, 200)
        let ids = (models.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
        XCTAssertEqual(ids.first, "tiny-cv-0b6")
        XCTAssertTrue(ids.contains("tts-1"))
        do {
            let value = try await server.get("/v1/models/tts-1").status
            XCTAssertEqual(value, 200)
        }
        do {
            let value = try await server.get("/v1/models/whisper-1").status
            XCTAssertEqual(value, 404)
        }
        let voices = try await server.get("/v1/audio/voices")
        let names = (voices.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
        XCTAssertEqual(names, try Fixture.model("tiny-cv-0b6").configuration.speakers)
        XCTAssertEqual(voices.json["instructions"] as? Bool, false)
        let health = try await server.health()
        XCTAssertEqual(health["status"] as? String, "ok")
        XCTAssertEqual(health["max_concurrent"] as? Int, 1)
        try await server.stop()
    }

    /// Every kind of bad request gets a 4xx with an OpenAI-style error, and the server goes on.
    func testBadInputGetsClearErrors() async throws {
        let server = try await TestServer.start { $0.maxBodyBytes = 4096; $0.maxInputCharacters = 100 }
        func check(_ body: Any, headers: [(String, String)] = [("Content-Type", "application/json")],
                   status: Int, param: String? = nil, containing text: String, line: UInt = #line) async throws {
            let reply = try await server.speech(body, headers: headers)
            XCTAssertEqual(reply.head.status, status, String(decoding: reply.body, as: UTF8.self), line: line)
            let error = try XCTUnwrap(apiError(reply.body), line: line)
            XCTAssertEqual(error["param"] as? String, param, line: line)
            XCTAssertTrue((error["message"] as? String ?? "").contains(text), "\(error)", line: line)
            XCTAssertNotNil(error["type"] as? String, line: line)
        }
        func with(_ k: String, _ v: Any) -> [String: Any] {
            var o = request
            o[k] = v
            return o
        }
        try await check(Data("{not json".utf8), status: 400, containing: "not valid JSON")
        try await check(Data("{}".utf8), headers: [("Content-Type", "text/plain")], status: 415, containing: "application/json")
        try await check(Data("{}".utf8), headers: [], status: 415, containing: "application/json")
        try await check(with("input", ""), status: 400, param: "input", containing: "empty")
        try await check(with("input", String(repeating: "x", count: 101)), status: 400, param: "input", containing: "limit is 100")
        try await check(with("voice", "alloy"), status: 400, param: "voice", containing: "valid: aiden")
        try await check(with("model", "whisper-1"), status: 404, param: "model", containing: "does not exist")
        try await check(with("response_format", "ogg"), status: 400, param: "response_format", containing: "supported: wav, pcm, mp3, opus, aac, flac")
        try await check(with("ref_audio", "UklGRg=="), status: 400, param: "ref_audio", containing: "needs a Base model")
        try await check(with("task_type", "Base"), status: 400, param: "task_type", containing: "this server runs a custom_voice model")
        try await check(with("voice", "aiden(2)+nobody"), status: 400, param: "voice", containing: "unknown speaker")
        try await check(with("language", "klingon"), status: 400, param: "language", containing: "valid: auto")
        try await check(with("instructions", "whisper"), status: 400, param: "instructions", containing: "do not take instructions")
        try await check(with("top_p", 3), status: 400, param: "top_p", containing: "top-p")
        try await check(with("input", String(repeating: "y", count: 5000)), status: 413, containing: "larger than 4096 bytes")
        let missingRoute = try await HTTPClient.fetch("GET", "/v1/audio/nothing", to: server.address)
        XCTAssertEqual(missingRoute.head.status, 404)
        XCTAssertNotNil(apiError(missingRoute.body))
        do {
            let value = try await server.speech(request).head.status
            XCTAssertEqual(value, 200, "still serving after bad input")
        }
        try await server.stop()
    }

    func testAPIKey() async throws {
        let server = try await TestServer.start { $0.apiKey = "sk-test-123" }
        let missing = try await server.speech(request)
        XCTAssertEqual(missing.head.status, 401)
        XCTAssertEqual(apiError(missing.body)?["code"] as? String, "invalid_api_key")
        let wrong = try await server.speech(request, headers: [("Content-Type", "application/json"), ("Authorization", "Bearer sk-test-124")])
        XCTAssertEqual(wrong.head.status, 401)
        do {
            let value = try await server.get("/v1/models").status
            XCTAssertEqual(value, 401)
        }
        do {
            let value = try await server.get("/health").status
            XCTAssertEqual(value, 200, "health needs no key")
        }
        let right = try await server.speech(request, headers: [("Content-Type", "application/json"), ("Authorization", "Bearer sk-test-123")])
        XCTAssertEqual(right.head.status, 200)
        try await server.stop()
    }

    /// /health is 503 and speech refused while the model loads; both work once it is ready.
    func testNotReadyWhileLoading() async throws {
        let gate = DispatchSemaphore(value: 0)
        let server = try await TestServer.start(waitForModel: false, loader: { _ in
            gate.wait()
            return try Fixture.model("tiny-cv-0b6")
        })
        let loading = try await server.get("/health")
        XCTAssertEqual(loading.status, 503)
        XCTAssertEqual(loading.json["status"] as? String, "loading")
        let early = try await server.speech(request)
        XCTAssertEqual(early.head.status, 503)
        XCTAssertEqual(apiError(early.body)?["code"] as? String, "model_loading")
        gate.signal()
        let ready = try await server.waitForHealth { $0["status"] as? String == "ok" }
        XCTAssertEqual(ready["status"] as? String, "ok")
        do {
            let value = try await server.speech(request).head.status
            XCTAssertEqual(value, 200)
        }
        try await server.stop()
    }

    /// With one slot and no queue, a second request while one is generating gets 429; the slot
    /// is free again afterwards.
    func testBusyServerRefusesWith429() async throws {
        let server = try await TestServer.start { $0.maxConcurrent = 1; $0.maxQueued = 0 }
        var long = request
        long["max_frames"] = 400
        long["input"] = "A long sentence that keeps the only slot busy for a while."
        let body = try JSONSerialization.data(withJSONObject: long)
        let first = Task { try await server.speech(body) }
        _ = try await server.waitForHealth { $0["active"] as? Int == 1 }
        let refused = try await server.speech(request)
        XCTAssertEqual(refused.head.status, 429)
        XCTAssertEqual(apiError(refused.body)?["type"] as? String, "rate_limit_error")
        do {
            let value = try await first.value.head.status
            XCTAssertEqual(value, 200)
        }
        _ = try await server.waitForHealth { $0["active"] as? Int == 0 }
        do {
            let value = try await server.speech(request).head.status
            XCTAssertEqual(value, 200)
        }
        try await server.stop()
    }

    /// A client that goes away mid-stream stops its generation and frees its slot.
    func testDisconnectStopsGeneration() async throws {
        let server = try await TestServer.start { $0.maxConcurrent = 1; $0.maxQueued = 0 }
        var long = request
        long["max_frames"] = 2000
        struct Enough: Error {}
        do {
            try await HTTPClient.send("POST", "/v1/audio/speech", to: server.address, headers: [("Content-Type", "application/json")],
                                      body: try JSONSerialization.data(withJSONObject: long)) { _ in throw Enough() }
        } catch is Enough {}
        let closedAt = Date()
        let health = try await server.waitForHealth { $0["active"] as? Int == 0 && $0["cancelled"] as? Int == 1 }
        let freedAfter = Date().timeIntervalSince(closedAt)
        XCTAssertEqual(health["cancelled"] as? Int, 1, "\(health)")
        XCTAssertEqual(health["completed"] as? Int, 0)
        let frames = try XCTUnwrap(health["frames"] as? Int)
        XCTAssertLessThan(frames, 100, "generation stopped long before its 2000-frame cap")
        XCTAssertLessThan(freedAfter, 5)
        do {
            let value = try await server.speech(request).head.status
            XCTAssertEqual(value, 200, "the slot is free again")
        }
        try await server.stop()
    }

    /// --timeout bounds a request from arrival to its last byte: a stream that runs past it is cut
    /// off (the body ends without its terminating chunk, which clients report) and its generation
    /// stops. (A request still queued at its deadline gets 504: SchedulerTests covers the expiry.)
    func testTimeoutCutsTheStream() async throws {
        let server = try await TestServer.start { $0.timeout = 1 }
        var long = request
        long["max_frames"] = 4000
        do {
            _ = try await server.speech(long)
            XCTFail("a stream cut off by the time limit must not look complete")
        } catch let e as ClientError {
            guard case .incompleteResponse = e else { return XCTFail("\(e)") }
        }
        let health = try await server.waitForHealth { $0["active"] as? Int == 0 }
        XCTAssertEqual(health["timed_out"] as? Int, 1, "\(health)")
        XCTAssertLessThan(health["frames"] as? Int ?? 4000, 4000)
        XCTAssertEqual(SpeechRoutes.error(for: .timedOut(seconds: 1)).status, .gatewayTimeout)
        try await server.stop()
    }

    /// Base: voices are the .voice files of --voices (another model's file is skipped); a voice
    /// name speaks with its x-vector exactly as the engine does.
    func testBaseModelServesClonedVoices() async throws {
        let model = try Fixture.model("tiny-base-0b6")
        let dir = NSTemporaryDirectory() + "voices-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let audio = AudioBuffer(samples: (0..<24000).map { Float(0.3 * sin(Double($0) * 0.07) + 0.1 * sin(Double($0) * 0.31)) }, sampleRate: 24000)
        let voice = try model.makeVoice(name: "Nova", audio: audio)
        try voice.encoded().write(to: URL(fileURLWithPath: dir + "/nova.voice"))
        var foreign = voice
        foreign.name = "ghost"
        foreign.model.speakerEncoder = "ffff"
        try foreign.encoded().write(to: URL(fileURLWithPath: dir + "/ghost.voice"))
        let server = try await TestServer.start("tiny-base-0b6") { $0.voicesDirectory = dir }
        let voices = try await server.get("/v1/audio/voices")
        XCTAssertEqual((voices.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, ["Nova"])
        let reply = try await server.speech(["model": "tts-1", "input": "Cloned voices, served.", "voice": "Nova", "language": "english",
                                             "seed": 2, "max_frames": 30])
        XCTAssertEqual(reply.head.status, 200, String(decoding: reply.body, as: UTF8.self))
        var request = SynthesisRequest(text: "Cloned voices, served.", language: "english")
        request.speakerEmbedding = voice.xvector
        var options = GenerationOptions()
        options.seed = 2
        options.maxFrames = 30
        var expected: [Float] = []
        for try await chunk in model.stream(request, options: options) { expected += chunk.samples }
        XCTAssertEqual(samples(reply.body, wav: true), samples(WAV.pcm(expected, encoding: .pcm16), wav: false))
        let ghost = try await server.speech(["model": "tts-1", "input": "Hi.", "voice": "ghost"])
        XCTAssertEqual(ghost.head.status, 400)
        XCTAssertEqual(apiError(ghost.body)?["code"] as? String, "voice_not_found")
        try await server.stop()
    }

    /// VoiceDesign: no named speakers; the voice is "default" and the description is `instructions`.
    func testVoiceDesignModel() async throws {
        let server = try await TestServer.start("tiny-vd-1b7")
        let voices = try await server.get("/v1/audio/voices")
        XCTAssertEqual((voices.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, ["default"])
        XCTAssertEqual(voices.json["instructions"] as? Bool, true)
        let designed = try await server.speech(["model": "qwen3-tts", "input": "Hi there.", "voice": "default", "instructions": "A calm, low voice.", "seed": 3])
        XCTAssertEqual(designed.head.status, 200)
        let named = try await server.speech(["model": "qwen3-tts", "input": "Hi there.", "voice": "ryan"])
        XCTAssertEqual(named.head.status, 400)
        XCTAssertEqual(apiError(named.body)?["param"] as? String, "voice")
        try await server.stop()
    }
}
