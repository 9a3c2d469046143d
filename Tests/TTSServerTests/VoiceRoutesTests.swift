// Cloned voices over HTTP: multipart parsing, and create / list / show / use / delete against a
// Base model, persisted in the voices directory.
import Foundation
import Qwen3TTS
import TTSRuntime
import TTSTestSupport
import XCTest
@testable import TTSServer

final class VoiceRoutesTests: XCTestCase {
    static let referenceAudio = AudioBuffer(samples: (0..<30000).map { Float(0.3 * sin(Double($0) * 0.05) + 0.1 * sin(Double($0) * 0.23)) },
                                            sampleRate: 24000)

    func testMultipartParsing() throws {
        XCTAssertEqual(MultipartForm.boundary(contentType: "multipart/form-data; boundary=\"abc\""), "abc")
        XCTAssertNil(MultipartForm.boundary(contentType: "application/json"))
        let binary = Data([0, 13, 10, 45, 45, 255])  // CR LF "--" inside a file is data, not a delimiter
        let (body, type) = multipart([("name", nil, Data("Anna".utf8)), ("audio", "a.wav", binary)])
        let form = try MultipartForm.parse(Array(body), boundary: MultipartForm.boundary(contentType: type)!)
        XCTAssertEqual(form.parts.map(\.name), ["name", "audio"])
        XCTAssertEqual(form.part("name")?.text, "Anna")
        XCTAssertEqual(form.part("audio")?.filename, "a.wav")
        XCTAssertEqual(form.part("audio")?.data, Array(binary))
        XCTAssertThrowsError(try MultipartForm.parse(Array(body.dropLast(30)), boundary: "qwen3-test-boundary"))
        XCTAssertThrowsError(try MultipartForm.parse(Array("no boundary here".utf8), boundary: "qwen3-test-boundary"))
    }

    private func upload(_ server: TestServer, _ parts: [(String, String?, Data)]) async throws -> (status: Int, json: [String: Any]) {
        let (body, type) = multipart(parts)
        let (head, data) = try await HTTPClient.fetch("POST", "/v1/audio/voices", to: server.address, headers: [("Content-Type", type)], body: body)
        return (head.status, (try? JSONSerialization.jsonObject(with: data) as? [String: Any]) ?? [:])
    }

    /// Create in context, list, show, speak (bit-exact with the engine), refuse a duplicate,
    /// survive a restart, delete.
    func testVoicesAreCreatedUsedPersistedAndDeleted() async throws {
        let model = try Fixture.model("tiny-base-0b6")
        let dir = NSTemporaryDirectory() + "voices-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let wav = WAV.encode(Self.referenceAudio.samples, sampleRate: 24000, encoding: .pcm16)
        var server = try await TestServer.start("tiny-base-0b6") { $0.voicesDirectory = dir }

        let created = try await upload(server, [("name", nil, Data("Echo".utf8)), ("audio", "ref.wav", wav),
                                                ("text", nil, Data("A steady hum.".utf8)), ("append_silence", nil, Data("0.5".utf8))])
        XCTAssertEqual(created.status, 201, "\(created.json)")
        XCTAssertEqual(created.json["mode"] as? String, "icl")
        XCTAssertEqual(created.json["reference_frames"] as? Int, (30000 + 12000 + 1919) / 1920)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/Echo.voice"))
        let list = try await server.get("/v1/audio/voices")
        XCTAssertEqual((list.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, ["Echo"])
        let shown = try await server.get("/v1/audio/voices/echo")
        XCTAssertEqual(shown.json["reference_text"] as? String, "A steady hum.")

        // Speech with the voice equals the engine with the same voice file.
        let file = try VoiceFile.decode(Data(contentsOf: URL(fileURLWithPath: dir + "/Echo.voice")), source: "Echo.voice")
        let reply = try await server.speech(["model": "tts-1", "input": "Continuing the reference.", "voice": "echo",
                                             "language": "english", "seed": 4, "max_frames": 20])
        XCTAssertEqual(reply.head.status, 200, String(decoding: reply.body, as: UTF8.self))
        var request = SynthesisRequest(text: "Continuing the reference.", language: "english")
        request.setVoice(file)
        var options = GenerationOptions()
        options.seed = 4
        options.maxFrames = 20
        var expected: [Float] = []
        for try await chunk in model.stream(request, options: options) { expected += chunk.samples }
        XCTAssertEqual(samples(reply.body, wav: true), samples(WAV.pcm(expected, encoding: .pcm16), wav: false))

        // The same voice again: its prompt prefix comes from the cache, and the audio is the same.
        let before = (try await server.health())["prompt_cache"] as? [String: Int]
        let repeated = try await server.speech(["model": "tts-1", "input": "Continuing the reference.", "voice": "echo",
                                                "language": "english", "seed": 4, "max_frames": 20])
        let after = (try await server.health())["prompt_cache"] as? [String: Int]
        XCTAssertEqual(repeated.body, reply.body)
        XCTAssertEqual(after?["hits"], (before?["hits"] ?? -1) + 1, "\(String(describing: before)) -> \(String(describing: after))")
        XCTAssertGreaterThan(after?["entries"] ?? 0, 0)

        let duplicate = try await upload(server, [("name", nil, Data("ECHO".utf8)), ("audio", "ref.wav", wav)])
        XCTAssertEqual(duplicate.status, 409)

        // Persisted: a new server on the same directory serves it.
        try await server.stop()
        server = try await TestServer.start("tiny-base-0b6") { $0.voicesDirectory = dir }
        let reloaded = try await server.get("/v1/audio/voices/Echo")
        XCTAssertEqual(reloaded.status, 200)

        let (deleteHead, _) = try await HTTPClient.fetch("DELETE", "/v1/audio/voices/Echo", to: server.address)
        XCTAssertEqual(deleteHead.status, 200)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/Echo.voice"))
        let gone = try await server.speech(["model": "tts-1", "input": "Hi.", "voice": "Echo"])
        XCTAssertEqual(apiError(gone.body)?["code"] as? String, "voice_not_found")
        let (again, _) = try await HTTPClient.fetch("DELETE", "/v1/audio/voices/Echo", to: server.address)
        XCTAssertEqual(again.status, 404)
        try await server.stop()
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "no temporary files are left behind")
    }

