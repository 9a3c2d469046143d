// Key/value cache of one transformer stack for one sequence.
import CTTSKernels
import TTSRuntime

/// How a KV cache stores its keys and values.
public enum KVPrecision: String, Sendable {
    /// Exact: what the official model computes.
    case f32
    /// Rounded to bf16 (half the bytes read by every step's attention).
    case bf16
    /// q8_0 rows (blocks of 32 int8 with an f16 scale: 8.5 bits a value, about half of bf16's
    /// bytes). The talker's default when its weights are quantized, whose products are
    /// approximations already: a long utterance's steps are bound by reading the cache.
    case q8_0 = "q8_0"

    /// Bytes of one head's keys (or values) at one position; q8_0 needs headDim % 32 == 0.
    func rowBytes(headDim: Int) -> Int {
        switch self {
        case .f32: headDim * 4
        case .bf16: headDim * 2
        case .q8_0: headDim / 32 * Int(TTS_Q8_0_BLOCK_BYTES)
        }
    }
}

/// Keys and values per layer in `precision`, growing as positions are added. Each layer's
/// buffer is head-major, [kvHead][capacity][headDim]: one head's keys are one contiguous run, so
/// attention streams them (interleaved by position, a head's rows were 256-512 bytes apart by
/// the other heads' and the kernels read them at a third of the speed). Owned by one session;
/// never shared.
public final class KVCache {
    let layerCount: Int
    let heads: Int
    let headDim: Int
    let precision: KVPrecision
    private var keys: [ByteBuffer]
    private var values: [ByteBuffer]
    /// Positions each head's run has room for.
    private(set) var capacity: Int
    /// Number of positions stored.
    public private(set) var count = 0
    /// Absolute position of stored entry 0 (> 0 once old entries were dropped by `keepLast`).
    public private(set) var firstPosition = 0
    /// Absolute position the next entry will get.
    public var nextPosition: Int { firstPosition + count }

    init(layers: Int, heads: Int, headDim: Int, capacity: Int = 64, precision: KVPrecision = .f32) {
        layerCount = layers
        self.heads = heads
        self.headDim = headDim
        self.precision = precision
        self.capacity = max(capacity, 1)
        let bytes = self.capacity * heads * precision.rowBytes(headDim: headDim)
        keys = (0..<layers).map { _ in ByteBuffer(byteCount: bytes) }
        values = (0..<layers).map { _ in ByteBuffer(byteCount: bytes) }
    }

    /// Values of one position (all heads).
    var width: Int { heads * headDim }
    /// Bytes of one position of one head.
    private var headBytes: Int { precision.rowBytes(headDim: headDim) }
    /// Bytes from one head's run to the next (key j of head h is at h * headStride + j * rowBytes).
    var headStride: Int { capacity * headBytes }
    /// Bytes of one head at one position.
    var rowBytes: Int { headBytes }

    /// Makes room for `extra` more positions, keeping what is stored.
    func reserve(extra: Int) {
        let needed = count + extra
        guard needed > capacity else { return }
        let newCapacity = max(needed, capacity * 2)
        keys = keys.map { relaid($0, capacity: newCapacity) }
        values = values.map { relaid($0, capacity: newCapacity) }
        capacity = newCapacity
    }

    /// `buffer`'s stored positions in a new buffer whose head runs have room for `newCapacity`.
    private func relaid(_ buffer: ByteBuffer, capacity newCapacity: Int) -> ByteBuffer {
        let b = ByteBuffer(byteCount: newCapacity * heads * headBytes)
        for h in 0..<heads {
            (b.pointer + h * newCapacity * headBytes).copyMemory(from: buffer.pointer + h * capacity * headBytes, byteCount: count * headBytes)
        }
        return b
    }

    func keys(layer: Int) -> UnsafeMutableRawPointer { keys[layer].pointer }
    func values(layer: Int) -> UnsafeMutableRawPointer { values[layer].pointer }
    func advance(by n: Int) { count += n }

    /// Stores one position's keys or values (f32, `width` values, head after head) at entry
    /// `entry` of a layer's buffer `base`, rounding them when the cache holds bf16.
    func store(_ row: UnsafePointer<Float>, into base: UnsafeMutableRawPointer, entry: Int) {
        for h in 0..<heads {
            let destination = base + (h * capacity + entry) * headBytes, source = row + h * headDim
            switch precision {
            case .f32: destination.assumingMemoryBound(to: Float.self).update(from: source, count: headDim)
            case .bf16: tts_convert_f32_bf16(source, destination.assumingMemoryBound(to: UInt16.self), Int64(headDim))
            case .q8_0: tts_quantize_q8_0(source, destination.assumingMemoryBound(to: UInt8.self), Int64(headDim))
            }
        }
    }

