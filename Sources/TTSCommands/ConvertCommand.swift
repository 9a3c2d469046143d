// `qwen3-tts convert`: model preparation, one command.
import ArgumentParser
import Foundation
import Qwen3TTS
import TTSRuntime

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write a checkpoint directory as one GGUF file (all components, tokenizer, configuration).",
        discussion: """
            With --quant, the talker and code-predictor linears and heads are stored as that type \
            (q8_0 in ggml's block layout, so the file is readable by GGUF tools); embeddings, the \
            speech tokenizer and everything else keep their stored type. synthesize and bench load \
            the file by mmap with no conversion.
            """)

    @Argument(help: "Checkpoint directory (Hugging Face layout).")
    var directory: String

    @Option(name: [.short, .long], help: "Output GGUF file.")
    var output: String

    @Option(name: .long, help: "Store the generation weights as f32, bf16, q8_0 or q4_k (q4_k: layers in q4_k, heads in q8_0; default: as stored).")
    var quant: WeightType?

    func run() throws {
        let start = ContinuousClock.now
        let report: ModelConverter.Report
        do {
            report = try ModelConverter.convert(directory: directory, output: output, weights: quant)
        } catch {
            throw CommandError("cannot convert \(directory): \(error)")
        }
        FileHandle.standardError.write(Data(String(format: "wrote %@: %d tensors (%d re-encoded), %.2f GB, %.1f s\n",
                                                   output, report.tensors, report.converted, Double(report.bytes) / 1e9,
                                                   (ContinuousClock.now - start).seconds).utf8))
    }
}
