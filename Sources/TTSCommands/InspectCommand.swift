// `qwen3-tts inspect`: what this machine runs and what a model holds.
import ArgumentParser
import Foundation
import Qwen3TTS
import TTSRuntime

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show the CPU kernel paths in use, and a model's configuration and weights.")

    @Option(name: .long, help: "Model: checkpoint directory or GGUF file (optional).")
    var model: String?

    func run() throws {
        try KernelPath.checkForced()
        print("kernels: \(KernelPath.description)")
        print("supported paths: \(KernelPath.supported.joined(separator: ", ")) (TTS_KERNELS forces one)")
        print("threads: \(ProcessInfo.processInfo.activeProcessorCount) cores")
        guard let model else { return }
        let m = try CommandSupport.loadModel(model)
        let c = m.configuration
        let t = c.talker.stack, p = c.talker.codePredictor
        print("model: \(model)")
        print("  variant: \(c.modelKind.rawValue) \(c.modelSize); instruct: \(c.supportsInstruct ? "yes" : "no")")
        print("  talker: \(t.numHiddenLayers) layers, hidden \(t.hiddenSize), heads \(t.numAttentionHeads)/\(t.numKeyValueHeads)x\(t.headDim), MLP \(t.intermediateSize)")
        print("  code predictor: \(p.numHiddenLayers) layers, hidden \(p.hiddenSize), \(p.numCodeGroups) code groups of \(p.vocabSize)")
        print("  speakers: \(c.speakers.isEmpty ? "none" : c.speakers.joined(separator: ", "))")
        print("  languages: \(c.languages.joined(separator: ", "))")
        print("  generation weights: \(m.generationWeightTypes.joined(separator: ", "))")
        let (tb, cb) = m.weightBytesPerFrame
        print(String(format: "  weights streamed per frame: talker %.3f GB, code predictor %.3f GB", Double(tb) / 1e9, Double(cb) / 1e9))
        print("  audio: \(m.sampleRate) Hz, \(m.samplesPerFrame) samples per frame")
    }
}
