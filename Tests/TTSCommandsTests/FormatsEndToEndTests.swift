// Every output format as users get it: the official `openai` package against the daemon (whole,
// streamed, SSE, and at another speed), and `synthesize --format`; each file read back by ffmpeg.
// And a codec library that is missing: a 400 (daemon) or an error (CLI) naming the package.
import Foundation
import TTSAudio
import TTSRuntime
import TTSTestSupport
import XCTest

final class FormatsEndToEndTests: XCTestCase {
    private let text = "Every format carries the same voice."
    private let maxFrames = 30
    private var model: String { CLI.checkpoint("tiny-cv-0b6") }

    /// How closely a lossy format must follow the WAV once decoded and aligned (Pearson
    /// correlation). This random-weight model's audio is a drifting DC offset plus noise, the
    /// worst case for a perceptual codec, which keeps the spectrum of noise but not its waveform
    /// (and Opus filters out DC by design): measured mp3 0.970, aac 0.870, opus 0.755 at the bit
    /// rates used (64, 64, 48 kbit/s). A broken stream (wrong rate, gaps, lost or reordered
    /// chunks) scores near 0. On a speech-like signal the same encoders reach 0.999
    /// (TTSAudioTests, bound 0.98).
    static let lossyBound = 0.7

    private func decodedMatches(_ file: String, _ format: AudioFormat, wav reference: [Float], speed: Double = 1, line: UInt = #line) throws {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
        XCTAssertFalse(bytes.isEmpty, file, line: line)
        let decoded = format == .pcm ? AudioDecoding.Decoded(sampleRate: 24_000, samples: bytes.withUnsafeBytes { $0.bindMemory(to: Int16.self).map { Float($0) / 32768 } })
                                     : try AudioDecoding.decode(bytes, format: format.rawValue, rate: 24_000)
        // The stream's own rate as ffprobe reads it: 24 kHz, except Opus, which always decodes
        // at 48 kHz (its header's input rate, 24 kHz, is checked in ContainerTests).
        XCTAssertEqual(decoded.sampleRate, format == .opus ? 48_000 : 24_000, file, line: line)
        // Within one model frame plus the codec's padding (an MP3 or AAC frame and its priming).
        let expected = Int((Double(reference.count) / speed).rounded())
        XCTAssertLessThanOrEqual(abs(decoded.samples.count - expected), 1920 + 2304, "\(file): \(decoded.samples.count) vs \(expected)", line: line)
        guard speed == 1 else { return }
        if format == .flac || format == .wav || format == .pcm {
            XCTAssertNil(firstDifference(decoded.samples, reference), file, line: line)
            return
        }
        let (c, delay) = AudioDecoding.alignedCorrelation(reference, decoded.samples, maxDelay: 2400)
        print("\(file): correlation \(c) at delay \(delay)")
        XCTAssertGreaterThanOrEqual(c, Self.lossyBound, file, line: line)
    }

    func testOpenAIClientGetsEveryFormat() throws {
        try requireTool(EndToEnd.tool(AudioDecoding.ffmpeg) != nil, "ffmpeg")
        let python = which("python3")
        let hasOpenAI = try python.map { try CLI.runProgram($0, ["-c", "import openai"]).status == 0 } ?? false
        try requireTool(hasOpenAI, "python3 with the openai package")
        let unavailable = AudioFormat.allCases.compactMap { f in f.unavailableReason.map { "\(f.rawValue): \($0)" } }
        if !unavailable.isEmpty {
            try requireTool(false, "every codec library (\(unavailable.joined(separator: "; ")))")
        }
        let dir = try CLI.temporaryDirectory()
        let daemon = try Daemon.start(["--model", model])
        defer { _ = daemon.terminate() }
        let script = CLI.testsDir.deletingLastPathComponent().appendingPathComponent("scripts/e2e/openai_formats.py").path
        let sdk = try CLI.runProgram(python!, [script, daemon.tcp, dir, "--voice", "ryan", "--seed", "7",
                                               "--max-frames", String(maxFrames), "--input", text])
        XCTAssertEqual(sdk.status, 0, sdk.stderr + String(decoding: sdk.stdout, as: UTF8.self))
        let wav = try Data(contentsOf: URL(fileURLWithPath: dir + "/wav_whole.wav"))
        let reference = wav.dropFirst(44).withUnsafeBytes { $0.bindMemory(to: Int16.self).map { Float($0) / 32768 } }
        XCTAssertEqual(reference.count, maxFrames * 1920)
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/formats.json"))) as? [String: [String: Any]]
        for format in AudioFormat.allCases {
            XCTAssertEqual(summary?[format.rawValue]?["content_type"] as? String, format.contentType)
            for mode in ["whole", "stream", "sse"] {
                try decodedMatches("\(dir)/\(format.rawValue)_\(mode).\(format.rawValue)", format, wav: reference)
            }
            // Raw streaming and SSE carry the same bytes, chunk for chunk.
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(format.rawValue)_stream.\(format.rawValue)")),
                           try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(format.rawValue)_sse.\(format.rawValue)")), format.rawValue)
            try decodedMatches("\(dir)/\(format.rawValue)_speed.\(format.rawValue)", format, wav: reference, speed: 1.5)
        }
        // `qwen3-tts client` asks for a format and a speed too: FLAC is the WAV's samples, MP3 at
        // speed 2 half as long.
        for (format, speed) in [(AudioFormat.wav, "1"), (.flac, "1"), (.mp3, "2")] {
            let client = try CLI.run(["client", text, "--voice", "ryan", "--seed", "7", "--server", daemon.tcp, "--format", format.rawValue,
                                      "--speed", speed, "--output", "\(dir)/client.\(format.rawValue)"])
            XCTAssertEqual(client.status, 0, client.stderr)
        }
        let clientWAV = try Data(contentsOf: URL(fileURLWithPath: dir + "/client.wav")).dropFirst(44)
            .withUnsafeBytes { $0.bindMemory(to: Int16.self).map { Float($0) / 32768 } }
        try decodedMatches(dir + "/client.flac", .flac, wav: clientWAV)
        try decodedMatches(dir + "/client.mp3", .mp3, wav: clientWAV, speed: 2)
        XCTAssertEqual(daemon.terminate(), 0, daemon.log.text)
    }

