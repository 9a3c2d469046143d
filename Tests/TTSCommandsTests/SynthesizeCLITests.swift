import Foundation
import Testing
import TTSTestSupport

@Suite struct SynthesizeCLITests {
    struct Golden: Decodable {
        let text: String
        let codes: [[Int]]
    }

    func golden(_ name: String) throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: URL(fileURLWithPath: CLI.fixtures + "/cases/\(name).json")))
    }

    @Test func greedyRunWritesOfficialCodesAndAValidWAV() throws {
        let g = try golden("cv0-fu-russian")
        let dir = try CLI.temporaryDirectory()
        let r = try CLI.run(["synthesize", "--model", CLI.checkpoint("tiny-cv-0b6"), "--text", g.text,
                             "--language", "russian", "--speaker", "uncle_fu", "--greedy", "--max-frames", "23",
                             "--output", dir + "/out.wav", "--codes-output", dir + "/codes.json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("23 frames"))
        let codes = try JSONDecoder().decode([[Int]].self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/codes.json")))
        #expect(codes == g.codes)
        let info = try #require(WAVInfo(Data(contentsOf: URL(fileURLWithPath: dir + "/out.wav"))))
        #expect(info.format == 1 && info.channels == 1 && info.sampleRate == 24000 && info.bitsPerSample == 16)
        #expect(info.dataBytes == g.codes.count * 1920 * 2)
    }

    @Test(.enabled(if: EndToEnd.shouldRun(needing: "/usr/bin/sox")))
    func soxAcceptsTheWAV() throws {
        let soxPath = try EndToEnd.require("/usr/bin/sox")
        let g = try golden("vd1-instruct-french")
        let dir = try CLI.temporaryDirectory()
        for flag in [[], ["--float"]] {
            let r = try CLI.run(["synthesize", "--model", CLI.checkpoint("tiny-vd-1b7"), "--text", g.text, "--language", "french",
                                 "--instruct", "A warm elderly voice, slow.", "--greedy", "--max-frames", "23",
                                 "-o", dir + "/v.wav"] + flag)
            #expect(r.status == 0, "\(r.stderr)")
            let sox = try CLI.runProgram(soxPath, ["--info", dir + "/v.wav"])
            #expect(sox.status == 0, "\(sox.stderr)")
            let text = String(decoding: sox.stdout, as: UTF8.self)
            #expect(text.contains("Sample Rate    : 24000"))
            #expect(text.contains("Channels       : 1"))
            #expect(text.contains("\(g.codes.count * 1920) samples"))
        }
    }

    @Test func textFromStdinAndFile() throws {
        let dir = try CLI.temporaryDirectory()
        try "Plain text, nothing else: 123.".write(toFile: dir + "/t.txt", atomically: true, encoding: .utf8)
        let a = try CLI.run(["synthesize", "--model", CLI.checkpoint("tiny-vd-1b7"), "--text-file", dir + "/t.txt",
                             "--greedy", "--max-frames", "5", "-o", dir + "/a.wav", "--codes-output", dir + "/a.json"])
        let b = try CLI.run(["synthesize", "--model", CLI.checkpoint("tiny-vd-1b7"), "--greedy", "--max-frames", "5",
                             "-o", dir + "/b.wav", "--codes-output", dir + "/b.json"], stdin: Data("Plain text, nothing else: 123.\n".utf8))
        #expect(a.status == 0 && b.status == 0, "\(a.stderr) \(b.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/a.json")) == Data(contentsOf: URL(fileURLWithPath: dir + "/b.json")))
    }
}

@Suite struct BadInputTests {
    /// Runs a command that must fail: non-zero exit, no crash signal, and a message containing `expected`.
    func expectFailure(_ args: [String], _ expected: [String], stdin: Data? = nil) throws {
        let r = try CLI.run(args, stdin: stdin)
        #expect(r.status != 0 && r.status < 128, "status \(r.status)")
        for e in expected { #expect(r.stderr.contains(e), "stderr was: \(r.stderr)") }
    }

    func synth(_ model: String, _ extra: [String]) throws -> [String] {
        ["synthesize", "--model", model, "-o", try CLI.temporaryDirectory() + "/x.wav"] + extra
    }

    @Test func missingDirectoryAndFiles() throws {
        try expectFailure(try synth("/nonexistent/model", ["--text", "hi"]), ["/nonexistent/model is missing"])
        let noConfig = try CLI.modifiedCheckpoint("tiny-cv-0b6", replace: ["config.json": nil])
        try expectFailure(try synth(noConfig, ["--text", "hi"]), ["config.json is missing"])
        let noWeights = try CLI.modifiedCheckpoint("tiny-cv-0b6", replace: ["model.safetensors": nil])
        try expectFailure(try synth(noWeights, ["--text", "hi"]), ["model.safetensors", "no such file"])
        let noVocab = try CLI.modifiedCheckpoint("tiny-cv-0b6", replace: ["vocab.json": nil])
        try expectFailure(try synth(noVocab, ["--text", "hi"]), ["vocab.json is missing"])
    }

    @Test func corruptAndTruncatedSafetensors() throws {
        let original = try Data(contentsOf: URL(fileURLWithPath: CLI.checkpoint("tiny-cv-0b6") + "/model.safetensors"))
        let truncated = try CLI.modifiedCheckpoint("tiny-cv-0b6", replace: ["model.safetensors": original.prefix(original.count / 2)])
        try expectFailure(try synth(truncated, ["--text", "hi"]), ["model.safetensors is not a valid safetensors file", "truncated"])
        let garbage = try CLI.modifiedCheckpoint("tiny-cv-0b6", replace: ["model.safetensors": Data(repeating: 0x41, count: 4096)])
        try expectFailure(try synth(garbage, ["--text", "hi"]), ["model.safetensors is not a valid safetensors file"])
    }

    @Test func wrongTensorShapeNamesTheTensor() throws {
        var config = try String(contentsOfFile: CLI.checkpoint("tiny-cv-0b6") + "/config.json", encoding: .utf8)
        config = config.replacingOccurrences(of: "\"intermediate_size\": 32,", with: "\"intermediate_size\": 40,")
        let dir = try CLI.modifiedCheckpoint("tiny-cv-0b6", replace: ["config.json": Data(config.utf8)])
        try expectFailure(try synth(dir, ["--text", "hi"]), ["tensor talker.model.layers.0.mlp.gate_proj.weight", "has shape [32, 16], expected [40, 16]"])
    }

    @Test func unknownSpeakerAndLanguageListTheValidOnes() throws {
        let m = CLI.checkpoint("tiny-cv-0b6")
        try expectFailure(try synth(m, ["--text", "hi", "--speaker", "nobody"]), ["unknown speaker \"nobody\"", "aiden", "vivian"])
        try expectFailure(try synth(m, ["--text", "hi", "--language", "klingon"]), ["unknown language \"klingon\"", "auto", "english", "russian"])
        try expectFailure(try synth(m, ["--text", "hi", "--language", "sichuan_dialect"]), ["unknown language"])
        try expectFailure(try synth(CLI.checkpoint("tiny-vd-1b7"), ["--text", "hi", "--speaker", "ryan"]), ["voice_design models have no named speakers"])
    }

    @Test func instructOnAModelWithoutInstructSupport() throws {
        try expectFailure(try synth(CLI.checkpoint("tiny-cv-0b6"), ["--text", "hi", "--speaker", "ryan", "--instruct", "Whisper."]),
                          ["custom_voice 0b6 models do not take instructions"])
    }

    @Test func emptyTextAndBadOptions() throws {
        let m = CLI.checkpoint("tiny-cv-0b6")
        try expectFailure(try synth(m, ["--text", ""]), ["the text is empty"])
        try expectFailure(try synth(m, []), ["the text is empty"], stdin: Data("  \n".utf8))
        try expectFailure(try synth(m, ["--text", "hi", "--temperature", "0"]), ["temperature must be a positive number"])
        try expectFailure(try synth(m, ["--text", "hi", "--top-p", "1.5"]), ["top-p must be in (0, 1]"])
        try expectFailure(try synth(m, ["--text", "hi", "--max-frames", "0"]), ["max frames must be at least 1"])
        try expectFailure(try synth(m, ["--text", "hi", "--text-file", "/tmp/x"]), ["not both"])
        try expectFailure(try synth(m, ["--text-file", "/nonexistent/t.txt"]), ["cannot read text file /nonexistent/t.txt"])
        try expectFailure(try synth(m, ["--text", "hi", "--text-layout", "sideways"]), ["--text-layout must be streaming or non-streaming"])
    }
}

@Suite struct StreamCLITests {
    @Test func streamWritesAWAVAndRawPCMWithTheSameSamples() throws {
        let dir = try CLI.temporaryDirectory()
        let common = ["synthesize", "--model", CLI.checkpoint("tiny-cv-0b6"), "--text", "Streamed. Twice over!", "--language", "english",
                      "--speaker", "ryan", "--greedy", "--max-frames", "11", "--stream", "--first-chunk-frames", "2", "--chunk-frames", "3"]
        let wav = try CLI.run(common + ["-o", dir + "/s.wav"])
        #expect(wav.status == 0, "\(wav.stderr)")
        #expect(wav.stderr.contains("first audio after"))
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/s.wav"))
        let info = try #require(WAVInfo(data))
        #expect(info.sampleRate == 24000 && info.channels == 1 && info.dataBytes % (1920 * 2) == 0 && info.dataBytes > 0)
        let raw = try CLI.run(common + ["-o", "-"])
        #expect(raw.status == 0)
        #expect(raw.stdout == data[44...])
        let plain = try CLI.run(["synthesize", "--model", CLI.checkpoint("tiny-cv-0b6"), "--text", "Streamed. Twice over!", "--language", "english",
                                 "--speaker", "ryan", "--greedy", "--max-frames", "11", "-o", dir + "/p.wav"])
        #expect(plain.status == 0)
        // Same text, same greedy codes: the streamed file decodes to the one-shot file (16-bit PCM, 1 LSB).
        let p = try Data(contentsOf: URL(fileURLWithPath: dir + "/p.wav"))
        #expect(p.count == data.count)
        let a = data[44...].withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }, b = p[44...].withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        #expect(zip(a, b).allSatisfy { abs(Int($0) - Int($1)) <= 1 })
    }

    @Test func streamOptionsAreChecked() throws {
        let r = try CLI.run(["synthesize", "--model", CLI.checkpoint("tiny-cv-0b6"), "--text", "x", "-o", "-"])
        #expect(r.status != 0 && r.stderr.contains("--output - (raw PCM on standard output) needs --stream"))
        let z = try CLI.run(["synthesize", "--model", CLI.checkpoint("tiny-cv-0b6"), "--text", "x", "--stream", "--chunk-frames", "0", "-o", "/tmp/x.wav"])
        #expect(z.status != 0 && z.stderr.contains("must be at least 1"))
    }
}

@Suite struct ConvertCLITests {
    @Test func convertThenSynthesizeGivesTheOfficialCodes() throws {
        let dir = try CLI.temporaryDirectory()
        let c = try CLI.run(["convert", CLI.checkpoint("tiny-cv-1b7"), "-o", dir + "/m.gguf"])
        #expect(c.status == 0 && c.stderr.contains("wrote"), "\(c.stderr)")
        let g = try JSONDecoder().decode(SynthesizeCLITests.Golden.self,
                                         from: Data(contentsOf: URL(fileURLWithPath: CLI.fixtures + "/cases/cv1-ryan-instruct-english.json")))
        let r = try CLI.run(["synthesize", "--model", dir + "/m.gguf", "--text", g.text, "--language", "english", "--speaker", "ryan",
                             "--instruct", "Speak happily and fast.", "--greedy", "--max-frames", "23",
                             "-o", dir + "/o.wav", "--codes-output", dir + "/o.json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try JSONDecoder().decode([[Int]].self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/o.json"))) == g.codes)
    }

    @Test func convertRejectsABrokenCheckpointAndWritesNothing() throws {
        let dir = try CLI.temporaryDirectory()
        let broken = try CLI.modifiedCheckpoint("tiny-cv-0b6", replace: ["model.safetensors": Data(repeating: 1, count: 100)])
        let r = try CLI.run(["convert", broken, "-o", dir + "/x.gguf"])
        #expect(r.status != 0 && r.stderr.contains("cannot convert"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.gguf"))
    }
}

