// An independent decoder for the encoded formats: ffmpeg reads what the engine wrote, and the
// result is compared with the 16-bit samples the WAV would carry.
import Foundation

public enum AudioDecoding {
    public static let ffmpeg = "/usr/bin/ffmpeg"
    public static let ffprobe = "/usr/bin/ffprobe"

    public struct Decoded {
        public let sampleRate: Int
        public let samples: [Float]

        public init(sampleRate: Int, samples: [Float]) {
            self.sampleRate = sampleRate
            self.samples = samples
        }
    }

    /// Decodes `bytes` (any container ffmpeg knows), mono float, at the stream's own sample rate
    /// or resampled to `rate`. (Opus always decodes at 48 kHz: its header carries the input rate.)
    public static func decode(_ bytes: [UInt8], format: String, rate outputRate: Int? = nil) throws -> Decoded {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("decode-\(UUID().uuidString).\(format)")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let rate = try run(EndToEnd.require(ffprobe), ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate",
                                                      "-of", "default=nw=1:nk=1", file.path])
        guard let sampleRate = Int(String(decoding: rate, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw EndToEnd.Missing(description: "ffprobe reports no sample rate for the \(format) stream")
        }
        var resample: [String] = []
        if let outputRate { resample = ["-ar", "\(outputRate)"] }
        let pcm = try run(EndToEnd.require(ffmpeg), ["-v", "error", "-i", file.path, "-f", "f32le", "-ac", "1"] + resample + ["-"])
        let samples = pcm.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        return Decoded(sampleRate: sampleRate, samples: samples)
    }

    /// Runs a tool and returns its standard output; a non-zero exit is an error with its stderr.
    public static func run(_ tool: String, _ arguments: [String]) throws -> [UInt8] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let message = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw EndToEnd.Missing(description: "\(tool) failed: \(String(decoding: message, as: UTF8.self))")
        }
        return [UInt8](data)
    }

    /// The best correlation (Pearson's: each signal's mean removed, as a DC offset is inaudible
    /// and Opus's encoder filters it out) of `decoded` with `reference` over delays of
    /// 0...maxDelay samples (codecs delay the signal), and the delay where it is reached.
    public static func alignedCorrelation(_ reference: [Float], _ decoded: [Float], maxDelay: Int) -> (correlation: Double, delay: Int) {
        var best = (correlation: -1.0, delay: 0)
        for delay in 0...maxDelay {
            let n = min(reference.count, decoded.count - delay)
            guard n > 0 else { break }
            var meanA = 0.0, meanB = 0.0
            for i in 0..<n {
                meanA += Double(reference[i])
                meanB += Double(decoded[i + delay])
            }
            meanA /= Double(n)
            meanB /= Double(n)
            var dot = 0.0, a2 = 0.0, b2 = 0.0
            for i in 0..<n {
                let a = Double(reference[i]) - meanA, b = Double(decoded[i + delay]) - meanB
                dot += a * b
                a2 += a * a
                b2 += b * b
            }
            let c = dot / max((a2 * b2).squareRoot(), 1e-30)
            if c > best.correlation { best = (c, delay) }
        }
        return best
    }
}

/// Where two sample arrays first differ (nil when equal): a test failure that names a place
/// instead of printing both arrays.
public func firstDifference<T: Equatable>(_ a: [T], _ b: [T]) -> String? {
    if let i = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset { return "they differ first at index \(i): \(a[i]) vs \(b[i])" }
    return a.count == b.count ? nil : "lengths \(a.count) and \(b.count)"
}
