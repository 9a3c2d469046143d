// Where a model's parts come from: a Hugging Face directory, or one GGUF file from `convert`.
import Foundation
import TTSRuntime
import TTSTokenizers

/// Metadata keys of the project's GGUF files (all strings hold the original files' contents).
enum GGUFKeys {
    static let architecture = "general.architecture"
    static let architectureName = "qwen3-tts"
    static let config = "qwen3tts.config"
    static let generationConfig = "qwen3tts.generation_config"
    static let speechTokenizerConfig = "qwen3tts.speech_tokenizer.config"
    static let vocab = "tokenizer.qwen3tts.vocab"
    static let merges = "tokenizer.qwen3tts.merges"
    static let tokenizerConfig = "tokenizer.qwen3tts.tokenizer_config"
    static let weights = "qwen3tts.weights"
    /// Speech tokenizer tensors are stored under this prefix.
    static let speechPrefix = "speech_tokenizer."
}

/// Everything a model is built from, read and validated.
struct ModelFiles {
    var configuration: Qwen3TTSConfiguration
    var generationDefaults: GenerationDefaults
    var speechConfiguration: SpeechTokenizerConfiguration
    var tokenizer: BPETokenizer
    var main: WeightStore
    var speech: WeightStore

    static func open(_ path: String) throws -> ModelFiles {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw ConfigurationError.missingFile(path: path) }
        return isDir.boolValue ? try directory(path) : try gguf(path)
    }

    static func directory(_ directory: String) throws -> ModelFiles {
        func path(_ p: String) -> String { (directory as NSString).appendingPathComponent(p) }
        let configPath = path("config.json"), genPath = path("generation_config.json"), stPath = path("speech_tokenizer/config.json")
        let configuration = try JSONFile.decode(Qwen3TTSConfiguration.self, path: configPath)
        let generation = FileManager.default.fileExists(atPath: genPath)
            ? try JSONFile.decode(GenerationDefaults.self, path: genPath) : GenerationDefaults()
        let speech = try JSONFile.decode(SpeechTokenizerConfiguration.self, path: stPath)
        let files = ModelFiles(configuration: configuration, generationDefaults: generation, speechConfiguration: speech,
                               tokenizer: try BPETokenizer.load(directory: directory),
                               main: try WeightStore.open(directory: directory),
                               speech: try WeightStore.open(directory: path("speech_tokenizer")))
        try files.validate(configPath: configPath, speechConfigPath: stPath)
        return files
    }

    static func gguf(_ path: String) throws -> ModelFiles {
        let file = try GGUFFile(path: path)
        guard file.metadata[GGUFKeys.architecture]?.string == GGUFKeys.architectureName else {
            let found = file.metadata[GGUFKeys.architecture]?.string ?? "missing"
            throw ConfigurationError.malformed(path: path, reason: "not a Qwen3-TTS GGUF file (general.architecture is \(found))")
        }
        func text(_ key: String) throws -> String {
            guard let s = file.metadata[key]?.string else {
                throw ConfigurationError.malformed(path: path, reason: "metadata \(key) is missing")
            }
            return s
        }
        let configuration = try JSONFile.decode(Qwen3TTSConfiguration.self, data: Data(try text(GGUFKeys.config).utf8), source: "\(path) [\(GGUFKeys.config)]")
        let generation = try JSONFile.decode(GenerationDefaults.self, data: Data(try text(GGUFKeys.generationConfig).utf8), source: "\(path) [\(GGUFKeys.generationConfig)]")
        let speech = try JSONFile.decode(SpeechTokenizerConfiguration.self, data: Data(try text(GGUFKeys.speechTokenizerConfig).utf8),
                                         source: "\(path) [\(GGUFKeys.speechTokenizerConfig)]")
        let tokenizer = try BPETokenizer.load(vocabJSON: Data(try text(GGUFKeys.vocab).utf8), merges: try text(GGUFKeys.merges),
                                              tokenizerConfig: file.metadata[GGUFKeys.tokenizerConfig]?.string.map { Data($0.utf8) },
                                              source: path)
        let prefix = GGUFKeys.speechPrefix
        let files = ModelFiles(configuration: configuration, generationDefaults: generation, speechConfiguration: speech, tokenizer: tokenizer,
                               main: try WeightStore(files: [file]) { $0.hasPrefix(prefix) ? nil : $0 },
                               speech: try WeightStore(files: [file]) { $0.hasPrefix(prefix) ? String($0.dropFirst(prefix.count)) : nil })
        try files.validate(configPath: path, speechConfigPath: path)
        return files
    }

    func validate(configPath: String, speechConfigPath: String) throws {
        try configuration.validate(path: configPath)
        try speechConfiguration.validate(path: speechConfigPath)
        guard speechConfiguration.decoder.numQuantizers == configuration.talker.stack.numCodeGroups,
              speechConfiguration.decoder.codebookSize == configuration.talker.codePredictor.vocabSize
        else {
            throw ConfigurationError.invalid(path: speechConfigPath, key: "decoder_config.num_quantizers/codebook_size",
                                             reason: "do not match the talker's num_code_groups/code predictor vocab_size")
        }
    }
}
