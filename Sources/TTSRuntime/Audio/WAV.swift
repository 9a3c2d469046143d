// RIFF/WAVE output: 16-bit PCM or 32-bit float, mono.
import Foundation

public enum WAVEncoding: Sendable {
    case pcm16
    case float32
}

public enum WAV {
    /// A complete WAV file for mono samples in [-1, 1].
    public static func encode(_ samples: [Float], sampleRate: Int, encoding: WAVEncoding = .pcm16) -> Data {
        var data = header(sampleRate: sampleRate, encoding: encoding, sampleCount: samples.count)
        data.append(pcm(samples, encoding: encoding))
        return data
    }

    /// The 44-byte header; `sampleCount` nil writes the "unknown length" sizes used when streaming.
    public static func header(sampleRate: Int, encoding: WAVEncoding, sampleCount: Int?) -> Data {
        let bytesPerSample = encoding == .pcm16 ? 2 : 4
        let dataBytes = sampleCount.map { UInt32(clamping: $0 * bytesPerSample) } ?? 0xFFFF_FFFF - 36
        var d = Data()
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        d.append(contentsOf: Array("RIFF".utf8))
        u32(dataBytes &+ 36)
        d.append(contentsOf: Array("WAVE".utf8))
        d.append(contentsOf: Array("fmt ".utf8))
        u32(16)
        u16(encoding == .pcm16 ? 1 : 3)
        u16(1)
        u32(UInt32(sampleRate))
        u32(UInt32(sampleRate * bytesPerSample))
        u16(UInt16(bytesPerSample))
        u16(UInt16(bytesPerSample * 8))
        d.append(contentsOf: Array("data".utf8))
        u32(dataBytes)
        return d
    }

    /// One sample as 16-bit PCM: clamped to [-1, 1], NaN as silence, scaled by 32767 and rounded
    /// (every 16-bit output, lossless or not, quantizes the same way).
    @inline(__always)
    public static func pcm16(_ s: Float) -> Int16 { Int16((clamp(s) * 32767).rounded()) }

    /// A sample as every output takes it: clamped to [-1, 1], NaN as silence.
    @inline(__always)
    public static func clamp(_ s: Float) -> Float { s.isNaN ? 0 : min(max(s, -1), 1) }

    /// Raw little-endian sample bytes.
    public static func pcm(_ samples: [Float], encoding: WAVEncoding) -> Data {
        switch encoding {
        case .pcm16:
            var out = [Int16](repeating: 0, count: samples.count)
            for (i, s) in samples.enumerated() { out[i] = pcm16(s).littleEndian }
            return out.withUnsafeBytes { Data($0) }
        case .float32:
            return samples.map { $0.bitPattern.littleEndian }.withUnsafeBytes { Data($0) }
        }
    }
}
