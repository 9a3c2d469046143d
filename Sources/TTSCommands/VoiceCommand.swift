// `qwen3-tts voice create`: clone a voice once into a reusable .voice file.
import ArgumentParser
import Foundation
import Qwen3TTS
import TTSRuntime

struct VoiceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voice",
        abstract: "Reusable cloned voices (Base models).",
        subcommands: [VoiceCreate.self],
        defaultSubcommand: VoiceCreate.self)
}

struct VoiceCreate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Clone the voice of a recording into a .voice file (x-vector and model identity).",
        discussion: """
            The file is small JSON: the x-vector, the name, and the identity of the model that made \
            it; `synthesize --voice FILE` and `serve --voices DIR` use it, and a model other than \
            the one that made it refuses it.
            """)

    @Option(name: .long, help: "A Base model: checkpoint directory or GGUF file.")
    var model: String

    @Option(name: .long, help: "Reference recording: WAV, any rate, 16/24/32-bit PCM or float, up to 60 s.")
    var audio: String

    @Option(name: .long, help: "Voice name (default: the output file's name).")
    var name: String?

    @Option(name: [.short, .long], help: "Output .voice file.")
    var output: String

    func run() throws {
        let m = try CommandSupport.loadModel(model)
        guard let data = FileManager.default.contents(atPath: audio) else { throw CommandError("cannot read \(audio)") }
        let voiceName = name ?? ((output as NSString).lastPathComponent as NSString).deletingPathExtension
        let voice: VoiceFile
        do {
            voice = try m.makeVoice(name: voiceName, audio: WAVReader.read(data))
        } catch let e as AudioInputError {
            throw CommandError("\(audio): \(e)")
        } catch let e as SynthesisError {
            throw CommandError(e.description)
        }
        try CommandSupport.write(voice.encoded(), to: output)
        FileHandle.standardError.write(Data("voice \"\(voiceName)\" from \(String(format: "%.1f", voice.referenceSeconds)) s of audio -> \(output)\n".utf8))
    }
}
