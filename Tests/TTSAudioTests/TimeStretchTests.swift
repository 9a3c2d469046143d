// Speed changes keep the pitch and scale the duration.
import Foundation
import Testing
import TTSTestSupport
@testable import TTSAudio

@Suite("Time stretching") struct TimeStretchTests {
    /// A tone-like fixture: 180 Hz with two harmonics, 3 s.
    let tone: [Float] = (0..<72_000).map { i in
        let p = 2 * Double.pi * 180 * Double(i) / 24_000
        return Float(0.3 * sin(p) + 0.15 * sin(2 * p) + 0.07 * sin(3 * p))
    }

    /// The period (in samples) at the highest autocorrelation between 2 and 20 ms, refined by
    /// a parabola through the peak, measured in the middle of the signal.
    func period(_ x: [Float]) -> Double {
        let mid = x.count / 2, n = 4800
        let a = Array(x[(mid - n / 2)..<(mid + n / 2 + 480)])
        func r(_ lag: Int) -> Double {
            var s = 0.0
            for i in 0..<n { s += Double(a[i]) * Double(a[i + lag]) }
            return s
        }
        var best = 48
        for lag in 48...480 where r(lag) > r(best) { best = lag }
        let (l, c, h) = (r(best - 1), r(best), r(best + 1))
        return Double(best) + 0.5 * (l - h) / (l - 2 * c + h)
    }

    func stretch(_ x: [Float], speed: Double, chunk: Int) -> [Float] {
        let s = TimeStretcher(speed: speed, sampleRate: 24_000)
        var out: [Float] = []
        var i = 0
        while i < x.count {
            out += s.process(Array(x[i..<min(i + chunk, x.count)]))
            i += chunk
        }
        return out + s.finish()
    }

    @Test("duration x 1/speed and pitch within 2 %", arguments: [0.5, 1.5, 4.0, 0.25, 1.0])
    func durationAndPitch(_ speed: Double) {
        let out = stretch(tone, speed: speed, chunk: 7680)
        let expected = Double(tone.count) / speed
        #expect(abs(Double(out.count) - expected) / expected <= 0.02)
        let reference = period(tone), measured = period(out)
        #expect(abs(measured - reference) / reference <= 0.02, "period \(measured) vs \(reference) at speed \(speed)")
        // The level is kept too (no fading between segments): RMS within 10 %.
        func rms(_ x: [Float]) -> Double { (x.reduce(0) { $0 + Double($1 * $1) } / Double(x.count)).squareRoot() }
        #expect(abs(rms(out) - rms(tone)) / rms(tone) < 0.1)
    }

    @Test("streamed in any chunks, the output is the same", arguments: [0.5, 1.5, 4.0])
    func chunkIndependent(_ speed: Double) {
        let whole = stretch(tone, speed: speed, chunk: tone.count)
        #expect(firstDifference(stretch(tone, speed: speed, chunk: 1920), whole) == nil)
        #expect(firstDifference(stretch(tone, speed: speed, chunk: 333), whole) == nil)
    }

    @Test("speed 1 passes the samples through untouched")
    func identity() {
        #expect(firstDifference(stretch(tone, speed: 1, chunk: 1000), tone) == nil)
    }
}
