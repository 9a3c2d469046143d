// Errors raised while reading a model directory's configuration.

public enum ConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    case missingFile(path: String)
    case malformed(path: String, reason: String)
    case invalid(path: String, key: String, reason: String)

    public var description: String {
        switch self {
        case .missingFile(let path): return "\(path) is missing"
        case .malformed(let path, let reason): return "\(path) cannot be read: \(reason)"
        case .invalid(let path, let key, let reason): return "\(path): \(key) \(reason)"
        }
    }
}
