// Runs the built `qwen3-tts` binary the way a user does, and builds broken model copies.
import Foundation

enum CLI {
    static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = testsDir.appendingPathComponent("Qwen3TTSTests/Fixtures").path
    static func checkpoint(_ name: String) -> String { fixtures + "/checkpoints/" + name }

    /// The executable next to the test bundle (SwiftPM builds it because this target depends on
    /// it), or QWEN3_TTS_BINARY (a release build, for measuring a full-size model by hand).
    static var binary: String? {
        if let given = ProcessInfo.processInfo.environment["QWEN3_TTS_BINARY"], !given.isEmpty { return given }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("qwen3-tts").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    struct Result {
        let status: Int32
        let stdout: Data
        let stderr: String
    }

    /// Runs the binary; `environment` is added to this process's own.
    static func run(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]) throws -> Result {
        guard let binary else { throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "qwen3-tts binary not found"]) }
        return try runProgram(binary, arguments, stdin: stdin, environment: environment)
    }

    /// A child that exits before reading its standard input (a refused option) makes the write
    /// fail; with SIGPIPE's default action that killed the whole test process (CI, signal 13).
    static let pipeSignalIgnored: Void = { signal(SIGPIPE, SIG_IGN) }()

    static func runProgram(_ path: String, _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:]) throws -> Result {
        _ = pipeSignalIgnored
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        try p.run()
        if let stdin { try? input.fileHandleForWriting.write(contentsOf: stdin) }
        try? input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: o, stderr: String(decoding: e, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "qwen3-tts-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A copy of a checkpoint made of links to the original files, except `replace`d ones.
    static func modifiedCheckpoint(_ name: String, replace: [String: Data?]) throws -> String {
        let src = checkpoint(name)
        let dst = try temporaryDirectory()
        let fm = FileManager.default
        for item in try fm.contentsOfDirectory(atPath: src) {
            let target = URL(fileURLWithPath: src + "/" + item).resolvingSymlinksInPath().path
            if let replacement = replace[item] {
                if let data = replacement { try data.write(to: URL(fileURLWithPath: dst + "/" + item)) }
            } else {
                try fm.createSymbolicLink(atPath: dst + "/" + item, withDestinationPath: target)
            }
        }
        return dst
    }
}

/// Minimal RIFF reader for checking what the CLI wrote.
struct WAVInfo {
    let format: UInt16
    let channels: UInt16
    let sampleRate: UInt32
    let bitsPerSample: UInt16
    let dataBytes: Int

    init?(_ d: Data) {
        guard d.count >= 44, d.prefix(4) == Data("RIFF".utf8), d[8..<12] == Data("WAVE".utf8) else { return nil }
        func u16(_ o: Int) -> UInt16 { UInt16(d[o]) | UInt16(d[o + 1]) << 8 }
        func u32(_ o: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(d[o + $1]) << (8 * $1) } }
        format = u16(20); channels = u16(22); sampleRate = u32(24); bitsPerSample = u16(34)
        guard d[36..<40] == Data("data".utf8) else { return nil }
        dataBytes = Int(u32(40))
        guard dataBytes == d.count - 44 else { return nil }
    }
}
