// An in-process daemon on a free loopback port, and helpers to call it.
import Foundation
import Logging
import Qwen3TTS
import Synchronization
import XCTest
@testable import TTSServer

enum Fixture {
    static let checkpoints = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Qwen3TTSTests/Fixtures/checkpoints").path
    static func path(_ name: String) -> String { checkpoints + "/" + name }

    /// Models are loaded once per process: the tests share them as the daemon shares its one.
    private static let cache = Mutex<[String: Qwen3TTSModel]>([:])
    static func model(_ name: String) throws -> Qwen3TTSModel {
        try cache.withLock { models in
            if let m = models[name] { return m }
            let m = try Qwen3TTSModel.load(path: path(name), threads: 2)
            models[name] = m
            return m
        }
    }
}

final class TestServer: Sendable {
    let server: SpeechServer
    let task: Task<Void, Error>
    let address: ServerAddress

    /// Starts a daemon for `checkpoint` on port 0 and returns once it is listening (and, unless
    /// `waitForModel` is false, once the model is ready).
    static func start(_ checkpoint: String = "tiny-cv-0b6", waitForModel: Bool = true,
                      configure: (inout ServerConfiguration) -> Void = { _ in },
                      loader: (@Sendable (ServerConfiguration) throws -> Qwen3TTSModel)? = nil) async throws -> TestServer
    {
        var c = ServerConfiguration(modelPath: Fixture.path(checkpoint))
        c.port = 0
        c.timeout = 60
        configure(&c)
        var logger = Logger(label: "test-server")
        logger.logLevel = .warning
        let server = try SpeechServer(configuration: c, logger: logger, loader: loader ?? { _ in try Fixture.model(checkpoint) })
        let task = Task { try await server.run(handleSignals: false) }
        var address: ServerAddress?
        var ready = false
        for await event in server.announcements {
            if case .listening(let a) = event, address == nil { address = try ServerAddress(a) }
            if event == .ready { ready = true }
            if address != nil && (ready || !waitForModel) { break }
        }
        guard let address else {
            // A server that ends without listening and without an error is a bug, never a skip.
            try await task.value
            throw TestServerError(description: "the server returned without listening on \(checkpoint)")
        }
        return TestServer(server: server, task: task, address: address)
    }

    private init(server: SpeechServer, task: Task<Void, Error>, address: ServerAddress) {
        self.server = server
        self.task = task
        self.address = address
    }

    func stop() async throws {
        server.shutdown()
        try await task.value
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> (status: Int, json: [String: Any]) {
        let (head, body) = try await HTTPClient.fetch("GET", path, to: address, headers: headers)
        return (head.status, (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:])
    }

    /// POSTs JSON (or raw bytes) to /v1/audio/speech.
    func speech(_ body: Any, headers: [(String, String)] = [("Content-Type", "application/json")]) async throws -> (head: HTTPResponseHead, body: Data) {
        let data = try (body as? Data) ?? JSONSerialization.data(withJSONObject: body)
        return try await HTTPClient.fetch("POST", "/v1/audio/speech", to: address, headers: headers, body: data)
    }

    func health() async throws -> [String: Any] { try await get("/health").json }

    /// The TCP port (0 for a Unix socket).
    var port: Int {
        if case .tcp(_, let port) = address { return port }
        return 0
    }

    /// Polls /health until `condition` holds (or `seconds` pass); returns the last answer.
    func waitForHealth(seconds: Double = 10, _ condition: ([String: Any]) -> Bool) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        var h = try await health()
        while !condition(h) && Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
            h = try await health()
        }
        return h
    }
}

/// The OpenAI-style error object of a response body.
func apiError(_ body: Data) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["error"] as? [String: Any]
}

/// 16-bit samples of a WAV or PCM body.
func samples(_ body: Data, wav: Bool) -> [Int16] {
    let payload = wav ? body.dropFirst(44) : body[...]
    return payload.withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
}

struct TestServerError: Error, CustomStringConvertible {
    let description: String
}
