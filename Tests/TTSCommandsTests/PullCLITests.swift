// `qwen3-tts pull` as a user runs it, against the local mock of the hub: download, convert to
// GGUF, then speak with the pulled model's name.
import Foundation
import Testing
import TTSTestSupport

@Suite struct PullCLITests {
    @Test func pullConvertsAndTheNameThenLoads() async throws {
        let hub = MockHub()
        var model = try MockHub.repo(fromDirectory: CLI.checkpoint("tiny-cv-0b6"))
        model.files = model.files.filter { !$0.key.hasPrefix("speech_tokenizer/") }
        hub.add("Qwen/Qwen3-TTS-12Hz-0.6B-CustomVoice", model)
        hub.add("Qwen/Qwen3-TTS-Tokenizer-12Hz", try MockHub.repo(fromDirectory: CLI.checkpoint("speech_tokenizer")))
        try await hub.start()
        let store = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: store) }
        let env = ["HF_ENDPOINT": hub.endpoint, "QWEN3_TTS_HOME": store]

        let pulled = try CLI.run(["pull", "0.6b", "--quant", "q8_0"], environment: env)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        let gguf = store + "/0.6b.gguf"
        #expect(String(decoding: pulled.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == gguf)
        #expect(FileManager.default.fileExists(atPath: gguf))
        #expect(pulled.stderr.contains("speak with: qwen3-tts synthesize --model 0.6b"))

        // The name finds the pulled file: the same codes as from the fixture checkpoint quantized alike.
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let args = ["--text", "Hello there.", "--language", "english", "--speaker", "ryan", "--greedy", "--max-frames", "6"]
        let byName = try CLI.run(["synthesize", "--model", "0.6b", "-o", dir + "/a.wav", "--codes-output", dir + "/a.json"] + args, environment: env)
        #expect(byName.status == 0, "\(byName.stderr)")
        let direct = try CLI.run(["synthesize", "--model", CLI.checkpoint("tiny-cv-0b6"), "--quant", "q8_0", "-o", dir + "/b.wav",
                                  "--codes-output", dir + "/b.json"] + args)
        #expect(direct.status == 0, "\(direct.stderr)")
        #expect(FileManager.default.contents(atPath: dir + "/a.json") == FileManager.default.contents(atPath: dir + "/b.json"))

        // Offline, the store is enough; an unknown name is refused with the known ones listed.
        await hub.stop()
        let offline = try CLI.run(["pull", "0.6b", "--offline", "--no-convert"], environment: env)
        #expect(offline.status == 0, "\(offline.stderr)")
        let unknown = try CLI.run(["pull", "3b"], environment: env)
        #expect(unknown.status != 0 && unknown.stderr.contains("unknown model \"3b\": use one of 0.6b, 0.6b-base"))
    }
}
