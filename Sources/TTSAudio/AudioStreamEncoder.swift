// Encoders that take audio as it is generated and return bytes as soon as the codec has them.
import Foundation
import TTSRuntime

/// One stream's encoder. `encode` may return nothing while a codec frame fills; `finish` returns
/// the rest (the last frames, the end-of-stream page). An encoder is used by one caller at a time.
public protocol AudioStreamEncoder: AnyObject {
    func encode(_ samples: [Float]) throws -> [UInt8]
    func finish() throws -> [UInt8]
}

/// WAV with "unknown length" sizes: the header travels with the first samples.
final class WAVStreamEncoder: AudioStreamEncoder {
    private let sampleRate: Int
    private var headerSent = false

    init(sampleRate: Int) { self.sampleRate = sampleRate }

    func encode(_ samples: [Float]) -> [UInt8] {
        var out = [UInt8]()
        if !headerSent {
            out.append(contentsOf: WAV.header(sampleRate: sampleRate, encoding: .pcm16, sampleCount: nil))
            headerSent = true
        }
        out.append(contentsOf: WAV.pcm(samples, encoding: .pcm16))
        return out
    }

    /// An empty stream is still a WAV file.
    func finish() -> [UInt8] { headerSent ? [] : encode([]) }
}

final class PCMStreamEncoder: AudioStreamEncoder {
    func encode(_ samples: [Float]) -> [UInt8] { [UInt8](WAV.pcm(samples, encoding: .pcm16)) }
    func finish() -> [UInt8] { [] }
}

/// Collects samples into frames of exactly `size` (codecs that take fixed frames).
struct FrameQueue {
    let size: Int
    private var pending: [Float] = []

    init(size: Int) { self.size = size }

    /// Appends `samples` and passes each complete frame to `body`.
    mutating func push(_ samples: [Float], _ body: ([Float]) throws -> Void) rethrows {
        pending.append(contentsOf: samples)
        var start = 0
        while pending.count - start >= size {
            try body(Array(pending[start..<start + size]))
            start += size
        }
        pending.removeFirst(start)
    }

    /// The incomplete last frame (possibly empty).
    mutating func drain() -> [Float] {
        defer { pending = [] }
        return pending
    }
}

/// Clamped to [-1, 1] with NaN as silence, as the 16-bit outputs do (WAV.clamp).
func clamped(_ samples: [Float]) -> [Float] { samples.map(WAV.clamp) }