    func testBadUploadsAreRefusedWithTheirField() async throws {
        let dir = NSTemporaryDirectory() + "voices-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try await TestServer.start("tiny-base-0b6") { $0.voicesDirectory = dir }
        let wav = WAV.encode(Self.referenceAudio.samples, sampleRate: 24000, encoding: .pcm16)
        let silent = WAV.encode([Float](repeating: 0, count: 24000), sampleRate: 24000, encoding: .pcm16)
        let cases: [([(String, String?, Data)], String, String)] = [
            ([("audio", "a.wav", wav)], "name", "missing_required_parameter"),
            ([("name", nil, Data("../evil".utf8)), ("audio", "a.wav", wav)], "name", "invalid_value"),
            ([("name", nil, Data("A".utf8))], "audio", "missing_required_parameter"),
            ([("name", nil, Data("A".utf8)), ("audio", "a.wav", Data("not a wav".utf8))], "audio", "invalid_audio"),
            ([("name", nil, Data("A".utf8)), ("audio", "a.wav", Data(wav.prefix(100)))], "audio", "invalid_audio"),
            ([("name", nil, Data("A".utf8)), ("audio", "a.wav", silent)], "audio", "invalid_audio"),
            ([("name", nil, Data("A".utf8)), ("audio", "a.wav", wav), ("langauge", nil, Data("en".utf8))], "langauge", "unknown_parameter"),
            ([("name", nil, Data("A".utf8)), ("audio", "a.wav", wav), ("append_silence", nil, Data("9".utf8))], "append_silence", "invalid_value"),
            ([("name", nil, Data("A".utf8)), ("audio", "a.wav", wav), ("text", nil, Data("hi".utf8)), ("xvector_only", nil, Data("true".utf8))],
             "xvector_only", "invalid_value"),
        ]
        for (parts, param, code) in cases {
            let r = try await upload(server, parts)
            let error = r.json["error"] as? [String: Any]
            XCTAssertEqual(r.status, 400, "\(param): \(r.json)")
            XCTAssertEqual(error?["param"] as? String, param)
            XCTAssertEqual(error?["code"] as? String, code)
        }
        let (head, _) = try await HTTPClient.fetch("POST", "/v1/audio/voices", to: server.address,
                                                   headers: [("Content-Type", "application/json")], body: Data("{}".utf8))
        XCTAssertEqual(head.status, 415)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "refused uploads write nothing")
        let health = try await server.health()
        XCTAssertEqual(health["active"] as? Int, 0)
        try await server.stop()
    }

    func testCreatingVoicesNeedsABaseModelAndADirectory() async throws {
        let wav = WAV.encode(Self.referenceAudio.samples, sampleRate: 24000, encoding: .pcm16)
        let parts: [(String, String?, Data)] = [("name", nil, Data("A".utf8)), ("audio", "a.wav", wav)]
        let noDirectory = try await TestServer.start("tiny-base-0b6")
        let r1 = try await upload(noDirectory, parts)
        XCTAssertEqual(r1.status, 409)
        XCTAssertEqual((r1.json["error"] as? [String: Any])?["code"] as? String, "voices_directory_required")
        try await noDirectory.stop()
        let customVoice = try await TestServer.start("tiny-cv-0b6") { $0.voicesDirectory = NSTemporaryDirectory() }
        let r2 = try await upload(customVoice, parts)
        XCTAssertEqual(r2.status, 400)
        XCTAssertEqual((r2.json["error"] as? [String: Any])?["code"] as? String, "cloning_not_supported")
        try await customVoice.stop()
    }
}
