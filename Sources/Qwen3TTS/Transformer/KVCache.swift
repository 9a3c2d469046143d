// Key/value cache of one transformer stack for one sequence.
import TTSRuntime

/// Keys and values per layer, [position][kvHeads * headDim], growing as positions are added.
/// Owned by one session; never shared.
public final class KVCache {
    let layerCount: Int
    let width: Int
    private var keys: [ScratchBuffer]
    private var values: [ScratchBuffer]
    /// Number of positions stored.
    public private(set) var count = 0
    /// Absolute position of stored entry 0 (> 0 once old entries were dropped by `keepLast`).
    public private(set) var firstPosition = 0
    /// Absolute position the next entry will get.
    public var nextPosition: Int { firstPosition + count }

    init(layers: Int, width: Int, capacity: Int = 64) {
        layerCount = layers
        self.width = width
        keys = (0..<layers).map { _ in ScratchBuffer(capacity: capacity * width) }
        values = (0..<layers).map { _ in ScratchBuffer(capacity: capacity * width) }
    }

    /// Makes room for `extra` more positions, keeping what is stored.
    func reserve(extra: Int) {
        let needed = (count + extra) * width
        for i in 0..<layerCount {
            keys[i].grow(to: needed, keeping: count * width)
            values[i].grow(to: needed, keeping: count * width)
        }
    }

    func keys(layer: Int) -> UnsafeMutablePointer<Float> { keys[layer].pointer }
    func values(layer: Int) -> UnsafeMutablePointer<Float> { values[layer].pointer }
    func advance(by n: Int) { count += n }

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
            keys[i].pointer.update(from: keys[i].pointer + drop * width, count: n * width)
            values[i].pointer.update(from: values[i].pointer + drop * width, count: n * width)
        }
        firstPosition += drop
        count = n
    }

    /// An independent copy of every stored position.
    func copy() -> KVCache {
        let c = KVCache(layers: layerCount, width: width, capacity: max(count, 1))
        for l in 0..<layerCount {
            c.keys[l].pointer.update(from: keys[l].pointer, count: count * width)
            c.values[l].pointer.update(from: values[l].pointer, count: count * width)
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
}

/// A copy of a cache's first positions, to start later sequences from.
struct KVSnapshot: Sendable {
    let count: Int
    let keys: [[Float]]
    let values: [[Float]]

    var byteCount: Int { keys.reduce(0) { $0 + $1.count * 4 } * 2 }
}

extension KVCache {
    /// Every stored position (the cache must start at position 0).
    func snapshot() -> KVSnapshot {
        precondition(firstPosition == 0, "a snapshot starts at position 0")
        let n = count * width
        return KVSnapshot(count: count,
                          keys: (0..<layerCount).map { Array(UnsafeBufferPointer(start: keys(layer: $0), count: n)) },
                          values: (0..<layerCount).map { Array(UnsafeBufferPointer(start: values(layer: $0), count: n)) })
    }

    /// Replaces the contents with `snapshot`'s positions.
    func restore(_ snapshot: KVSnapshot) {
        precondition(snapshot.keys.count == layerCount, "snapshot of another stack")
        reset()
        reserve(extra: snapshot.count)
        for l in 0..<layerCount {
            snapshot.keys[l].withUnsafeBufferPointer { keys(layer: l).update(from: $0.baseAddress!, count: $0.count) }
            snapshot.values[l].withUnsafeBufferPointer { values(layer: l).update(from: $0.baseAddress!, count: $0.count) }
        }
        advance(by: snapshot.count)
    }
}
