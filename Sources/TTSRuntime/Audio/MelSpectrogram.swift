// Log-mel features as the speaker encoder's front end computes them: reflect padding, a
// periodic-Hann STFT without centring, magnitudes sqrt(re^2 + im^2 + 1e-9), a Slaney-scale,
// Slaney-normalised mel filterbank (librosa's formula), then log(max(mel, 1e-5)).
import Foundation

public struct MelSpectrogram: Sendable {
    public let sampleRate: Int
    public let fftSize: Int
    public let hop: Int
    public let melCount: Int
    /// [melCount][fftSize/2 + 1]
    let filters: [Float]
    let window: [Float]
    let fft: FFT

    /// The speaker encoder's settings (spec §9): 24 kHz, n_fft 1024, hop 256, 128 mels, 0–12 kHz.
    public static let speakerEncoder = MelSpectrogram(sampleRate: 24000, fftSize: 1024, hop: 256, melCount: 128, fmin: 0, fmax: 12000)

    /// `fftSize` must be a power of two; the window is as long as the FFT.
    public init(sampleRate: Int, fftSize: Int, hop: Int, melCount: Int, fmin: Double, fmax: Double) {
        precondition(fftSize >= 2 && fftSize & (fftSize - 1) == 0, "the FFT size must be a power of two")
        self.sampleRate = sampleRate
        self.fftSize = fftSize
        self.hop = hop
        self.melCount = melCount
        window = (0..<fftSize).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(fftSize))) }
        filters = Self.slaneyFilterbank(sampleRate: sampleRate, fftSize: fftSize, melCount: melCount, fmin: fmin, fmax: fmax)
        fft = FFT(size: fftSize)
    }

    /// Frames of the signal: [frames][melCount], frames = (count + fftSize - hop - fftSize) / hop + 1.
    /// The signal must be longer than the reflect padding ((fftSize - hop) / 2 samples).
    public func callAsFunction(_ samples: [Float]) -> (values: [Float], frames: Int) {
        let pad = (fftSize - hop) / 2
        guard samples.count > pad else { return ([], 0) }
        var padded = [Float](repeating: 0, count: samples.count + 2 * pad)
        for i in 0..<pad {
            padded[i] = samples[pad - i]
            padded[pad + samples.count + i] = samples[samples.count - 2 - i]
        }
        for i in 0..<samples.count { padded[pad + i] = samples[i] }
        let frames = (padded.count - fftSize) / hop + 1
        let bins = fftSize / 2 + 1
        var out = [Float](repeating: 0, count: frames * melCount)
        var re = [Double](repeating: 0, count: fftSize), im = [Double](repeating: 0, count: fftSize)
        var magnitude = [Float](repeating: 0, count: bins)
        for f in 0..<frames {
            for i in 0..<fftSize {
                re[i] = Double(padded[f * hop + i] * window[i])
                im[i] = 0
            }
            fft.transform(&re, &im)
            for k in 0..<bins { magnitude[k] = Float((re[k] * re[k] + im[k] * im[k] + 1e-9).squareRoot()) }
            for m in 0..<melCount {
                var sum: Float = 0
                let row = m * bins
                for k in 0..<bins { sum += filters[row + k] * magnitude[k] }
                out[f * melCount + m] = log(max(sum, 1e-5))
            }
        }
        return (out, frames)
    }

    /// librosa.filters.mel(htk=False, norm="slaney"): triangles on the Slaney mel scale (linear
    /// below 1 kHz, logarithmic above), each scaled to unit area (2 / bandwidth in Hz).
    static func slaneyFilterbank(sampleRate: Int, fftSize: Int, melCount: Int, fmin: Double, fmax: Double) -> [Float] {
        let fsp = 200.0 / 3, minLogHz = 1000.0, minLogMel = minLogHz / fsp, logStep = log(6.4) / 27
        func hzToMel(_ f: Double) -> Double { f < minLogHz ? f / fsp : minLogMel + log(f / minLogHz) / logStep }
        func melToHz(_ m: Double) -> Double { m < minLogMel ? m * fsp : minLogHz * exp(logStep * (m - minLogMel)) }
        let bins = fftSize / 2 + 1
        let fftFreqs = (0..<bins).map { Double($0) * Double(sampleRate) / Double(fftSize) }
        let lo = hzToMel(fmin), hi = hzToMel(fmax)
        let melF = (0..<(melCount + 2)).map { melToHz(lo + (hi - lo) * Double($0) / Double(melCount + 1)) }
        var weights = [Float](repeating: 0, count: melCount * bins)
        for m in 0..<melCount {
            let lower = melF[m + 1] - melF[m], upper = melF[m + 2] - melF[m + 1]
            let norm = 2 / (melF[m + 2] - melF[m])
            for k in 0..<bins {
                let rising = (fftFreqs[k] - melF[m]) / lower
                let falling = (melF[m + 2] - fftFreqs[k]) / upper
                weights[m * bins + k] = Float(max(0, min(rising, falling)) * norm)
            }
        }
        return weights
    }
}

/// An in-place iterative radix-2 complex FFT (forward, unnormalised) of a fixed power-of-two size.
struct FFT: Sendable {
    let size: Int
    let cosines: [Double]
    let sines: [Double]
    let reversed: [Int]

    init(size: Int) {
        self.size = size
        cosines = (0..<(size / 2)).map { cos(-2 * Double.pi * Double($0) / Double(size)) }
        sines = (0..<(size / 2)).map { sin(-2 * Double.pi * Double($0) / Double(size)) }
        let bits = size.trailingZeroBitCount
        reversed = (0..<size).map { i in
            var r = 0
            for b in 0..<bits where i & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
            return r
        }
    }

    func transform(_ re: inout [Double], _ im: inout [Double]) {
        for i in 0..<size where i < reversed[i] {
            re.swapAt(i, reversed[i])
            im.swapAt(i, reversed[i])
        }
        var len = 2
        while len <= size {
            let half = len / 2, step = size / len
            var start = 0
            while start < size {
                for j in 0..<half {
                    let c = cosines[j * step], s = sines[j * step]
                    let a = start + j, b = a + half
                    let tr = re[b] * c - im[b] * s, ti = re[b] * s + im[b] * c
                    re[b] = re[a] - tr
                    im[b] = im[a] - ti
                    re[a] += tr
                    im[a] += ti
                }
                start += len
            }
            len *= 2
        }
    }
}
