// Where `client` puts streamed audio: a file, standard output, or a player's standard input.
import Foundation
import TTSRuntime

/// Written by one task at a time (the response body, or the stream client's reader, then
/// `finish`), hence `@unchecked Sendable`.
final class AudioSink: @unchecked Sendable {
    private enum Target {
        case file(FileHandle)
        case standardOutput
        case player(Process, FileHandle)
    }

    private let target: Target
    private let wav: Bool
    private var written = 0

    init(output: String?, playCommand: String?, format: String) throws {
        wav = format == "wav"
        if let output {
            if output == "-" {
                target = .standardOutput
                return
            }
            guard FileManager.default.createFile(atPath: output, contents: nil), let h = FileHandle(forWritingAtPath: output) else {
                throw CommandError("cannot create \(output)")
            }
            target = .file(h)
            return
        }
        let command = try playCommand ?? Self.findPlayer(format: format)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        let pipe = Pipe()
        p.standardInput = pipe
        do {
            try p.run()
        } catch {
            throw CommandError("cannot start the player '\(command)': \(error)")
        }
        target = .player(p, pipe.fileHandleForWriting)
    }

    func write(_ data: Data) throws {
        written += data.count
        switch target {
        case .file(let h): try h.write(contentsOf: data)
        case .standardOutput: FileHandle.standardOutput.write(data)
        case .player(_, let h):
            do { try h.write(contentsOf: data) } catch { throw CommandError("the player stopped reading: \(error)") }
        }
    }

    /// Closes the output; a WAV file gets its real sizes (the stream carries "unknown length").
    func finish() throws {
        switch target {
        case .file(let h):
            if wav && written >= 44 {
                let samples = (written - 44) / 2
                try h.seek(toOffset: 0)
                try h.write(contentsOf: WAV.header(sampleRate: 24_000, encoding: .pcm16, sampleCount: samples))
            }
            try h.close()
        case .standardOutput: break
        case .player(let p, let h):
            try? h.close()
            p.waitUntilExit()
            if p.terminationStatus != 0 { throw CommandError("the player exited with status \(p.terminationStatus)") }
        }
    }

    /// After a failure: close without waiting for a player.
    func abandon() {
        switch target {
        case .file(let h): try? h.close()
        case .standardOutput: break
        case .player(let p, let h):
            try? h.close()
            p.terminate()
        }
    }

    private static func findPlayer(format: String) throws -> String {
        let candidates: [(String, String)]
        switch format {
        case "wav", "pcm":
            let rawArgs = format == "wav" ? "" : " -f S16_LE -r 24000 -c 1"
            candidates = [
                ("aplay", "aplay -q\(rawArgs) -"),
                ("play", format == "wav" ? "play -q -t wav -" : "play -q -t raw -e signed -b 16 -r 24000 -c 1 -"),
                ("ffplay", format == "wav" ? "ffplay -nodisp -autoexit -loglevel quiet -" : "ffplay -nodisp -autoexit -loglevel quiet -f s16le -ar 24000 -ac 1 -"),
            ]
        default:
            // Compressed formats: players that decode them from a pipe.
            let soxType = ["opus": "opus", "mp3": "mp3", "flac": "flac"][format]
            candidates = [("ffplay", "ffplay -nodisp -autoexit -loglevel quiet -")] + (soxType.map { [("play", "play -q -t \($0) -")] } ?? [])
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for (binary, command) in candidates {
            for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(binary)") {
                return command
            }
        }
        throw CommandError("no audio player for \(format) found (\(candidates.map(\.0).joined(separator: ", "))); give --output FILE or --play-cmd")
    }
}
