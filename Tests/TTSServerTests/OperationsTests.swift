// What operators rely on: /metrics in the Prometheus text format with the right counts, and
// replicas sharing one voices directory.
import Foundation
import Qwen3TTS
import TTSRuntime
import TTSTestSupport
import XCTest
@testable import TTSServer

/// The Prometheus text exposition format (version 0.0.4), checked line by line: HELP and TYPE
/// comments before their samples, sample names and labels well formed, values numbers, every
/// histogram's buckets cumulative and ending in +Inf equal to its _count. Returns the samples.
func parsePrometheus(_ text: String) throws -> [String: Double] {
    struct Invalid: Error, CustomStringConvertible { let description: String }
    let name = "[a-zA-Z_:][a-zA-Z0-9_:]*"
    let label = "[a-zA-Z_][a-zA-Z0-9_]*=\"(?:\\\\.|[^\"\\\\])*\""
    let sample = try NSRegularExpression(pattern: "^(\(name))(\\{\(label)(?:,\(label))*\\})? (-?[0-9.]+(?:[eE][-+]?[0-9]+)?|NaN|[-+]Inf)$")
    let typeLine = try NSRegularExpression(pattern: "^# TYPE (\(name)) (counter|gauge|histogram|summary|untyped)$")
    var types: [String: String] = [:], samples: [String: Double] = [:]
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) where !line.isEmpty {
        let range = NSRange(line.startIndex..., in: line)
        if line.hasPrefix("# HELP ") { continue }
        if line.hasPrefix("#") {
            guard let m = typeLine.firstMatch(in: line, range: range) else { throw Invalid(description: "bad comment: \(line)") }
            let n = String(line[Range(m.range(at: 1), in: line)!])
            guard types[n] == nil else { throw Invalid(description: "TYPE given twice for \(n)") }
            types[n] = String(line[Range(m.range(at: 2), in: line)!])
            continue
        }
        guard let m = sample.firstMatch(in: line, range: range) else { throw Invalid(description: "bad sample: \(line)") }
        let n = String(line[Range(m.range(at: 1), in: line)!])
        let family = types[n] != nil ? n : ["_bucket", "_sum", "_count"].compactMap { n.hasSuffix($0) ? String(n.dropLast($0.count)) : nil }.first ?? n
        guard types[family] != nil else { throw Invalid(description: "sample before its TYPE: \(line)") }
        let key = n + (m.range(at: 2).location != NSNotFound ? String(line[Range(m.range(at: 2), in: line)!]) : "")
        guard samples[key] == nil else { throw Invalid(description: "sample given twice: \(key)") }
        samples[key] = Double(String(line[Range(m.range(at: 3), in: line)!]).replacingOccurrences(of: "+Inf", with: "inf"))
    }
    for (family, type) in types where type == "histogram" {
        let buckets = samples.filter { $0.key.hasPrefix(family + "_bucket{") }
        let count = samples.first { $0.key.hasPrefix(family + "_count") }?.value
        let ordered = buckets.map { (key: $0.key, value: $0.value) }.sorted {
            func le(_ k: String) -> Double {
                let v = k.components(separatedBy: "le=\"").last!.prefix { $0 != "\"" }
                return v == "+Inf" ? .infinity : Double(v)!
            }
            return le($0.key) < le($1.key)
        }
        guard let last = ordered.last, last.key.contains("le=\"+Inf\""), last.value == count else {
            throw Invalid(description: "\(family): no +Inf bucket equal to _count")
        }
        guard zip(ordered, ordered.dropFirst()).allSatisfy({ $0.value <= $1.value }) else { throw Invalid(description: "\(family): buckets not cumulative") }
    }
    return samples
}

