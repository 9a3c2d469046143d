// Rotary position embedding (rotate-half / NeoX pairing), computed in f32 like PyTorch.
import CTTSKernels
import Foundation

/// Inverse frequencies for rotate-half RoPE: 1 / theta^(2i/dim), i < dim/2, in f32.
public struct RotaryEmbedding: Sendable {
    public let headDim: Int
    public let inverseFrequencies: [Float]

    public init(headDim: Int, theta: Double) {
        precondition(headDim % 2 == 0, "RoPE needs an even head dimension")
        self.headDim = headDim
        let base = Float(theta)
        inverseFrequencies = (0..<(headDim / 2)).map { i in
            1 / powf(base, Float(2 * i) / Float(headDim))
        }
    }

    /// cos/sin (headDim/2 values each) for one position.
    public func table(position: Int, cos c: UnsafeMutablePointer<Float>, sin s: UnsafeMutablePointer<Float>) {
        let p = Float(position)
        for i in 0..<(headDim / 2) {
            let f = p * inverseFrequencies[i]
            c[i] = Foundation.cos(f)
            s[i] = Foundation.sin(f)
        }
    }
}