@Suite struct InspectCLITests {
    @Test func showsKernelsAndModel() throws {
        let r = try CLI.run(["inspect", "--model", CLI.checkpoint("tiny-cv-1b7")])
        let out = String(decoding: r.stdout, as: UTF8.self)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(out.contains("kernels: ") && out.contains("variant: custom_voice 1b7; instruct: yes"))
        #expect(out.contains("speakers: aiden, dylan") && out.contains("languages: auto, chinese"))
        #expect(out.contains("generation weights: bf16 x"))
        let bad = try CLI.run(["inspect", "--model", "/nonexistent"])
        #expect(bad.status != 0 && bad.stderr.contains("/nonexistent is missing"))
    }

    /// Crafted weight files (issue #15) end with exit status 1 and a message, never a trap.
    @Test func craftedWeightFilesAreRefusedWithAMessage() throws {
        let dir = try CLI.temporaryDirectory()
        func le(_ v: UInt64) -> Data { withUnsafeBytes(of: v.littleEndian) { Data($0) } }
        func le(_ v: UInt32) -> Data { withUnsafeBytes(of: v.littleEndian) { Data($0) } }
        // GGUF: one tensor of 2^16 x 2^16 x 2^16 x 2^16 values.
        var gguf = le(UInt32(0x4655_4747)) + le(UInt32(3)) + le(UInt64(1)) + le(UInt64(0))
        gguf += le(UInt64(1)) + Data("w".utf8) + le(UInt32(4))
        for _ in 0..<4 { gguf += le(UInt64(1 << 16)) }
        gguf += le(UInt32(0)) + le(UInt64(0)) + Data(count: 4096)
        try gguf.write(to: URL(fileURLWithPath: dir + "/huge.gguf"))
        let r = try CLI.run(["inspect", "--model", dir + "/huge.gguf"])
        #expect(r.status == 1 && r.stderr.contains("huge.gguf is not a valid GGUF file"), "\(r.stderr)")
        // safetensors: a shape of 2^62 values in the checkpoint's model file.
        let header = #"{"w": {"dtype": "F32", "shape": [4611686018427387904], "data_offsets": [0, 16]}}"#
        let safetensors = le(UInt64(header.utf8.count)) + Data(header.utf8) + Data(count: 16)
        let checkpoint = try CLI.modifiedCheckpoint("tiny-cv-0b6", replace: ["model.safetensors": safetensors])
        let s = try CLI.run(["synthesize", "--model", checkpoint, "--text", "Hi.", "-o", dir + "/o.wav"])
        #expect(s.status == 1 && s.stderr.contains("model.safetensors is not a valid safetensors file"), "\(s.stderr)")
    }
}

