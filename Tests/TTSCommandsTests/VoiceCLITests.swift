// Voice cloning from the command line: --reference-audio, voice create, --voice, and the refusals.
import Foundation
import Testing
import TTSRuntime

@Suite struct VoiceCLITests {
    let base = CLI.checkpoint("tiny-base-0b6")

    /// A 44.1 kHz stereo 24-bit recording (resampled and downmixed on the way in).
    func reference(in dir: String) throws -> String {
        let n = 44100
        var payload: [UInt8] = []
        for i in 0..<n {
            for ch in 0..<2 {
                let v = Int32(0.4 * sin(Double(i) * (ch == 0 ? 0.05 : 0.11)) * 8_388_607)
                payload += [UInt8(truncatingIfNeeded: v), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v >> 16)]
            }
        }
        var d = Data("RIFF".utf8)
        func u32(_ v: Int) { d.append(contentsOf: (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) }) }
        func u16(_ v: Int) { d.append(contentsOf: [UInt8(v & 0xFF), UInt8(v >> 8)]) }
        u32(36 + payload.count); d.append(contentsOf: Array("WAVEfmt ".utf8)); u32(16)
        u16(1); u16(2); u32(44100); u32(44100 * 6); u16(6); u16(24)
        d.append(contentsOf: Array("data".utf8)); u32(payload.count); d.append(contentsOf: payload)
        let path = dir + "/ref.wav"
        try d.write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func voiceFileSpeaksLikeTheReferenceAndOtherModelsRefuseIt() throws {
        let dir = try CLI.temporaryDirectory()
        let ref = try reference(in: dir)
        let common = ["synthesize", "--model", base, "--text", "A voice, cloned once.", "--language", "english", "--greedy", "--max-frames", "12"]
        let direct = try CLI.run(common + ["--reference-audio", ref, "-o", dir + "/a.wav"])
        #expect(direct.status == 0, "\(direct.stderr)")
        let created = try CLI.run(["voice", "create", "--model", base, "--audio", ref, "-o", dir + "/nova.voice"])
        #expect(created.status == 0, "\(created.stderr)")
        let viaFile = try CLI.run(common + ["--voice", dir + "/nova.voice", "-o", dir + "/b.wav"])
        #expect(viaFile.status == 0, "\(viaFile.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/a.wav")) == Data(contentsOf: URL(fileURLWithPath: dir + "/b.wav")))

        // The same file under another model's identity.
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/nova.voice"))) as! [String: Any]
        var model = json["model"] as! [String: Any]
        model["speaker_encoder"] = "0000000000000000"
        json["model"] = model
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: dir + "/foreign.voice"))
        let foreign = try CLI.run(common + ["--voice", dir + "/foreign.voice", "-o", dir + "/c.wav"])
        #expect(foreign.status == 1 && foreign.stderr.contains("made with another model"), "\(foreign.stderr)")

        let noVoice = try CLI.run(["synthesize", "--model", base, "--text", "No voice.", "-o", dir + "/d.wav"])
        #expect(noVoice.status == 1 && noVoice.stderr.contains("cloned voice"), "\(noVoice.stderr)")
        try Data("RIFF....WAVEjunk".utf8).write(to: URL(fileURLWithPath: dir + "/junk.wav"))
        let junk = try CLI.run(common + ["--reference-audio", dir + "/junk.wav", "-o", dir + "/e.wav"])
        #expect(junk.status == 1 && junk.stderr.contains("junk.wav"), "\(junk.stderr)")
        let onCustomVoice = try CLI.run(["voice", "create", "--model", CLI.checkpoint("tiny-cv-0b6"), "--audio", ref, "-o", dir + "/x.voice"])
        #expect(onCustomVoice.status == 1 && onCustomVoice.stderr.contains("Base model"), "\(onCustomVoice.stderr)")
    }

    /// In context from the CLI: synthesize --reference-text equals voice create --text + --voice,
    /// and the file says so.
    @Test func inContextVoiceFromTheCommandLine() throws {
        let dir = try CLI.temporaryDirectory()
        let ref = try reference(in: dir)
        let common = ["synthesize", "--model", base, "--text", "Speech that continues the recording.", "--language", "english",
                      "--greedy", "--max-frames", "12"]
        let direct = try CLI.run(common + ["--reference-audio", ref, "--reference-text", "Two tones.", "--append-silence", "0.5",
                                           "-o", dir + "/a.wav"])
        #expect(direct.status == 0, "\(direct.stderr)")
        let created = try CLI.run(["voice", "create", "--model", base, "--audio", ref, "--text", "Two tones.", "--append-silence", "0.5",
                                   "-o", dir + "/echo.voice"])
        #expect(created.status == 0 && created.stderr.contains("in context"), "\(created.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/echo.voice"))) as! [String: Any]
        #expect(json["mode"] as? String == "icl")
        #expect((json["reference"] as? [String: Any])?["text"] as? String == "Two tones.")
        let viaFile = try CLI.run(common + ["--voice", dir + "/echo.voice", "-o", dir + "/b.wav"])
        #expect(viaFile.status == 0, "\(viaFile.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/a.wav")) == Data(contentsOf: URL(fileURLWithPath: dir + "/b.wav")))

        let both = try CLI.run(["voice", "create", "--model", base, "--audio", ref, "--text", "x", "--xvector-only", "-o", dir + "/c.voice"])
        #expect(both.status != 0 && both.stderr.contains("--xvector-only"), "\(both.stderr)")
        let stray = try CLI.run(common + ["--reference-text", "x", "-o", dir + "/d.wav"])
        #expect(stray.status != 0 && stray.stderr.contains("--reference-audio"), "\(stray.stderr)")
    }

    /// Files larger than anything they may hold are refused after reading one byte past the
    /// limit, never loaded whole: a 65 MB "recording", a 5 MB voice file, 400 KB on standard input.
    @Test func oversizedInputFilesAreRefusedUnread() throws {
        let dir = try CLI.temporaryDirectory()
        func sparse(_ name: String, _ size: UInt64) throws -> String {
            let path = dir + "/" + name
            FileManager.default.createFile(atPath: path, contents: nil)
            let h = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try h.truncate(atOffset: size)
            try h.close()
            return path
        }
        let audio = try sparse("huge.wav", 65 << 20)
        let r = try CLI.run(["voice", "create", "--model", base, "--audio", audio, "-o", dir + "/v.voice"])
        #expect(r.status == 1 && r.stderr.contains("huge.wav is over 67108864 bytes"), "\(r.stderr)")
        let voice = try sparse("huge.voice", 5 << 20)
        let v = try CLI.run(["synthesize", "--model", base, "--voice", voice, "--text", "Hi.", "-o", dir + "/o.wav"])
        #expect(v.status == 1 && v.stderr.contains("huge.voice is over 4194304 bytes"), "\(v.stderr)")
        let c = try CLI.run(["client", "--server", "http://127.0.0.1:9", "-o", dir + "/c.wav"], stdin: Data(repeating: 97, count: 400_001))
        #expect(c.status == 1 && c.stderr.contains("standard input is over 400000 bytes"), "\(c.stderr)")
    }
}
