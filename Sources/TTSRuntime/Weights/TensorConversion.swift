// Re-encoding tensor bytes between storage types (for `convert`).
import CTTSKernels
import Foundation

public enum TensorConversion {
    /// The bytes of `info` in `file`, encoded as `target` (rows of `shape.last` values for q8_0 and q4_k).
    public static func bytes(_ file: any TensorFile, _ info: TensorInfo, as target: DType) -> Data {
        let p = file.pointer(info)
        if target == info.dtype { return Data(bytes: p, count: info.byteCount) }
        let floats = convertToFloats(p, dtype: info.dtype, count: info.elementCount)
        switch target {
        case .f32:
            return floats.withUnsafeBytes { Data($0) }
        case .bf16:
            return floats.map { tts_f32_to_bf16($0).littleEndian }.withUnsafeBytes { Data($0) }
        case .f16:
            return floats.map { tts_f32_to_f16($0).littleEndian }.withUnsafeBytes { Data($0) }
        case .q8_0:
            var out = [UInt8](repeating: 0, count: DType.q8_0.byteCount(elements: floats.count))
            out.withUnsafeMutableBufferPointer { o in floats.withUnsafeBufferPointer { tts_quantize_q8_0($0.baseAddress!, o.baseAddress!, Int64(floats.count)) } }
            return Data(out)
        case .q4_k:
            var out = [UInt8](repeating: 0, count: DType.q4_k.byteCount(elements: floats.count))
            out.withUnsafeMutableBufferPointer { o in floats.withUnsafeBufferPointer { tts_quantize_q4_k($0.baseAddress!, o.baseAddress!, Int64(floats.count)) } }
            return Data(out)
        default:
            preconditionFailure("cannot encode tensors as \(target.rawValue)")
        }
    }
}