@Suite struct HugeTextCLITests {
    @Test func hugeTextIsRefusedWithItsSize() throws {
        let dir = try CLI.temporaryDirectory()
        try String(repeating: "Hello world. ", count: 8000).write(toFile: dir + "/big.txt", atomically: true, encoding: .utf8)
        let r = try CLI.run(["synthesize", "--model", CLI.checkpoint("tiny-cv-0b6"), "--text-file", dir + "/big.txt", "-o", dir + "/o.wav"])
        #expect(r.status != 0 && r.stderr.contains("characters long; the limit is 100000"), "\(r.stderr)")
        let s = try CLI.run(["synthesize", "--model", CLI.checkpoint("tiny-cv-0b6"), "--text-file", dir + "/big.txt", "--stream", "-o", dir + "/s.wav"])
        #expect(s.status != 0 && s.stderr.contains("the limit is 100000"))
    }

    /// Issue #15's second reproduction: one "e" and 60,000 combining accents (120 KB, one
    /// character) became one prefill with an n² score matrix ("failed to allocate 230424960352
    /// bytes"). It is now cut into utterances of at most 1,000 bytes and spoken.
    @Test func oneCharacterOfSixtyThousandMarksIsSpoken() throws {
        let dir = try CLI.temporaryDirectory()
        try ("e" + String(repeating: "\u{301}", count: 60_000)).write(toFile: dir + "/t.txt", atomically: true, encoding: .utf8)
        let r = try CLI.run(["synthesize", "--model", CLI.checkpoint("tiny-cv-0b6"), "--text-file", dir + "/t.txt", "--speaker", "ryan",
                             "--max-frames", "1", "--greedy", "-o", dir + "/o.wav"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("121 frames"), "\(r.stderr)")
    }

    @Test func aTextFileOverTheByteLimitIsRefusedUnread() throws {
        let dir = try CLI.temporaryDirectory()
        try Data(repeating: UInt8(ascii: "a"), count: 400_001).write(to: URL(fileURLWithPath: dir + "/big.txt"))
        let r = try CLI.run(["synthesize", "--model", CLI.checkpoint("tiny-cv-0b6"), "--text-file", dir + "/big.txt", "-o", dir + "/o.wav"])
        #expect(r.status == 1 && r.stderr.contains("is over 400000 bytes"), "\(r.stderr)")
    }
}

/// `synthesize --text-stream`: standard input spoken as it arrives (issue 19).
@Suite struct TextStreamCLITests {
    /// Writes `pieces` of bytes to the program's standard input with `pause` between them, as an
    /// LLM writing its answer would, then closes it.
    static func runFeeding(_ arguments: [String], pieces: [Data], pause: TimeInterval) throws -> CLI.Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try #require(CLI.binary))
        p.arguments = arguments
        let err = Pipe(), input = Pipe()
        p.standardError = err
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        _ = CLI.pipeSignalIgnored
        try p.run()
        // A program that fails before reading all of its input is reported by its status and
        // standard error, not by a write failing here.
        for piece in pieces {
            try? input.fileHandleForWriting.write(contentsOf: piece)
            Thread.sleep(forTimeInterval: pause)
        }
        try? input.fileHandleForWriting.close()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return CLI.Result(status: p.terminationStatus, stdout: Data(), stderr: String(decoding: e, as: UTF8.self))
    }