    func testSynthesizeWritesEveryFormat() throws {
        try requireTool(EndToEnd.tool(AudioDecoding.ffmpeg) != nil, "ffmpeg")
        let dir = try CLI.temporaryDirectory()
        let common = ["synthesize", "--model", model, "--text", text, "--speaker", "ryan", "--seed", "3", "--max-frames", String(maxFrames)]
        // Streamed audio is decoded in chunks, one pass at once: they differ by float rounding
        // (StreamingDecoderTests), so each is compared with its own WAV.
        func wav(_ extra: [String], _ name: String) throws -> [Float] {
            let r = try CLI.run(common + extra + ["-o", dir + "/" + name])
            XCTAssertEqual(r.status, 0, r.stderr)
            return try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)).dropFirst(44)
                .withUnsafeBytes { $0.bindMemory(to: Int16.self).map { Float($0) / 32768 } }
        }
        let reference = try wav([], "ref.wav"), streamedReference = try wav(["--stream"], "ref-stream.wav")
        for format in AudioFormat.allCases where format.unavailableReason == nil {
            // The format from the extension, and streamed with --format (a different extension).
            let named = dir + "/out.\(format.rawValue)"
            let r = try CLI.run(common + ["-o", named])
            XCTAssertEqual(r.status, 0, r.stderr)
            try decodedMatches(named, format, wav: reference)
            let streamed = dir + "/streamed-\(format.rawValue).bin"
            let s = try CLI.run(common + ["--stream", "--format", format.rawValue, "-o", streamed])
            XCTAssertEqual(s.status, 0, s.stderr)
            if format != .wav { try decodedMatches(streamed, format, wav: streamedReference) }
        }
        let fast = try CLI.run(common + ["--speed", "2", "-o", dir + "/fast.wav"])
        XCTAssertEqual(fast.status, 0, fast.stderr)
        let fastSamples = (try Data(contentsOf: URL(fileURLWithPath: dir + "/fast.wav")).count - 44) / 2
        XCTAssertEqual(fastSamples, reference.count / 2)
        let refused = try CLI.run(common + ["--float", "-o", dir + "/x.mp3"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--float applies to WAV and PCM only"), refused.stderr)
    }

    /// A codec library that cannot be loaded (here: QWEN3_TTS_LAME points at nothing) is named
    /// with the package that provides it, before any work: the CLI exits with it, the daemon
    /// answers 400 and keeps serving the other formats.
    func testMissingCodecLibraryIsNamed() throws {
        let dir = try CLI.temporaryDirectory()
        let missing = ["QWEN3_TTS_LAME": dir + "/no-such-libmp3lame.so"]
        let cli = try CLI.run(["synthesize", "--model", model, "--text", "Hi.", "--speaker", "ryan", "-o", dir + "/a.mp3"], environment: missing)
        XCTAssertEqual(cli.status, 1)
        XCTAssertTrue(cli.stderr.contains("apt install libmp3lame0"), cli.stderr)
        XCTAssertTrue(cli.stderr.contains("no-such-libmp3lame.so"), cli.stderr)

        let curl = which("curl")
        try requireTool(curl != nil, "curl")
        let daemon = try Daemon.start(["--model", model], environment: missing)
        defer { _ = daemon.terminate() }
        func post(_ format: String) throws -> (status: String, body: String) {
            let r = try CLI.runProgram(curl!, ["-sS", "-o", dir + "/body", "-w", "%{http_code}", daemon.tcp + "/v1/audio/speech",
                                               "-H", "Content-Type: application/json",
                                               "-d", #"{"model":"tts-1","input":"Hi.","voice":"ryan","max_frames":4,"response_format":"\#(format)"}"#])
            return (String(decoding: r.stdout, as: UTF8.self), (try? String(contentsOfFile: dir + "/body", encoding: .utf8)) ?? "")
        }
        let mp3 = try post("mp3")
        XCTAssertEqual(mp3.status, "400")
        XCTAssertTrue(mp3.body.contains("libmp3lame0"), mp3.body)
        XCTAssertEqual(try post("wav").status, "200")
        XCTAssertEqual(daemon.terminate(), 0, daemon.log.text)
    }
}