    /// Forgets every position (buffers are kept for reuse).
    public func reset() {
        count = 0
        firstPosition = 0
    }

    /// Drops all but the newest `n` entries; positions keep counting (a sliding-window stack
    /// never looks further back, so streaming memory stays bounded).
    func keepLast(_ n: Int) {
        guard count > n else { return }
        let drop = count - n
        for buffer in keys + values {
            for h in 0..<heads {
                let run = buffer.pointer + h * capacity * headBytes
                run.copyMemory(from: run + drop * headBytes, byteCount: n * headBytes)
            }
        }
        firstPosition += drop
        count = n
    }

    /// An independent copy of every stored position.
    func copy() -> KVCache {
        let c = KVCache(layers: layerCount, heads: heads, headDim: headDim, capacity: max(count, 1), precision: precision)
        for l in 0..<layerCount {
            copyRuns(from: keys[l].pointer, to: c.keys[l].pointer, capacity: c.capacity)
            copyRuns(from: values[l].pointer, to: c.values[l].pointer, capacity: c.capacity)
        }
        c.count = count
        c.firstPosition = firstPosition
        return c
    }

    /// Copies each head's stored positions from one of this cache's buffers into `destination`,
    /// whose head runs hold `capacity` positions.
    fileprivate func copyRuns(from source: UnsafeRawPointer, to destination: UnsafeMutableRawPointer, capacity destinationCapacity: Int) {
        for h in 0..<heads {
            (destination + h * destinationCapacity * headBytes).copyMemory(from: source + h * capacity * headBytes, byteCount: count * headBytes)
        }
    }

    /// Drops positions from `position` on.
    public func truncate(to position: Int) {
        precondition(position >= firstPosition && position <= nextPosition, "truncate position out of range")
        count = position - firstPosition
    }

    /// A layer's keys as f32, [position][width] (tests and diagnostics).
    func keysAsFloats(layer: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count * width)
        let base = keys(layer: layer)
        for j in 0..<count {
            for h in 0..<heads {
                let source = base + (h * capacity + j) * headBytes
                out.withUnsafeMutableBufferPointer { o in
                    let destination = o.baseAddress! + j * width + h * headDim
                    switch precision {
                    case .f32: destination.update(from: source.assumingMemoryBound(to: Float.self), count: headDim)
                    case .bf16: tts_convert_bf16_f32(source.assumingMemoryBound(to: UInt16.self), destination, Int64(headDim))
                    case .q8_0: tts_dequantize_q8_0(source.assumingMemoryBound(to: UInt8.self), destination, Int64(headDim))
                    }
                }
            }
        }
        return out
    }
}

/// A heap buffer of bytes owned by one cache.
final class ByteBuffer {
    let pointer: UnsafeMutableRawPointer

    init(byteCount: Int) {
        pointer = .allocate(byteCount: max(byteCount, 1), alignment: 64)
    }

    deinit { pointer.deallocate() }
}

/// A copy of a cache's first positions, to start later sequences from.
struct KVSnapshot: Sendable {
    let count: Int
    let precision: KVPrecision
    /// Per layer, the stored bytes of every position.
    let keys: [[UInt8]]
    let values: [[UInt8]]

    var byteCount: Int { keys.reduce(0) { $0 + $1.count } * 2 }
}

extension KVCache {
    /// Every stored position (the cache must start at position 0), head after head.
    func snapshot() -> KVSnapshot {
        precondition(firstPosition == 0, "a snapshot starts at position 0")
        func bytes(_ p: UnsafeMutableRawPointer) -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: count * heads * rowBytes) { buf, done in
                copyRuns(from: p, to: UnsafeMutableRawPointer(buf.baseAddress!), capacity: count)
                done = buf.count
            }
        }
        return KVSnapshot(count: count, precision: precision,
                          keys: (0..<layerCount).map { bytes(keys(layer: $0)) },
                          values: (0..<layerCount).map { bytes(values(layer: $0)) })
    }

    /// Replaces the contents with `snapshot`'s positions.
    func restore(_ snapshot: KVSnapshot) {
        precondition(snapshot.keys.count == layerCount && snapshot.precision == precision, "snapshot of another stack")
        reset()
        reserve(extra: snapshot.count)
        let runBytes = snapshot.count * rowBytes
        func place(_ stored: [UInt8], into base: UnsafeMutableRawPointer) {
            stored.withUnsafeBytes { b in
                guard let source = b.baseAddress else { return }
                for h in 0..<heads {
                    (base + h * headStride).copyMemory(from: source + h * runBytes, byteCount: runBytes)
                }
            }
        }
        for l in 0..<layerCount {
            place(snapshot.keys[l], into: keys(layer: l))
            place(snapshot.values[l], into: values(layer: l))
        }
        advance(by: snapshot.count)
    }
}
