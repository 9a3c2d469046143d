// The `qwen3-tts serve` binary as a child process, and what the e2e tests read off it.
import Foundation
import Synchronization
import XCTest

/// A running daemon: its announced addresses and its process.
final class Daemon {
    let process: Process
    let tcp: String
    let socket: String?
    /// What the daemon logged so far.
    let log: TextBuffer

    /// Starts `qwen3-tts serve` on port 0 (and `socket`), and waits for "ready".
    /// `environment` is added to this process's own.
    static func start(_ arguments: [String], socket: String? = nil, timeout: Double = 60, environment: [String: String] = [:]) throws -> Daemon {
        try requireTool(CLI.binary != nil, "the qwen3-tts binary")
        guard let binary = CLI.binary else { throw XCTSkip("qwen3-tts binary not found") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["serve", "--port", "0"] + (socket.map { ["--socket", $0] } ?? []) + arguments
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let lines = Mutex<[String]>([])
        let errText = TextBuffer()
        out.fileHandleForReading.readabilityHandler = { h in
            let text = String(decoding: h.availableData, as: UTF8.self)
            lines.withLock { $0 += text.split(separator: "\n").map(String.init) }
        }
        err.fileHandleForReading.readabilityHandler = { h in
            let text = String(decoding: h.availableData, as: UTF8.self)
            errText.append(text)
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let seen = lines.withLock { $0 }
            if seen.contains(where: { $0.hasSuffix(" ready") }) {
                guard let line = seen.first(where: { $0.contains("listening on http://") }),
                      let r = line.range(of: "http://") else { break }
                return Daemon(process: p, tcp: String(line[r.lowerBound...]), socket: socket, log: errText)
            }
            if !p.isRunning { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        p.terminate()
        XCTFail("the daemon did not become ready: \(errText.text)")
        throw XCTSkip("no daemon")
    }

    private init(process: Process, tcp: String, socket: String?, log: TextBuffer) {
        self.process = process
        self.tcp = tcp
        self.socket = socket
        self.log = log
    }

    /// Resident memory of the daemon (VmRSS), in bytes.
    var residentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kb * 1024
    }

    /// SIGTERM, then waits (at most `timeout` s) for the exit status.
    func terminate(timeout: Double = 20) -> Int32? {
        process.terminate()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        return process.terminationStatus
    }
}

/// Samples of a WAV (data after the 44-byte header) as Int16.
func pcm16(_ wav: Data) -> [Int16] {
    wav.dropFirst(44).withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
}

/// Finds a program on PATH.
func which(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

/// The e2e helpers (curl, python3 with openai) are installed by .ci/run; a developer's plain
/// `swift test` skips what is missing unless QWEN3_TTS_REQUIRE_E2E=1 makes it a failure.
func requireTool(_ available: Bool, _ what: String) throws {
    if available { return }
    if ProcessInfo.processInfo.environment["QWEN3_TTS_REQUIRE_E2E"] == "1" {
        XCTFail("\(what) is required (QWEN3_TTS_REQUIRE_E2E=1)")
        throw XCTSkip("\(what) missing")
    }
    throw XCTSkip("\(what) is not installed; .ci/run installs it")
}

final class TextBuffer: Sendable {
    private let storage = Mutex("")
    func append(_ s: String) { storage.withLock { $0 += s } }
    var text: String { storage.withLock { $0 } }
}
