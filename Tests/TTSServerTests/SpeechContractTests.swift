// The rest of the speech contract clients expect: per-request cloning (vLLM-Omni's ref_audio),
// voice blends, speed, and every output format through the server.
import Foundation
import Qwen3TTS
import TTSAudio
import TTSRuntime
import TTSTestSupport
import XCTest
@testable import TTSServer

final class SpeechContractTests: XCTestCase {
    private func upload(_ server: TestServer, name: String, text: String?) async throws -> Int {
        var parts: [(String, String?, Data)] = [("name", nil, Data(name.utf8)), ("audio", "ref.wav", Self.wav)]
        if let text { parts.append(("text", nil, Data(text.utf8))) }
        let (body, type) = multipart(parts)
        let (head, _) = try await HTTPClient.fetch("POST", "/v1/audio/voices", to: server.address, headers: [("Content-Type", type)], body: body)
        return head.status
    }

    static let wav = WAV.encode(VoiceRoutesTests.referenceAudio.samples, sampleRate: 24000, encoding: .pcm16)

    private func baseServer(_ configure: @escaping (inout ServerConfiguration) -> Void = { _ in }) async throws -> (TestServer, String) {
        let dir = NSTemporaryDirectory() + "voices-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let server = try await TestServer.start("tiny-base-0b6") {
            $0.voicesDirectory = dir
            configure(&$0)
        }
        return (server, dir)
    }

    /// ref_audio gives the same bytes as a stored voice made from the same audio, in context and
    /// x-vector only; the second time the clone comes from the cache. The body is larger than
    /// --max-body: it goes through the upload budget.
    func testPerRequestCloneEqualsTheStoredVoice() async throws {
        let (server, dir) = try await baseServer { $0.maxBodyBytes = 4096 }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storedICL = try await upload(server, name: "Echo", text: "A steady hum.")
        let storedX = try await upload(server, name: "Plain", text: nil)
        XCTAssertEqual([storedICL, storedX], [201, 201])
        let base: [String: Any] = ["model": "tts-1", "input": "Continuing the reference.", "language": "english", "seed": 4, "max_frames": 16]
        func with(_ extra: [String: Any]) -> [String: Any] { base.merging(extra) { $1 } }
        let audio = Self.wav.base64EncodedString()

        let stored = try await server.speech(with(["voice": "echo"]))
        XCTAssertEqual(stored.head.status, 200)
        let perRequest = try await server.speech(with(["voice": "alloy", "task_type": "Base", "ref_audio": "data:audio/wav;base64,\(audio)",
                                                       "ref_text": "A steady hum."]))
        XCTAssertEqual(perRequest.head.status, 200, String(decoding: perRequest.body, as: UTF8.self))
        XCTAssertEqual(perRequest.body, stored.body, "in context: the same bytes as the stored voice")
        let again = try await server.speech(with(["ref_audio": audio, "ref_text": "A steady hum."]))
        XCTAssertEqual(again.body, stored.body)
        let clones = (try await server.health())["clone_cache"] as? [String: Int]
        XCTAssertEqual(clones?["hits"], 1, "\(String(describing: clones))")
        XCTAssertEqual(clones?["entries"], 1)

        let storedPlain = try await server.speech(with(["voice": "plain"]))
        let xvector = try await server.speech(with(["ref_audio": audio, "ref_text": "ignored", "x_vector_only_mode": true]))
        XCTAssertEqual(xvector.head.status, 200)
        XCTAssertEqual(xvector.body, storedPlain.body, "x-vector only: the same bytes as the stored x-vector voice")
        XCTAssertNotEqual(xvector.body, stored.body)

        let junk = try await server.speech(with(["ref_audio": Data("definitely not a wav file".utf8).base64EncodedString()]))
        XCTAssertEqual(junk.head.status, 400)
        XCTAssertEqual(apiError(junk.body)?["code"] as? String, "invalid_audio")
        XCTAssertEqual(apiError(junk.body)?["param"] as? String, "ref_audio")
        let task = try await server.speech(with(["voice": "echo", "task_type": "CustomVoice"]))
        XCTAssertEqual(apiError(task.body)?["param"] as? String, "task_type")
        // Over the reference-audio limit: refused from the head, before any body is read.
        let raw = try RawConnection(port: server.port)
        raw.send("POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(server.server.configuration.speechWithReferenceBytes + 1)\r\n\r\n")
        let answer = String(decoding: raw.receive(seconds: 2).data, as: UTF8.self)
        XCTAssertTrue(answer.hasPrefix("HTTP/1.1 413"), answer)
        // Chunked, without a declared length: held to --max-body, and told why.
        let chunked = try RawConnection(port: server.port)
        let piece = String(repeating: "x", count: 5000)
        chunked.send("POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                     + String(piece.utf8.count, radix: 16) + "\r\n" + piece + "\r\n0\r\n\r\n")
        let refused = String(decoding: chunked.receive(seconds: 2).data, as: UTF8.self)
        XCTAssertTrue(refused.hasPrefix("HTTP/1.1 413"), refused)
        XCTAssertTrue(refused.contains("must declare its Content-Length"), refused)
        try await server.stop()
    }

    /// Blends: one CustomVoice speaker at weight 1 is that speaker, bit for bit; a mix differs
    /// from both; Base mixes x-vector voices and refuses in-context ones.
    func testVoiceBlends() async throws {
        let server = try await TestServer.start("tiny-cv-0b6")
        let base: [String: Any] = ["model": "tts-1", "input": "Hello there.", "language": "english", "seed": 2, "max_frames": 12]
        func speak(_ voice: String) async throws -> (Int, Data) {
            let r = try await server.speech(base.merging(["voice": voice]) { $1 })
            return (r.head.status, r.body)
        }
        let (s1, aiden) = try await speak("aiden")
        let (s2, weighted) = try await speak("aiden(3)")
        let (s3, mixed) = try await speak("aiden(2) + ryan(1)")
        let (_, ryan) = try await speak("ryan")
        XCTAssertEqual([s1, s2, s3], [200, 200, 200])
        XCTAssertEqual(weighted, aiden, "a blend of one speaker is that speaker")
        XCTAssertNotEqual(mixed, aiden)
        XCTAssertNotEqual(mixed, ryan)
        for (voice, text) in [("aiden(0)+ryan", "weight"), ("aiden+aiden", "twice"), ("aiden(2", "')'"), ("aiden+nobody", "unknown speaker")] {
            let (status, body) = try await speak(voice)
            XCTAssertEqual(status, 400, voice)
            XCTAssertEqual(apiError(body)?["param"] as? String, "voice", voice)
            XCTAssertTrue((apiError(body)?["message"] as? String ?? "").contains(text), "\(voice): \(String(decoding: body, as: UTF8.self))")
        }
        try await server.stop()

        let (baseServer, dir) = try await baseServer()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try await upload(baseServer, name: "Plain", text: nil)
        _ = try await upload(baseServer, name: "Other", text: nil)
        _ = try await upload(baseServer, name: "Echo", text: "A steady hum.")
        let ok = try await baseServer.speech(base.merging(["voice": "plain(1)+other(1)"]) { $1 })
        XCTAssertEqual(ok.head.status, 200)
        let icl = try await baseServer.speech(base.merging(["voice": "plain+echo"]) { $1 })
        XCTAssertEqual(icl.head.status, 400)
        XCTAssertTrue((apiError(icl.body)?["message"] as? String ?? "").contains("cannot be mixed"))
        try await baseServer.stop()
    }

    /// Speed: the WAV is the time-stretched audio (length round(n / speed)), streamed or not.
    func testSpeedStretchesTheAudio() async throws {
        let server = try await TestServer.start("tiny-cv-0b6")
        let base: [String: Any] = ["model": "tts-1", "input": "Hello there.", "voice": "aiden", "seed": 2, "max_frames": 24, "response_format": "pcm"]
        let normal = try await server.speech(base)
        let n = normal.body.count / 2
        for speed in [0.5, 2.0] {
            let r = try await server.speech(base.merging(["speed": speed]) { $1 })
            XCTAssertEqual(r.head.status, 200)
            XCTAssertEqual(r.body.count / 2, Int((Double(n) / speed).rounded()), "speed \(speed)")
        }
        try await server.stop()
    }

    /// Every format the machine has a codec for: the right Content-Type, decodable by ffmpeg,
    /// and FLAC decodes to exactly the WAV's samples.
    func testEveryFormat() async throws {
        let server = try await TestServer.start("tiny-cv-0b6")
        let base: [String: Any] = ["model": "tts-1", "input": "Hello there.", "voice": "aiden", "seed": 2, "max_frames": 24]
        let wav = try await server.speech(base)
        let reference = samples(wav.body, wav: true).map { Float($0) / 32768 }
        for format in AudioFormat.allCases where format != .wav {
            let r = try await server.speech(base.merging(["response_format": format.rawValue]) { $1 })
            if let why = format.unavailableReason {
                XCTAssertEqual(r.head.status, 400, format.rawValue)
                XCTAssertTrue((apiError(r.body)?["message"] as? String ?? "").contains("install"), why)
                continue
            }
            XCTAssertEqual(r.head.status, 200, format.rawValue)
            XCTAssertEqual(r.head.header("Content-Type"), format.contentType)
            guard format != .pcm, EndToEnd.shouldRun(needing: AudioDecoding.ffmpeg) else { continue }
            let decoded = try AudioDecoding.decode([UInt8](r.body), format: format.rawValue, rate: 24_000)
            if format == .flac { XCTAssertNil(firstDifference(decoded.samples, reference)) }
            XCTAssertLessThanOrEqual(abs(decoded.samples.count - reference.count), 1920 + 2304, format.rawValue)
        }
        try await server.stop()
    }
}
