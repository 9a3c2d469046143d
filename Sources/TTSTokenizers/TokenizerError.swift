// Errors raised while loading tokenizer files.

public enum TokenizerError: Error, Sendable, CustomStringConvertible, Equatable {
    case missingFile(path: String)
    case malformed(path: String, line: Int?, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let path):
            return "tokenizer file \(path) is missing"
        case .malformed(let path, let line, let reason):
            if let line { return "\(path):\(line): \(reason)" }
            return "\(path): \(reason)"
        }
    }
}
