// Causal 1-D convolutions over channel-major signals [channels][time].
import CTTSKernels

/// A causal Conv1d (stride 1): the input is left-padded with (k-1)*dilation zeros, so the output
/// has as many frames as the input. Weight [out, in/groups, k], optional bias [out].
public struct CausalConv1d: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let dilation: Int
    public let groups: Int
    let weight: [Float]
    let bias: [Float]?

    public init(weight: [Float], bias: [Float]?, inChannels: Int, outChannels: Int,
                kernelSize: Int, dilation: Int = 1, groups: Int = 1) {
        precondition(weight.count == outChannels * (inChannels / groups) * kernelSize, "conv weight does not match its shape")
        self.weight = weight
        self.bias = bias
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.dilation = dilation
        self.groups = groups
    }

    /// Frames of left context the convolution looks at.
    public var receptiveHistory: Int { (kernelSize - 1) * dilation }

    /// x: [inChannels][t] -> [outChannels][t].
    public func callAsFunction(_ x: [Float], frames t: Int) -> [Float] {
        precondition(x.count == inChannels * t, "conv input does not match its shape")
        let pad = receptiveHistory
        let tp = t + pad
        var padded = [Float](repeating: 0, count: inChannels * tp)
        padded.withUnsafeMutableBufferPointer { dst in
            x.withUnsafeBufferPointer { src in
                for c in 0..<inChannels {
                    (dst.baseAddress! + c * tp + pad).update(from: src.baseAddress! + c * t, count: t)
                }
            }
        }
        return apply(padded: padded, paddedFrames: tp)
    }

    /// Valid convolution of an input that already carries its left context.
    public func apply(padded: [Float], paddedFrames tp: Int) -> [Float] {
        let tOut = tp - receptiveHistory
        var y = [Float](repeating: 0, count: outChannels * max(tOut, 0))
        guard tOut > 0 else { return y }
        y.withUnsafeMutableBufferPointer { yb in
            padded.withUnsafeBufferPointer { xb in
                weight.withUnsafeBufferPointer { wb in
                    if let bias {
                        bias.withUnsafeBufferPointer { bb in
                            tts_conv1d_f32(xb.baseAddress!, wb.baseAddress!, bb.baseAddress!, yb.baseAddress!,
                                           Int64(inChannels), Int64(tp), Int64(outChannels), Int64(kernelSize),
                                           1, Int64(dilation), Int64(groups), 0, Int64(outChannels))
                        }
                    } else {
                        tts_conv1d_f32(xb.baseAddress!, wb.baseAddress!, nil, yb.baseAddress!,
                                       Int64(inChannels), Int64(tp), Int64(outChannels), Int64(kernelSize),
                                       1, Int64(dilation), Int64(groups), 0, Int64(outChannels))
                    }
                }
            }
        }
        return y
    }
}

/// A causal ConvTranspose1d: the full output is trimmed on the right by (k - stride), so T input
/// frames give T*stride output frames. Weight [in, out, k], bias [out].
public struct CausalConvTranspose1d: Sendable {
    public let inChannels: Int
    public let outChannels: Int
    public let kernelSize: Int
    public let stride: Int
    let weight: [Float]
    let bias: [Float]

    public init(weight: [Float], bias: [Float], inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int) {
        precondition(weight.count == inChannels * outChannels * kernelSize, "transposed conv weight does not match its shape")
        precondition(kernelSize >= stride, "transposed conv kernel shorter than its stride")
        self.weight = weight
        self.bias = bias
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
    }

    /// x: [inChannels][t] -> [outChannels][t*stride].
    public func callAsFunction(_ x: [Float], frames t: Int) -> [Float] {
        precondition(x.count == inChannels * t, "transposed conv input does not match its shape")
        let full = (t - 1) * stride + kernelSize
        var y = [Float](repeating: 0, count: outChannels * full)
        y.withUnsafeMutableBufferPointer { yb in
            x.withUnsafeBufferPointer { xb in
                weight.withUnsafeBufferPointer { wb in
                    bias.withUnsafeBufferPointer { bb in
                        tts_conv_transpose1d_f32(xb.baseAddress!, wb.baseAddress!, bb.baseAddress!, yb.baseAddress!,
                                                 Int64(inChannels), Int64(t), Int64(outChannels), Int64(kernelSize),
                                                 Int64(stride), 0, Int64(outChannels))
                    }
                }
            }
        }
        let keep = t * stride
        if keep == full { return y }
        var out = [Float](repeating: 0, count: outChannels * keep)
        for c in 0..<outChannels {
            for i in 0..<keep { out[c * keep + i] = y[c * full + i] }
        }
        return out
    }
}
