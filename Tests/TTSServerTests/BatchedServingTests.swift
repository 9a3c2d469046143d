// Continuous batching through the daemon (issue 18): many clients at once, every response the
// same bytes as the same request served alone, nothing left running afterwards.
import Foundation
import Qwen3TTS
import XCTest
@testable import TTSServer

final class BatchedServingTests: XCTestCase {
    /// 20 different requests: speakers, lengths (caps from 3 to 41 frames, some ending at EOS
    /// first), greedy and seeded sampling, formats, raw and SSE streams, one long enough for two
    /// utterances.
    static func bodies(speakers: [String]) -> [[String: Any]] {
        let texts = ["Hi.", "Hello from the batch.", "A somewhat longer sentence that keeps going for a while.",
                     "Numbers 1, 2 and 3.", "混合 text here.", "Is this the same when it is alone? It must be, byte for byte."]
        return (0..<20).map { i in
            var b: [String: Any] = ["model": "tts-1", "input": texts[i % texts.count], "voice": speakers[i % speakers.count],
                                    "language": i % 4 == 0 ? "auto" : "english", "seed": 1000 + i, "max_frames": 3 + (i * 7) % 39]
            if i % 3 == 0 { b["temperature"] = 0.7 }
            if i % 5 == 1 { b["response_format"] = "pcm" }
            if i % 7 == 2 { b["stream_format"] = "sse" }
            return b
        }
    }

    func testEightClientsTwentyRequestsEachMatchAlone() async throws {
        let model = try Fixture.model("tiny-cv-0b6")
        let server = try await TestServer.start { c in
            c.maxConcurrent = 4
            c.maxQueued = 64
        }
        let bodies = try Self.bodies(speakers: model.configuration.speakers).map { try JSONSerialization.data(withJSONObject: $0) }
        // Alone: one request at a time, so each is a batch of one.
        var alone: [Data] = []
        for body in bodies {
            let reply = try await server.speech(body)
            XCTAssertEqual(reply.head.status, 200, String(decoding: reply.body, as: UTF8.self))
            alone.append(reply.body)
        }
        // Together: 8 clients, each sending all 20 in its own rotated order, one after another.
        let start = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: [(Int, Int, Data)].self) { group in
            for client in 0..<8 {
                group.addTask {
                    var got: [(Int, Int, Data)] = []
                    for k in 0..<bodies.count {
                        let i = (k + client * 3) % bodies.count
                        let reply = try await server.speech(bodies[i])
                        got.append((i, reply.head.status, reply.body))
                    }
                    return got
                }
            }
            var all: [(Int, Int, Data)] = []
            for try await part in group { all += part }
            return all
        }
        XCTAssertEqual(results.count, 160)
        var differing = 0
        for (i, status, body) in results {
            XCTAssertEqual(status, 200)
            if body != alone[i] { differing += 1 }
        }
        XCTAssertEqual(differing, 0, "responses that differ from the same request served alone")
        XCTAssertLessThan((ContinuousClock.now - start) / .seconds(1), 120, "the load took too long")
        // Nothing is left running or waiting.
        let engine = try XCTUnwrap(server.server.host.engine)
        for _ in 0..<100 where engine.activeCount > 0 { try await Task.sleep(for: .milliseconds(10)) }
        XCTAssertEqual(engine.activeCount, 0)
        XCTAssertEqual(engine.waitingCount, 0)
        let stats = await server.server.scheduler.stats
        XCTAssertEqual(stats.active, 0)
        XCTAssertEqual(stats.queued, 0)
        try await server.stop()
    }

    /// Requests really run together: with a batch of 4, four long requests overlap in time
    /// (each one's first audio comes before the others finish).
    func testRequestsShareTheBatch() async throws {
        let server = try await TestServer.start { c in
            c.maxConcurrent = 4
        }
        let body = try JSONSerialization.data(withJSONObject: ["model": "tts-1", "input": "A long one.", "voice": "ryan", "seed": 3, "max_frames": 400] as [String: Any])
        let seen = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 { group.addTask { try await server.speech(body).head.status } }
            // While they run, the engine holds more than one request at some point.
            var most = 0
            for _ in 0..<400 {
                most = max(most, server.server.host.engine?.activeCount ?? 0)
                if most == 4 { break }
                try await Task.sleep(for: .milliseconds(5))
            }
            for try await status in group { XCTAssertEqual(status, 200) }
            return most
        }
        XCTAssertGreaterThan(seen, 1, "the requests never shared a batch")
        try await server.stop()
    }
}
