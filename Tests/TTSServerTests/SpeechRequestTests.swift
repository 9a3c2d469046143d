// Parsing of the /v1/audio/speech body, without a server.
import Foundation
import XCTest
@testable import TTSServer

final class SpeechRequestTests: XCTestCase {
    private func parse(_ object: [String: Any], limit: Int = 4096) throws -> SpeechRequest {
        try SpeechRequest.parse(JSONSerialization.data(withJSONObject: object), maxInputCharacters: limit)
    }

    private func assertRefused(_ object: [String: Any], param: String?, containing text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(object), file: file, line: line) { error in
            guard let e = error as? APIError else { return XCTFail("not an APIError: \(error)", file: file, line: line) }
            XCTAssertEqual(e.status, .badRequest, file: file, line: line)
            XCTAssertEqual(e.param, param, file: file, line: line)
            XCTAssertTrue(e.message.contains(text), "\(e.message)", file: file, line: line)
        }
    }

    func testOpenAIFieldsAndExtensions() throws {
        let r = try parse(["model": "tts-1", "input": "Hi.", "voice": "ryan", "response_format": "PCM", "speed": 1.0,
                           "instructions": "calm", "stream_format": "sse", "language": "english", "seed": 9_007_199_254_740_993,
                           "temperature": 0.7, "top_k": 20, "top_p": 0.9, "repetition_penalty": 1.1, "max_frames": 50])
        XCTAssertEqual(r.format, .pcm)
        XCTAssertEqual(r.streamFormat, .sse)
        XCTAssertEqual(r.seed, 9_007_199_254_740_993, "integers above 2^53 keep every digit")
        XCTAssertEqual(r.language, "english")
        let o = r.generationOptions()
        XCTAssertEqual(o.temperature, 0.7)
        XCTAssertEqual(o.topK, 20)
        XCTAssertEqual(o.maxFrames, 50)
        // Defaults: wav, raw audio, auto language, JSON null as absent.
        let d = try parse(["model": "tts-1", "input": "Hi.", "voice": NSNull()])
        XCTAssertEqual(d.format, .wav)
        XCTAssertEqual(d.streamFormat, .audio)
        XCTAssertEqual(d.language, "auto")
        XCTAssertNil(d.voice)
        XCTAssertEqual(d.speed, 1)
        XCTAssertNil(d.textLayout)
    }

    func testVLLMOmniFields() throws {
        let wav: [UInt8] = Array("RIFF....WAVE".utf8)
        let b64 = Data(wav).base64EncodedString()
        let r = try parse(["model": "tts-1", "input": "Hi.", "task_type": "Base", "ref_audio": "data:audio/wav;base64,\(b64)",
                           "ref_text": "Hello there.", "x_vector_only_mode": false, "max_new_tokens": 40, "non_streaming_mode": true,
                           "speed": 1.5, "response_format": "flac"])
        XCTAssertEqual(r.referenceAudio, wav)
        XCTAssertEqual(r.referenceText, "Hello there.")
        XCTAssertFalse(r.xVectorOnly)
        XCTAssertEqual(r.taskType, "Base")
        XCTAssertEqual(r.generationOptions().maxFrames, 40)
        XCTAssertEqual(r.textLayout, .nonStreaming)
        XCTAssertEqual(r.speed, 1.5)
        XCTAssertEqual(r.format, .flac)
        // Plain base64 (line breaks allowed, as base64 tools wrap), and streaming text layout.
        let wrapped = b64.prefix(8) + "\n" + b64.dropFirst(8)
        let p = try parse(["model": "tts-1", "input": "Hi.", "ref_audio": String(wrapped), "x_vector_only_mode": true, "non_streaming_mode": false])
        XCTAssertEqual(p.referenceAudio, wav)
        XCTAssertTrue(p.xVectorOnly)
        XCTAssertEqual(p.textLayout, .streaming)
    }

    func testRefusals() {
        let ok: [String: Any] = ["model": "tts-1", "input": "Hi.", "voice": "ryan"]
        func with(_ k: String, _ v: Any?) -> [String: Any] {
            var o = ok
            o[k] = v
            return o
        }
        assertRefused(with("input", nil), param: "input", containing: "required")
        assertRefused(with("model", nil), param: "model", containing: "required")
        assertRefused(with("input", " \n"), param: "input", containing: "empty")
        assertRefused(with("input", 3), param: "input", containing: "must be a string")
        assertRefused(with("input", String(repeating: "a", count: 4097)), param: "input", containing: "limit is 4096")
        assertRefused(with("response_format", "mp4"), param: "response_format", containing: "supported: wav, pcm, mp3, opus, aac, flac")
        assertRefused(with("stream_format", "ws"), param: "stream_format", containing: "audio, sse")
        assertRefused(with("speed", 0.1), param: "speed", containing: "0.25")
        assertRefused(with("speed", 4.01), param: "speed", containing: "4.0")
        assertRefused(with("speed", "fast"), param: "speed", containing: "number")
        // vLLM-Omni's fields.
        assertRefused(with("ref_audio", "https://example.com/a.wav"), param: "ref_audio", containing: "fetches nothing")
        assertRefused(with("ref_audio", "file:///etc/passwd"), param: "ref_audio", containing: "fetches nothing")
        assertRefused(with("ref_audio", "not base64!"), param: "ref_audio", containing: "base64")
        assertRefused(with("ref_audio", "data:audio/wav,UklGRg=="), param: "ref_audio", containing: "must be base64")
        assertRefused(with("ref_audio", ""), param: "ref_audio", containing: "base64")
        assertRefused(with("ref_text", "hello"), param: "ref_audio", containing: "missing")
        assertRefused(with("x_vector_only_mode", "yes"), param: "x_vector_only_mode", containing: "true or false")
        assertRefused(with("non_streaming_mode", 1), param: "non_streaming_mode", containing: "true or false")
        assertRefused(with("task_type", "Clone"), param: "task_type", containing: "CustomVoice, VoiceDesign, Base")
        var both = with("max_frames", 10)
        both["max_new_tokens"] = 20
        assertRefused(both, param: "max_new_tokens", containing: "disagree")
        assertRefused(with("seed", -1), param: "seed", containing: "non-negative")
        assertRefused(with("seed", true), param: "seed", containing: "number")
        assertRefused(with("top_k", 2.5), param: "top_k", containing: "integer")
        assertRefused(with("top_k", -1), param: "top_k", containing: "top-k")
        assertRefused(with("top_p", 1.5), param: "top_p", containing: "top-p")
        assertRefused(with("temperature", 0), param: "temperature", containing: "positive")
        assertRefused(with("repetition_penalty", -2), param: "repetition_penalty", containing: "positive")
        assertRefused(with("max_frames", 0), param: "max_frames", containing: "at least 1")
        assertRefused(with("langauge", "english"), param: "langauge", containing: "unrecognized field")
    }

    func testMalformedBodies() {
        for body in ["{bad", "[1, 2]", "\"text\"", ""] {
            XCTAssertThrowsError(try SpeechRequest.parse(Data(body.utf8), maxInputCharacters: 10)) { error in
                XCTAssertEqual((error as? APIError)?.code, "invalid_json", body)
            }
        }
    }
}