final class OperationsTests: XCTestCase {
    func testMetricsCountWhatHappened() async throws {
        let server = try await TestServer.start("tiny-cv-0b6")
        // The model (and its prompt cache) is shared by this process's tests: cache counts are
        // compared with a scrape taken first.
        let before = try parsePrometheus(String(decoding: try await HTTPClient.fetch("GET", "/metrics", to: server.address).body, as: UTF8.self))
        let hitsBefore = before["qwen3_tts_prompt_cache_hits_total"] ?? -1, missesBefore = before["qwen3_tts_prompt_cache_misses_total"] ?? -1
        let ok: [String: Any] = ["model": "tts-1", "input": "A sentence no other test says.", "voice": "aiden", "seed": 1, "max_frames": 10]
        for _ in 0..<2 { _ = try await server.speech(ok) }
        _ = try await server.speech(ok.merging(["voice": "nobody"]) { $1 })
        let (head, body) = try await HTTPClient.fetch("GET", "/metrics", to: server.address)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        let text = String(decoding: body, as: UTF8.self)
        let samples = try parsePrometheus(text)
        XCTAssertEqual(samples["qwen3_tts_speech_requests_total{outcome=\"completed\"}"], 2, text)
        XCTAssertEqual(samples["qwen3_tts_speech_requests_total{outcome=\"invalid\"}"], 1, text)
        XCTAssertEqual(samples["qwen3_tts_frames_total"], 20, text)
        XCTAssertEqual(samples["qwen3_tts_time_to_first_audio_seconds_count"], 2, text)
        XCTAssertEqual(samples["qwen3_tts_real_time_factor_count"], 2, text)
        XCTAssertEqual(samples["qwen3_tts_audio_seconds_total"] ?? 0, 1.6, accuracy: 1e-9)
        XCTAssertEqual(samples["qwen3_tts_queue_depth"], 0)
        // Two successful requests looked their prompt up; the second found the first's (the
        // first may have found an earlier test's).
        let hits = (samples["qwen3_tts_prompt_cache_hits_total"] ?? 0) - hitsBefore
        let misses = (samples["qwen3_tts_prompt_cache_misses_total"] ?? 0) - missesBefore
        XCTAssertEqual(hits + misses, 2, text)
        XCTAssertGreaterThanOrEqual(hits, 1, "the second request reused the first's speaker prompt")
        XCTAssertGreaterThan(samples["qwen3_tts_resident_memory_bytes"] ?? 0, 0)
        // Scraping again does not count anything twice.
        let again = try parsePrometheus(String(decoding: try await HTTPClient.fetch("GET", "/metrics", to: server.address).body, as: UTF8.self))
        XCTAssertEqual(again["qwen3_tts_frames_total"], 20)
        XCTAssertEqual(again["qwen3_tts_prompt_cache_hits_total"], samples["qwen3_tts_prompt_cache_hits_total"])
        try await server.stop()
        XCTAssertThrowsError(try parsePrometheus("# TYPE a counter\na{x=\"1\"} one\n"), "the parser can fail")
        XCTAssertThrowsError(try parsePrometheus("b 1\n"), "a sample needs its TYPE")
    }

    /// Two daemons on one voices directory: a voice created through one is served by the other
    /// at once (same bytes), one deleted through the other is gone from both, and a file copied
    /// in by hand is picked up without a restart.
    func testReplicasShareTheVoicesDirectory() async throws {
        let dir = NSTemporaryDirectory() + "voices-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try await TestServer.start("tiny-base-0b6") { $0.voicesDirectory = dir }
        let b = try await TestServer.start("tiny-base-0b6") { $0.voicesDirectory = dir }
        let wav = WAV.encode(VoiceRoutesTests.referenceAudio.samples, sampleRate: 24000, encoding: .pcm16)
        let (form, type) = multipart([("name", nil, Data("Shared".utf8)), ("audio", "ref.wav", wav)])
        let (created, _) = try await HTTPClient.fetch("POST", "/v1/audio/voices", to: a.address, headers: [("Content-Type", type)], body: form)
        XCTAssertEqual(created.status, 201)
        let request: [String: Any] = ["model": "tts-1", "input": "Shared voice.", "voice": "shared", "seed": 3, "max_frames": 10]
        let fromA = try await a.speech(request), fromB = try await b.speech(request)
        XCTAssertEqual(fromB.head.status, 200, String(decoding: fromB.body, as: UTF8.self))
        XCTAssertEqual(fromA.body, fromB.body)
        let listed = try await b.get("/v1/audio/voices")
        XCTAssertEqual((listed.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }, ["Shared"])

        // The same name created through the other replica: refused, never overwritten.
        let (duplicate, _) = try await HTTPClient.fetch("POST", "/v1/audio/voices", to: b.address, headers: [("Content-Type", type)], body: form)
        XCTAssertEqual(duplicate.status, 409)

        // A voice file put in the directory by hand.
        let model = try Fixture.model("tiny-base-0b6")
        let manual = try model.makeVoice(name: "Manual", audio: VoiceRoutesTests.referenceAudio)
        try manual.encoded().write(to: URL(fileURLWithPath: dir + "/Manual.voice"))
        let byHand = try await a.speech(request.merging(["voice": "manual"]) { $1 })
        XCTAssertEqual(byHand.head.status, 200)

        let (deleted, _) = try await HTTPClient.fetch("DELETE", "/v1/audio/voices/Shared", to: b.address)
        XCTAssertEqual(deleted.status, 200)
        let gone = try await a.speech(request)
        XCTAssertEqual(apiError(gone.body)?["code"] as? String, "voice_not_found")
        try await a.stop()
        try await b.stop()
    }
}
