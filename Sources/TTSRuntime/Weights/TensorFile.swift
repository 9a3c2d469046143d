// A memory-mapped file holding named tensors (safetensors or GGUF).

public protocol TensorFile: Sendable {
    var path: String { get }
    var file: MappedFile { get }
    var tensors: [String: TensorInfo] { get }
}

extension TensorFile {
    public func pointer(_ info: TensorInfo) -> UnsafeRawPointer { file.base + info.offset }
}
