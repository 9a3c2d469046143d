// Owned, mutable f32 buffers for per-session scratch space.

/// A heap buffer of f32 values owned by one session (never shared between threads).
public final class ScratchBuffer {
    public private(set) var pointer: UnsafeMutablePointer<Float>
    public private(set) var capacity: Int

    public init(capacity: Int) {
        self.capacity = max(capacity, 1)
        pointer = .allocate(capacity: self.capacity)
        pointer.initialize(repeating: 0, count: self.capacity)
    }

    /// Makes room for at least `count` values; contents are not kept when it grows.
    @discardableResult
    public func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            capacity = max(count, capacity * 2)
            pointer = .allocate(capacity: capacity)
            pointer.initialize(repeating: 0, count: capacity)
        }
        return pointer
    }

    /// Makes room for at least `count` values, keeping the first `keep` ones.
    public func grow(to count: Int, keeping keep: Int) {
        guard count > capacity else { return }
        let newCapacity = max(count, capacity * 2)
        let p = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity)
        p.initialize(repeating: 0, count: newCapacity)
        p.update(from: pointer, count: min(keep, capacity))
        pointer.deallocate()
        pointer = p
        capacity = newCapacity
    }

    deinit { pointer.deallocate() }
}
