// Speed changes that keep the pitch: WSOLA (waveform-similarity overlap-add), streamed.
import Foundation

/// Plays audio `speed` times faster (0.25...4) without changing its pitch.
///
/// WSOLA cuts the input into Hann-windowed segments of `window` samples, one every `analysisHop =
/// speed × synthesisHop` samples, and overlap-adds them every `synthesisHop` (half a window), so
/// the windows sum to one. Each segment is moved by up to `tolerance` samples from its nominal
/// place to where it best matches (cross-correlation) the natural continuation of the segment
/// before it, which keeps the waveform's periods intact across the joins: the duration scales by
/// 1/speed and the pitch does not move.
///
/// Streaming: `process` returns the output that no later input can change, so the result is the
/// same whichever way the input is cut into chunks; `finish` returns the rest. The output is
/// exactly round(input length / speed) samples long.
public final class TimeStretcher {
    public let speed: Double
    public let window: Int
    public let synthesisHop: Int
    public let tolerance: Int
    private let hann: [Float]
    /// Input not yet needed by any later segment is dropped; `inputStart` is input[0]'s index.
    private var input: [Float] = []
    private var inputStart = 0
    private var inputCount = 0
    /// Segments placed so far, and where the last one started in the input.
    private var segment = 0
    private var previous = 0
    private var accumulator: [Float]
    private var emitted = 0
    private var finished = false

    /// Speeds this accepts (OpenAI's range).
    public static let range: ClosedRange<Double> = 0.25...4

    /// `window`: segment length (default 30 ms at `sampleRate`); `tolerance`: how far a segment
    /// may move (default a quarter window, longer than the period of any voice's pitch).
    public init(speed: Double, sampleRate: Int) {
        precondition(Self.range.contains(speed), "speed \(speed) is outside \(Self.range)")
        self.speed = speed
        let window = max(64, (sampleRate * 30 / 1000) / 2 * 2)
        self.window = window
        synthesisHop = window / 2
        tolerance = window / 4
        // Periodic Hann: at half-window hops the windows sum to exactly one.
        hann = (0..<window).map { Float(0.5 - 0.5 * cos(2 * Double.pi * Double($0) / Double(window))) }
        accumulator = [Float](repeating: 0, count: window)
    }

    private var target: Int { Int((Double(inputCount) / speed).rounded()) }

    /// Takes the next input samples; returns the output that is complete.
    public func process(_ samples: [Float]) -> [Float] {
        precondition(!finished, "process after finish")
        if speed == 1 { return samples }
        input.append(contentsOf: samples)
        inputCount += samples.count
        return run(final: false)
    }

    /// Ends the stream: the remaining output (past the input's end counts as silence).
    public func finish() -> [Float] {
        guard !finished else { return [] }
        finished = true
        if speed == 1 { return [] }
        return run(final: true)
    }

    private func nominal(_ k: Int) -> Int { Int((Double(k) * Double(synthesisHop) * speed).rounded()) }

    private func sample(_ i: Int) -> Float {
        let j = i - inputStart
        return j >= 0 && j < input.count ? input[j] : 0
    }

    private func run(final: Bool) -> [Float] {
        var out: [Float] = []
        while emitted + out.count < target {
            let centre = nominal(segment)
            if final {
                if centre >= inputCount && segment > 0 { break }
            } else if centre + tolerance + window > inputCount || previous + synthesisHop + window > inputCount
                        || emitted + out.count + synthesisHop > target {
                // Wait for more input: the segment's samples, and (so that nothing emitted has to
                // be taken back) room under the length this much input will give.
                break
            }
            let start = segment == 0 ? 0 : bestStart(around: centre)
            for i in 0..<window {
                // The first segment starts at full weight: nothing overlaps its first half.
                let w = segment == 0 && i < synthesisHop ? 1 : hann[i]
                accumulator[i] += w * sample(start + i)
            }
            out.append(contentsOf: accumulator[0..<synthesisHop])
            accumulator.removeFirst(synthesisHop)
            accumulator.append(contentsOf: repeatElement(0, count: synthesisHop))
            previous = start
            segment += 1
            dropUnneededInput()
        }
        if final {
            // What the last segments left in the accumulator, then silence up to the exact length.
            out.append(contentsOf: accumulator)
            let wanted = target - emitted
            if out.count < wanted { out.append(contentsOf: repeatElement(0, count: wanted - out.count)) }
        }
        let room = target - emitted
        if out.count > room { out.removeLast(out.count - room) }
        emitted += out.count
        return out
    }

    /// The start within `centre ± tolerance` whose segment best continues the previous one.
    private func bestStart(around centre: Int) -> Int {
        let natural = previous + synthesisHop
        let low = max(0, centre - tolerance), high = centre + tolerance
        // The overlap is what is heard twice: compare the first half-window. Both stretches are
        // copied out once (zeros past the input), so the search runs on plain contiguous memory.
        let span = synthesisHop
        let target = (0..<span).map { sample(natural + $0) }
        let candidates = (low..<(high + span)).map { sample($0) }
        var best = low, bestScore = -Float.infinity
        target.withUnsafeBufferPointer { t in
            candidates.withUnsafeBufferPointer { c in
                // A running energy: each shift adds one sample and drops one.
                var energy: Float = 0
                for i in 0..<span { energy += c[i] * c[i] }
                for o in 0...(high - low) {
                    if o > 0 {
                        energy += c[o + span - 1] * c[o + span - 1] - c[o - 1] * c[o - 1]
                    }
                    var dot: Float = 0
                    for i in 0..<span { dot += c[o + i] * t[i] }
                    let score = dot / (max(energy, 0).squareRoot() + 1e-9)
                    if score > bestScore {
                        bestScore = score
                        best = low + o
                    }
                }
            }
        }
        return best
    }

    private func dropUnneededInput() {
        let keep = min(previous + synthesisHop, nominal(segment) - tolerance)
        let drop = keep - inputStart
        if drop > 4 * window {
            input.removeFirst(drop)
            inputStart += drop
        }
    }
}
