// `qwen3-tts pull`: from nothing to a fast model file in one command.
import ArgumentParser
import Foundation
import Qwen3TTS
import TTSHub
import TTSRuntime

struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Download a model from the Hugging Face hub and convert it to one GGUF file.",
        discussion: """
            NAME is one of \(HubModel.shortNames.joined(separator: ", ")) (the 12 Hz CustomVoice, \
            Base and VoiceDesign checkpoints) or owner/repo[@revision]. Files are checked against \
            the hub's sizes and sha256 and resumed when interrupted. The model store is \
            $QWEN3_TTS_HOME (default ~/.cache/qwen3-tts): the checkpoint goes to checkpoints/NAME \
            and the converted file to NAME.gguf, which `--model NAME` then finds. HF_TOKEN is sent \
            for gated repositories and HF_ENDPOINT selects a mirror.
            """)

    @Argument(help: "Model: a short name or owner/repo[@revision].")
    var name: String

    @Option(name: .long, help: "Store the generation weights as f32, bf16, q8_0 or q4_k in the GGUF (default: q4_k).")
    var quant: WeightType = .q4_k

    @Option(name: .long, help: "Model store directory (default: $QWEN3_TTS_HOME or ~/.cache/qwen3-tts).")
    var dir: String?

    @Flag(name: .long, help: "Use only what is already in the store; no network.")
    var offline = false

    @Flag(name: .long, help: "Download the checkpoint but do not convert it.")
    var noConvert = false

    func run() async throws {
        let model: HubModel
        do { model = try HubModel.resolve(name) } catch { throw CommandError("\(error)") }
        let store = dir.map { ModelStore(root: $0) } ?? ModelStore.fromEnvironment()
        let client = HubClient(configuration: .fromEnvironment())
        let puller = ModelPuller(client: client, store: store, offline: offline) { line in
            FileHandle.standardError.write(Data("qwen3-tts pull: \(line)\n".utf8))
        }
        let checkpoint: String
        do {
            checkpoint = try await puller.pull(model)
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw CommandError("cannot pull \(name): \(error)")
        }
        guard !noConvert else {
            print(checkpoint)
            return
        }
        let output = store.ggufPath(model.name)
        do {
            let report = try ModelConverter.convert(directory: checkpoint, output: output, weights: quant)
            FileHandle.standardError.write(Data("qwen3-tts pull: wrote \(output): \(report.tensors) tensors, \(quant.rawValue)\n".utf8))
        } catch {
            throw CommandError("cannot convert \(checkpoint): \(error)")
        }
        print(output)
        FileHandle.standardError.write(Data("speak with: qwen3-tts synthesize --model \(model.name) --text \"Hello.\" -o hello.wav\n".utf8))
    }
}
