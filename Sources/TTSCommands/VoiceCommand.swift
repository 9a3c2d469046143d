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
        abstract: "Clone the voice of a recording into a .voice file.",
        discussion: """
            With --text (the transcript of the recording) the voice clones in context: the file \
            holds the x-vector, the recording's codes and the transcript, and speech continues the \
            recording. Without it (or with --xvector-only) it holds the x-vector alone. The file is \
            small JSON with the identity of the model that made it; `synthesize --voice FILE` and \
            `serve --voices DIR` use it, and a model other than the one that made it refuses it.
            """)

    @Option(name: .long, help: "A Base model: checkpoint directory or GGUF file.")
    var model: String

    @Option(name: .long, help: "Reference recording: WAV, any rate, 16/24/32-bit PCM or float, up to 60 s.")
    var audio: String

    @Option(name: .long, help: "Transcript of the recording: in-context cloning (closest to the recording).")
    var text: String?

    @Flag(name: .customLong("xvector-only"), help: "Clone from the x-vector alone (no transcript needed).")
    var xvectorOnly = false

    @Option(name: .customLong("append-silence"), help: "Seconds of silence appended to the recording first (0-5; ~0.5 helps against run-on endings).")
    var appendSilence: Double = 0

    @Option(name: .long, help: "Voice name (default: the output file's name).")
    var name: String?

    @Option(name: [.short, .long], help: "Output .voice file.")
    var output: String

    func validate() throws {
        if xvectorOnly && text != nil { throw ValidationError("--xvector-only clones from the x-vector alone: leave out --text") }
        if !(0...5).contains(appendSilence) { throw ValidationError("--append-silence must be 0 to 5 seconds") }
    }

    func run() throws {
        let m = try CommandSupport.loadModel(model)
        let voiceName = name ?? ((output as NSString).lastPathComponent as NSString).deletingPathExtension
        let start = ContinuousClock.now
        let voice = try CommandSupport.cloneVoice(m, audio: audio, name: voiceName, transcript: text, appendSilence: appendSilence)
        let seconds = (ContinuousClock.now - start).seconds
        try CommandSupport.write(voice.encoded(), to: output)
        let how = voice.reference.map { "in context, \($0.codes.count) reference frames" } ?? "x-vector only"
        FileHandle.standardError.write(Data("voice \"\(voiceName)\" (\(how)) from \(String(format: "%.1f", voice.referenceSeconds)) s of audio in \(String(format: "%.2f", seconds)) s -> \(output)\n".utf8))
    }
}
