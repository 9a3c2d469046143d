// Element types found in checkpoint files.

/// Storage type of a tensor as named by safetensors.
public enum DType: String, Sendable, CaseIterable {
    case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
    case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"
    /// ggml q8_0 blocks (GGUF files only): 34 bytes per 32 values.
    case q8_0 = "Q8_0"
    /// ggml q4_K blocks (GGUF files only): 144 bytes per 256 values.
    case q4_k = "Q4_K"

    /// Bytes per element for plain types (0 for block-quantized ones; see `byteCount(elements:)`).
    public var byteSize: Int {
        switch self {
        case .q8_0, .q4_k: return 0
        case .f64, .i64: return 8
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8, .u8, .bool: return 1
        }
    }

    /// Bytes of `elements` values (whole blocks for quantized types).
    public func byteCount(elements: Int) -> Int {
        switch self {
        case .q8_0: return elements / 32 * 34
        case .q4_k: return elements / 256 * 144
        default: return elements * byteSize
        }
    }

    /// Types the engine computes with (converted to f32 or read in place).
    public var isFloat: Bool { self == .f32 || self == .f16 || self == .bf16 || self == .f64 || self == .q8_0 || self == .q4_k }

    /// Values per quantization block (rows must be whole blocks); 1 for plain types.
    public var blockSize: Int {
        switch self {
        case .q8_0: return 32
        case .q4_k: return 256
        default: return 1
        }
    }
}
