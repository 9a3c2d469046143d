// Sample-rate conversion with a Kaiser-windowed sinc filter (band-limited interpolation).
import Foundation

public enum Resampler {
    /// `samples` at `from` Hz resampled to `to` Hz. The filter has `zeroCrossings` lobes on each
    /// side (scaled to the lower of the two Nyquist frequencies, with a cutoff of 0.95 of it so
    /// the transition band stays below it) and a Kaiser window of shape `beta`; it is tabulated
    /// at 512 phases per sample and interpolated linearly between them. Equal rates return the
    /// input unchanged.
    public static func resample(_ samples: [Float], from: Int, to: Int, zeroCrossings: Int = 32, beta: Double = 8.6) -> [Float] {
        precondition(from > 0 && to > 0, "sample rates must be positive")
        if from == to || samples.isEmpty { return samples }
        let ratio = Double(to) / Double(from)
        let cutoff = 0.95 * min(1, ratio)  // relative to the input Nyquist frequency
        let phases = 512
        let halfWidth = Double(zeroCrossings) / cutoff  // in input samples
        let tableSize = Int(halfWidth * Double(phases)) + 2
        let i0beta = besselI0(beta)
        let table = (0..<tableSize).map { k -> Double in
            let x = Double(k) / Double(phases)
            if x > halfWidth { return 0 }
            let r = x / halfWidth
            let window = besselI0(beta * (1 - r * r).squareRoot()) / i0beta
            let arg = Double.pi * x * cutoff
            return cutoff * (x == 0 ? 1 : sin(arg) / arg) * window
        }
        func h(_ distance: Double) -> Double {
            let p = abs(distance) * Double(phases)
            let k = Int(p)
            if k + 1 >= tableSize { return 0 }
            let f = p - Double(k)
            return table[k] * (1 - f) + table[k + 1] * f
        }
        let outCount = Int((Double(samples.count) * ratio).rounded())
        var out = [Float](repeating: 0, count: outCount)
        let reach = Int(halfWidth.rounded(.up))
        for n in 0..<outCount {
            let t = Double(n) / ratio  // position in input samples
            let center = Int(t.rounded(.down))
            let lo = max(0, center - reach + 1), hi = min(samples.count - 1, center + reach)
            var acc = 0.0
            if lo <= hi {
                for k in lo...hi { acc += Double(samples[k]) * h(t - Double(k)) }
            }
            out[n] = Float(acc)
        }
        return out
    }

    /// Modified Bessel function of the first kind, order 0 (power series).
    static func besselI0(_ x: Double) -> Double {
        var sum = 1.0, term = 1.0
        let q = x * x / 4
        for k in 1..<64 {
            term *= q / Double(k * k)
            sum += term
            if term < sum * 1e-17 { break }
        }
        return sum
    }
}
