// Errors raised while reading checkpoint files.

/// A problem with a checkpoint file or one of its tensors. Every case names the file, and the
/// tensor where there is one, so a user can tell which download is broken.
public enum WeightsError: Error, Sendable, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, reason: String)
    case corrupt(path: String, reason: String)
    case missingTensor(name: String, files: [String])
    case shapeMismatch(name: String, file: String, expected: [Int], actual: [Int])
    case unsupportedDType(name: String, file: String, dtype: String)
    case unusedTensors(names: [String], file: String)
    case duplicateTensor(name: String, files: [String])

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            return "cannot open \(path): \(reason)"
        case .corrupt(let path, let reason):
            return "\(path) is not a valid \(path.lowercased().hasSuffix(".gguf") ? "GGUF" : "safetensors") file: \(reason)"
        case .missingTensor(let name, let files):
            return "tensor \(name) is missing from \(files.joined(separator: ", "))"
        case .shapeMismatch(let name, let file, let expected, let actual):
            return "tensor \(name) in \(file) has shape \(actual), expected \(expected)"
        case .unsupportedDType(let name, let file, let dtype):
            return "tensor \(name) in \(file) has dtype \(dtype), which cannot be used here"
        case .unusedTensors(let names, let file):
            let shown = names.prefix(5).joined(separator: ", ")
            let more = names.count > 5 ? " and \(names.count - 5) more" : ""
            return "\(file) holds tensors this model does not use: \(shown)\(more)"
        case .duplicateTensor(let name, let files):
            return "tensor \(name) appears in more than one file: \(files.joined(separator: ", "))"
        }
    }
}
