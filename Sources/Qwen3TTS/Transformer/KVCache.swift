// Key/value cache of one transformer stack for one sequence.
import CTTSKernels
import TTSRuntime

/// How a KV cache stores its keys and values.
public enum KVPrecision: String, Sendable {
    /// Exact: what the official model computes.
    case f32
    /// Rounded to bf16 (half the bytes read by every step's attention). Used for the talker when
    /// its weights are quantized, whose products are approximations already.
    case bf16

    var byteWidth: Int { self == .f32 ? 4 : 2 }
}

/// Keys and values per layer, [position][kvHeads * headDim] in `precision`, growing as positions
/// are added. Owned by one session; never shared.
public final class KVCache {
    let layerCount: Int
    let width: Int
    let precision: KVPrecision
    private var keys: [ByteBuffer]
    private var values: [ByteBuffer]
    /// Number of positions stored.
    public private(set) var count = 0
    /// Absolute position of stored entry 0 (> 0 once old entries were dropped by `keepLast`).
    public private(set) var firstPosition = 0
    /// Absolute position the next entry will get.
    public var nextPosition: Int { firstPosition + count }

    init(layers: Int, width: Int, capacity: Int = 64, precision: KVPrecision = .f32) {
        layerCount = layers
        self.width = width
        self.precision = precision
        let bytes = capacity * width * precision.byteWidth
        keys = (0..<layers).map { _ in ByteBuffer(capacity: bytes) }
        values = (0..<layers).map { _ in ByteBuffer(capacity: bytes) }
    }

    /// Bytes of one position in one layer (keys or values).
    var rowBytes: Int { width * precision.byteWidth }

    /// Makes room for `extra` more positions, keeping what is stored.
    func reserve(extra: Int) {
        let needed = (count + extra) * rowBytes
        for i in 0..<layerCount {
            keys[i].grow(to: needed, keeping: count * rowBytes)
            values[i].grow(to: needed, keeping: count * rowBytes)
        }
    }

    func keys(layer: Int) -> UnsafeMutableRawPointer { keys[layer].pointer }
    func values(layer: Int) -> UnsafeMutableRawPointer { values[layer].pointer }
    func advance(by n: Int) { count += n }

    /// Stores one position's keys or values (f32, `width` values) at entry `entry` of a layer's
    /// buffer `base`, rounding them when the cache holds bf16.
    func store(_ row: UnsafePointer<Float>, into base: UnsafeMutableRawPointer, entry: Int) {
        let destination = base + entry * rowBytes
        switch precision {
        case .f32: destination.assumingMemoryBound(to: Float.self).update(from: row, count: width)
        case .bf16: tts_convert_f32_bf16(row, destination.assumingMemoryBound(to: UInt16.self), Int64(width))
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
        for i in 0..<layerCount {
            keys[i].pointer.copyMemory(from: keys[i].pointer + drop * rowBytes, byteCount: n * rowBytes)
            values[i].pointer.copyMemory(from: values[i].pointer + drop * rowBytes, byteCount: n * rowBytes)
        }
        firstPosition += drop
        count = n
    }

    /// An independent copy of every stored position.
    func copy() -> KVCache {
        let c = KVCache(layers: layerCount, width: width, capacity: max(count, 1), precision: precision)
        for l in 0..<layerCount {
            c.keys[l].pointer.copyMemory(from: keys[l].pointer, byteCount: count * rowBytes)
            c.values[l].pointer.copyMemory(from: values[l].pointer, byteCount: count * rowBytes)
        }
        c.count = count
        c.firstPosition = firstPosition
        return c
    }

    /// Drops positions from `position` on.
    public func truncate(to position: Int) {
        precondition(position >= firstPosition && position <= nextPosition, "truncate position out of range")
        count = position - firstPosition
    }

    /// A layer's keys as f32 (tests and diagnostics).
    func keysAsFloats(layer: Int) -> [Float] {
        let n = count * width
        switch precision {
        case .f32: return Array(UnsafeBufferPointer(start: keys(layer: layer).assumingMemoryBound(to: Float.self), count: n))
        case .bf16:
            return [Float](unsafeUninitializedCapacity: n) { buf, done in
                tts_convert_bf16_f32(keys(layer: layer).assumingMemoryBound(to: UInt16.self), buf.baseAddress!, Int64(n))
                done = n
            }
        }
    }
}

/// A heap buffer of bytes owned by one cache, growable.
final class ByteBuffer {
    private(set) var pointer: UnsafeMutableRawPointer
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        pointer = .allocate(byteCount: self.capacity, alignment: 64)
    }

    /// Makes room for at least `count` bytes, keeping the first `keep`.
    func grow(to count: Int, keeping keep: Int) {
        guard count > capacity else { return }
        let newCapacity = max(count, capacity * 2)
        let p = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 64)
        p.copyMemory(from: pointer, byteCount: min(keep, capacity))
        pointer.deallocate()
        pointer = p
        capacity = newCapacity
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
    /// Every stored position (the cache must start at position 0).
    func snapshot() -> KVSnapshot {
        precondition(firstPosition == 0, "a snapshot starts at position 0")
        let n = count * rowBytes
        func bytes(_ p: UnsafeMutableRawPointer) -> [UInt8] { Array(UnsafeRawBufferPointer(start: p, count: n)) }
        return KVSnapshot(count: count, precision: precision,
                          keys: (0..<layerCount).map { bytes(keys(layer: $0)) },
                          values: (0..<layerCount).map { bytes(values(layer: $0)) })
    }

    /// Replaces the contents with `snapshot`'s positions.
    func restore(_ snapshot: KVSnapshot) {
        precondition(snapshot.keys.count == layerCount && snapshot.precision == precision, "snapshot of another stack")
        reset()
        reserve(extra: snapshot.count)
        for l in 0..<layerCount {
            snapshot.keys[l].withUnsafeBytes { if let b = $0.baseAddress { keys(layer: l).copyMemory(from: b, byteCount: $0.count) } }
            snapshot.values[l].withUnsafeBytes { if let b = $0.baseAddress { values(layer: l).copyMemory(from: b, byteCount: $0.count) } }
        }
        advance(by: snapshot.count)
    }
}
