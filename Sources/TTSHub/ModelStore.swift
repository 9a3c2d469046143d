// Where pulled models live: $QWEN3_TTS_HOME, else $XDG_CACHE_HOME/qwen3-tts, else
// ~/.cache/qwen3-tts. A model NAME has its checkpoint directory in checkpoints/NAME and its
// converted file in NAME.gguf; `--model NAME` finds the latter once pulled.
import Foundation

public struct ModelStore: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> ModelStore {
        if let home = env["QWEN3_TTS_HOME"], !home.isEmpty { return ModelStore(root: home) }
        if let cache = env["XDG_CACHE_HOME"], !cache.isEmpty { return ModelStore(root: cache + "/qwen3-tts") }
        return ModelStore(root: (env["HOME"] ?? NSHomeDirectory()) + "/.cache/qwen3-tts")
    }

    public func checkpointDirectory(_ name: String) -> String { root + "/checkpoints/" + name }
    public func ggufPath(_ name: String) -> String { root + "/" + name + ".gguf" }

    /// A `--model` argument: a path that exists is itself; otherwise a pulled model's GGUF, if any.
    public func resolveModelArgument(_ argument: String) -> String {
        if FileManager.default.fileExists(atPath: argument) { return argument }
        let name = (try? HubModel.resolve(argument))?.name ?? argument
        let gguf = ggufPath(name)
        return FileManager.default.fileExists(atPath: gguf) ? gguf : argument
    }
}