    @Test func textArrivingSlowlyGivesTheWholeTextsAudio() throws {
        let dir = try CLI.temporaryDirectory()
        let text = "Hello there, this is café text, streamed."
        let common = ["synthesize", "--model", CLI.checkpoint("tiny-cv-0b6"), "--language", "english", "--speaker", "ryan",
                      "--seed", "3", "--max-frames", "24", "--stream", "--format", "pcm"]
        let whole = try CLI.run(common + ["--text", text, "--text-layout", "streaming", "-o", dir + "/whole.pcm"])
        #expect(whole.status == 0, "\(whole.stderr)")
        // Pieces cut anywhere, one of them inside the two bytes of "é".
        let bytes = Data(text.utf8)
        let cuts = [0, 6, 13, 27, 28, bytes.count]
        let pieces = zip(cuts, cuts.dropFirst()).map { bytes[$0..<$1] }
        let streamed = try Self.runFeeding(common + ["--text-stream", "-o", dir + "/streamed.pcm"], pieces: pieces.map { Data($0) }, pause: 0.2)
        #expect(streamed.status == 0, "\(streamed.stderr)")
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/whole.pcm"))
        let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/streamed.pcm"))
        #expect(!a.isEmpty && a == b)
    }

    /// `client --text-stream` through the daemon's WebSocket endpoint: the same bytes as
    /// `synthesize` with the whole text in the streaming layout, the frame cap included (left to
    /// the text's length: the client has no option for it).
    @Test func theClientStreamsTextThroughTheDaemon() throws {
        let dir = try CLI.temporaryDirectory()
        let text = "Hello there, this is café text, streamed."
        let whole = try CLI.run(["synthesize", "--model", CLI.checkpoint("tiny-cv-0b6"), "--language", "english", "--speaker", "ryan",
                                 "--seed", "3", "--stream", "--format", "pcm", "--text", text, "--text-layout", "streaming", "-o", dir + "/whole.pcm"])
        #expect(whole.status == 0, "\(whole.stderr)")
        let daemon = try Daemon.start(["--model", CLI.checkpoint("tiny-cv-0b6")])
        defer { _ = daemon.terminate() }
        let bytes = Data(text.utf8)
        let cuts = [0, 6, 13, 27, 28, bytes.count]
        let pieces = zip(cuts, cuts.dropFirst()).map { Data(bytes[$0..<$1]) }
        let client = ["client", "--server", daemon.tcp, "--voice", "ryan", "--language", "english", "--seed", "3", "--format", "pcm", "--text-stream"]
        let streamed = try Self.runFeeding(client + ["-o", dir + "/client.pcm"], pieces: pieces, pause: 0.2)
        #expect(streamed.status == 0, "\(streamed.stderr)")
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/whole.pcm"))
        let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/client.pcm"))
        #expect(!a.isEmpty && a == b, "\(a.count) against \(b.count) bytes")
        // The server's refusal reaches the user, here while the client still waits for more text.
        let bad = try Self.runFeeding(["client", "--server", daemon.tcp, "--voice", "nobody", "--text-stream", "-o", dir + "/bad.pcm"],
                                      pieces: [Data("Hi.".utf8), Data(" More.".utf8)], pause: 2)
        #expect(bad.status != 0 && bad.stderr.contains("unknown speaker"), "\(bad.stderr)")
        let args = try CLI.run(["client", "--text-stream", "hello"])
        #expect(args.status != 0 && args.stderr.contains("reads the text from standard input"), "\(args.stderr)")
    }

