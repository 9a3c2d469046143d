// Reading reference audio: RIFF/WAVE with 16/24/32-bit PCM or 32/64-bit float, any rate and
// channel count, downmixed to mono; every malformed or unsupported file is a named error.
import Foundation

public enum AudioInputError: Error, Sendable, Equatable, CustomStringConvertible {
    case notWAV(String)
    case truncated(String)
    case unsupportedEncoding(String)
    case empty
    case nonFinite(index: Int)
    case tooLong(seconds: Double, limit: Double)
    case silent(peak: Float)

    public var description: String {
        switch self {
        case .notWAV(let why): return "not a WAV file: \(why)"
        case .truncated(let why): return "the WAV file is truncated: \(why)"
        case .unsupportedEncoding(let what): return "unsupported WAV encoding: \(what); supported: 16-, 24- or 32-bit PCM, 32- or 64-bit float"
        case .empty: return "the audio has no samples"
        case .nonFinite(let i): return "the audio has a NaN or infinite sample (at sample \(i))"
        case .tooLong(let s, let limit): return String(format: "the audio is %.1f s long; the limit is %.1f s", s, limit)
        case .silent(let peak): return String(format: "the audio is silent (peak %.1f dBFS)", 20 * log10(Double(max(peak, 1e-12))))
        }
    }
}

/// Mono audio in [-1, 1] at `sampleRate`.
public struct AudioBuffer: Sendable, Equatable {
    public var samples: [Float]
    public var sampleRate: Int
    /// Channels in the source before the downmix.
    public var sourceChannels: Int

    public init(samples: [Float], sampleRate: Int, sourceChannels: Int = 1) {
        self.samples = samples
        self.sampleRate = sampleRate
        self.sourceChannels = sourceChannels
    }

    public var seconds: Double { Double(samples.count) / Double(sampleRate) }

    /// This audio followed by `seconds` of silence.
    public func appendingSilence(seconds: Double) -> AudioBuffer {
        let extra = Int((seconds * Double(sampleRate)).rounded())
        guard extra > 0 else { return self }
        return AudioBuffer(samples: samples + [Float](repeating: 0, count: extra), sampleRate: sampleRate)
    }

    /// Checks what voice cloning needs: some samples, not too long, not silent (peak at least
    /// -80 dBFS). Non-finite samples are rejected when the file is read.
    public func validatedForReference(maxSeconds: Double) throws -> AudioBuffer {
        if samples.isEmpty { throw AudioInputError.empty }
        if seconds > maxSeconds { throw AudioInputError.tooLong(seconds: seconds, limit: maxSeconds) }
        let peak = samples.reduce(0) { max($0, abs($1)) }
        if peak < 1e-4 { throw AudioInputError.silent(peak: peak) }
        return self
    }
}

public enum WAVReader {
    /// Reads a WAV file's bytes. A data chunk whose size says "unknown" (0 or 0xFFFFFFFF, as
    /// streaming writers leave it) runs to the end of the file; any other size larger than the
    /// file is an error.
    public static func read(_ data: Data) throws -> AudioBuffer { try read(bytes: [UInt8](data)) }

    /// `read(_:)` for bytes already in an array (no copy).
    public static func read(bytes: [UInt8]) throws -> AudioBuffer {
        func u16(_ o: Int) -> Int { Int(bytes[o]) | Int(bytes[o + 1]) << 8 }
        func u32(_ o: Int) -> Int { u16(o) | u16(o + 2) << 16 }
        func tag(_ o: Int) -> String { String(decoding: bytes[o..<(o + 4)], as: UTF8.self) }
        guard bytes.count >= 12 else { throw AudioInputError.notWAV("\(bytes.count) bytes is too short for a RIFF header") }
        guard tag(0) == "RIFF", tag(8) == "WAVE" else { throw AudioInputError.notWAV("no RIFF/WAVE header") }
        var offset = 12
        var format: (tag: Int, channels: Int, rate: Int, blockAlign: Int, bits: Int)?
        var dataRange: Range<Int>?
        while offset + 8 <= bytes.count, dataRange == nil {
            let id = tag(offset), size = u32(offset + 4), body = offset + 8
            if id == "fmt " {
                guard size >= 16, body + size <= bytes.count else { throw AudioInputError.truncated("the fmt chunk is incomplete") }
                var formatTag = u16(body)
                if formatTag == 0xFFFE {  // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID starts with the tag
                    guard size >= 40 else { throw AudioInputError.truncated("the extensible fmt chunk is incomplete") }
                    formatTag = u16(body + 24)
                }
                format = (formatTag, u16(body + 2), u32(body + 4), u16(body + 12), u16(body + 14))
            } else if id == "data" {
                let available = bytes.count - body
                if size == 0 || size == 0xFFFF_FFFF || size == 0xFFFF_FFFF - 36 {
                    dataRange = body..<bytes.count
                } else {
                    guard size <= available else {
                        throw AudioInputError.truncated("the data chunk says \(size) bytes, \(available) are present")
                    }
                    dataRange = body..<(body + size)
                }
            }
            offset = body + size + (size & 1)
        }
        guard let f = format else { throw AudioInputError.notWAV("no fmt chunk") }
        guard let range = dataRange else { throw AudioInputError.truncated("no data chunk") }
        guard f.channels >= 1, f.rate >= 1000, f.rate <= 768_000 else {
            throw AudioInputError.unsupportedEncoding("\(f.channels) channels at \(f.rate) Hz")
        }
        let bytesPerSample = f.bits / 8
        guard (f.tag == 1 && [16, 24, 32].contains(f.bits)) || (f.tag == 3 && [32, 64].contains(f.bits)) else {
            throw AudioInputError.unsupportedEncoding("format tag \(f.tag) with \(f.bits) bits per sample")
        }
        guard f.blockAlign == bytesPerSample * f.channels else {
            throw AudioInputError.notWAV("block align \(f.blockAlign) does not match \(f.channels) channels of \(f.bits) bits")
        }
        let frames = range.count / f.blockAlign
        if frames == 0 { throw AudioInputError.empty }
        var mono = [Float](repeating: 0, count: frames)
        let scale = 1 / Float(f.channels)
        for i in 0..<frames {
            var sum: Float = 0
            for c in 0..<f.channels {
                let o = range.lowerBound + i * f.blockAlign + c * bytesPerSample
                let v: Float
                switch (f.tag, f.bits) {
                case (1, 16): v = Float(Int16(truncatingIfNeeded: u16(o))) / 32768
                case (1, 24): v = Float(Int32(truncatingIfNeeded: (u16(o) | Int(bytes[o + 2]) << 16) << 8) >> 8) / 8_388_608
                case (1, 32): v = Float(Double(Int32(truncatingIfNeeded: u32(o))) / 2_147_483_648)
                case (3, 32): v = Float(bitPattern: UInt32(u32(o)))
                default: v = Float(Double(bitPattern: UInt64(u32(o)) | UInt64(u32(o + 4)) << 32))
                }
                if !v.isFinite { throw AudioInputError.nonFinite(index: i) }
                sum += v
            }
            mono[i] = sum * scale
        }
        return AudioBuffer(samples: mono, sampleRate: f.rate, sourceChannels: f.channels)
    }
}
