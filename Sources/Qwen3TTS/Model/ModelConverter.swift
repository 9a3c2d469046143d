// `convert`: a Hugging Face checkpoint directory -> one GGUF file with every component.
import Foundation
import TTSRuntime

public enum ModelConverter {
    public struct Report: Sendable {
        public var tensors: Int
        public var converted: Int
        public var bytes: Int
    }

    /// Writes `directory` as one GGUF file: the talker, code predictor (and speaker encoder), the
    /// speech tokenizer under `speech_tokenizer.`, the configuration files and the tokenizer files
    /// as metadata. With `weights`, the generation linears and heads are stored as that type (the
    /// recipe `Qwen3TTSModel.load(weights:)` applies at load; q8_0 only where rows are multiples
    /// of 32); everything else keeps its stored type. The checkpoint is loaded strictly first, so
    /// a broken checkpoint fails before anything is written.
    @discardableResult
    public static func convert(directory: String, output: String, weights: WeightType?) throws -> Report {
        _ = try Qwen3TTSModel.load(path: directory, threads: 1)
        let files = try ModelFiles.directory(directory)
        func text(_ name: String) throws -> String {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path), let s = String(data: data, encoding: .utf8) else {
                throw ConfigurationError.missingFile(path: path)
            }
            return s
        }
        let writer = GGUFWriter()
        writer.set(GGUFKeys.architecture, .string(GGUFKeys.architectureName))
        writer.set("general.name", .string((directory as NSString).lastPathComponent))
        writer.set(GGUFKeys.config, .string(try text("config.json")))
        let genPath = (directory as NSString).appendingPathComponent("generation_config.json")
        writer.set(GGUFKeys.generationConfig, .string(FileManager.default.fileExists(atPath: genPath) ? try text("generation_config.json") : "{}"))
        writer.set(GGUFKeys.speechTokenizerConfig, .string(try text("speech_tokenizer/config.json")))
        writer.set(GGUFKeys.vocab, .string(try text("vocab.json")))
        writer.set(GGUFKeys.merges, .string(try text("merges.txt")))
        let tokConfig = (directory as NSString).appendingPathComponent("tokenizer_config.json")
        if FileManager.default.fileExists(atPath: tokConfig) { writer.set(GGUFKeys.tokenizerConfig, .string(try text("tokenizer_config.json"))) }
        writer.set(GGUFKeys.weights, .string(weights?.rawValue ?? "as stored"))

        var report = Report(tensors: 0, converted: 0, bytes: 0)
        for (store, prefix) in [(files.main, ""), (files.speech, GGUFKeys.speechPrefix)] {
            for name in store.names.sorted() {
                guard let (file, info) = store.location(name) else { continue }
                var target = info.dtype == .f64 ? .f32 : info.dtype
                if prefix.isEmpty, let w = weights, TensorNames.isGenerationLinear(name), info.shape.count == 2,
                   let chosen = w.recipe(for: TensorNames.isGenerationHead(name) ? .head : .projection, cols: info.shape[1]) {
                    target = chosen.dtype
                }
                if target != info.dtype { report.converted += 1 }
                report.tensors += 1
                report.bytes += target.byteCount(elements: info.elementCount)
                writer.add(GGUFWriter.Tensor(name: prefix + name, dtype: target, shape: info.shape) {
                    TensorConversion.bytes(file, info, as: target)
                })
            }
        }
        try writer.write(to: output)
        return report
    }
}

extension WeightType {
    var dtype: DType {
        switch self {
        case .f32: return .f32
        case .bf16: return .bf16
        case .q8_0: return .q8_0
        case .q4_k: return .q4_k
        }
    }
}

extension TensorNames {
    /// The talker and code-predictor matrices streamed for every frame (the quantization recipe):
    /// attention and MLP projections, the codec head, the predictor heads and its input projection.
    static func isGenerationLinear(_ name: String) -> Bool {
        guard name.hasSuffix(".weight") else { return false }
        let projections = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
                           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]
        if name.hasPrefix("talker.model.layers.") || name.hasPrefix("talker.code_predictor.model.layers.") {
            return projections.contains { name.hasSuffix(".\($0).weight") }
        }
        return isGenerationHead(name)
    }

    /// The generation matrices outside the transformer layers: heads and the predictor's input projection.
    static func isGenerationHead(_ name: String) -> Bool {
        name == codecHead || name.hasPrefix("talker.code_predictor.lm_head.") || name == "\(codePredictorProjection).weight"
    }
}