    @Test func badInputAndOptionsAreNamed() throws {
        let m = ["synthesize", "--model", CLI.checkpoint("tiny-cv-0b6"), "--language", "english", "--speaker", "ryan", "-o", "/tmp/never.pcm"]
        let cases: [([String], Data, String)] = [
            (["--text-stream"], Data("hi".utf8), "--text-stream needs --stream"),
            (["--text-stream", "--stream", "--text", "hi"], Data(), "--text-stream reads standard input"),
            (["--text-stream", "--stream"], Data([0x48, 0x69, 0xFF, 0xFE]), "the text is not UTF-8"),
            (["--text-stream", "--stream"], Data([0x63, 0x61, 0x66, 0xC3]), "the text ends inside a UTF-8 character"),
            (["--text-stream", "--stream"], Data("  \n ".utf8), "the text is empty"),
            // Over the limit of a request's text, counted over the pieces as they arrive.
            (["--text-stream", "--stream", "--max-frames", "4"], Data(repeating: 97, count: 100_001),
             "the text is 100001 characters long; the limit is 100000 characters"),
            (["--text-stream", "--stream", "--text-layout", "non-streaming"], Data("hi".utf8), "text layout must be streaming"),
        ]
        for (args, stdin, message) in cases {
            let r = try CLI.run(m + args, stdin: stdin)
            #expect(r.status != 0 && r.stderr.contains(message), "\(args): \(r.stderr)")
        }
    }
}
