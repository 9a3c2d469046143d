// The `qwen3-tts` command and its subcommands.
import ArgumentParser

public struct RootCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "qwen3-tts",
        abstract: "Qwen3-TTS text-to-speech on the CPU, in Swift.",
        subcommands: [SynthesizeCommand.self, ServeCommand.self, ClientCommand.self, VoiceCommand.self, ConvertCommand.self, PullCommand.self, BenchCommand.self, InspectCommand.self],
        defaultSubcommand: SynthesizeCommand.self)

    public init() {}
}
