// Logit processing and token selection, in the order Hugging Face generate applies them.
import CTTSKernels

/// How one token is chosen from a logit vector.
public struct SamplingParameters: Sendable, Equatable {
    /// false: argmax after the processors (greedy); true: temperature, top-k, top-p, multinomial.
    public var doSample: Bool
    public var temperature: Float
    public var topK: Int
    public var topP: Float

    public init(doSample: Bool, temperature: Float, topK: Int, topP: Float) {
        self.doSample = doSample
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
    }
}

public enum LogitProcessing {
    /// Repetition penalty over the set of earlier tokens: negative logits are multiplied by the
    /// penalty, positive ones divided (HF RepetitionPenaltyLogitsProcessor).
    public static func applyRepetitionPenalty(_ logits: UnsafeMutableBufferPointer<Float>, history: some Sequence<Int>, penalty: Float) {
        guard penalty != 1 else { return }
        var seen = Set<Int>()
        for id in history where id >= 0 && id < logits.count && seen.insert(id).inserted {
            let l = logits[id]
            logits[id] = l < 0 ? l * penalty : l / penalty
        }
    }

    /// Sets the given ids to -inf.
    public static func suppress(_ logits: UnsafeMutableBufferPointer<Float>, ids: some Sequence<Int>) {
        for id in ids where id >= 0 && id < logits.count { logits[id] = -.infinity }
    }

    /// Picks a token: argmax when not sampling; otherwise temperature → top-k → top-p → softmax →
    /// one multinomial draw from `rng`. Ties in argmax go to the lowest id (as torch.argmax).
    public static func select(_ logits: UnsafeMutableBufferPointer<Float>, parameters: SamplingParameters, rng: inout SeededRNG) -> Int {
        if !parameters.doSample { return argmax(logits) }
        let n = logits.count
        if parameters.temperature > 0 && parameters.temperature != 1 {
            for i in 0..<n { logits[i] /= parameters.temperature }
        }
        if parameters.topK > 0 && parameters.topK < n {
            let threshold = kthLargest(UnsafeBufferPointer(logits), parameters.topK)
            for i in 0..<n where logits[i] < threshold { logits[i] = -.infinity }
        }
        if parameters.topP < 1 {
            // Drop the smallest tokens whose cumulative probability (ascending) is <= 1 - top_p,
            // always keeping the most likely one.
            var probs = Array(logits)
            probs.withUnsafeMutableBufferPointer { tts_softmax_f32($0.baseAddress!, Int64(n)) }
            let order = (0..<n).sorted { probs[$0] < probs[$1] || (probs[$0] == probs[$1] && $0 > $1) }
            var cumulative: Float = 0
            for (rank, i) in order.enumerated() where rank < n - 1 {
                cumulative += probs[i]
                if cumulative <= 1 - parameters.topP { logits[i] = -.infinity } else { break }
            }
        }
        tts_softmax_f32(logits.baseAddress!, Int64(n))
        let u = rng.nextUnit()
        var acc: Double = 0
        var last = argmax(logits)
        for i in 0..<n where logits[i] > 0 {
            acc += Double(logits[i])
            last = i
            if u < acc { return i }
        }
        return last
    }

    /// The k-th largest value (1-based; ties counted, as `sorted(by: >)[k - 1]`), by quickselect
    /// on a copy: linear on average, where a full sort of a 2048-entry codebook ran 16 times a frame.
    /// NaN is not expected in logits; -inf is an ordinary value here.
    public static func kthLargest(_ values: UnsafeBufferPointer<Float>, _ k: Int) -> Float {
        precondition(k >= 1 && k <= values.count, "k \(k) outside 1...\(values.count)")
        var a = Array(values)
        return a.withUnsafeMutableBufferPointer { v in
            var lo = 0, hi = v.count - 1
            let target = k - 1  // index in descending order
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15
            while lo < hi {
                // A pseudo-random pivot (fixed sequence, so the result never depends on luck, only the time).
                state = state &* 6364136223846793005 &+ 1442695040888963407
                let pivot = v[lo + Int((state >> 33) % UInt64(hi - lo + 1))]
                // Three-way partition into > pivot, == pivot, < pivot.
                var gt = lo, i = lo, lt = hi
                while i <= lt {
                    let x = v[i]
                    if x > pivot {
                        v.swapAt(gt, i)
                        gt += 1
                        i += 1
                    } else if x < pivot {
                        v.swapAt(i, lt)
                        lt -= 1
                    } else {
                        i += 1
                    }
                }
                if target < gt { hi = gt - 1 } else if target > lt { lo = lt + 1 } else { return pivot }
            }
            return v[target]
        }
    }

    public static func argmax(_ logits: UnsafeMutableBufferPointer<Float>) -> Int {
        var best = 0
        var value = -Float.infinity
        for i in 0..<logits.count where logits[i] > value {
            value = logits[i]
            best = i
        }
        return best
    }
}
