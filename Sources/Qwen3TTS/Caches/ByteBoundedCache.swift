// A thread-safe least-recently-used map bounded in bytes, for reusable states: the model's
// (prompt prefixes, primed decoders) and the server's (voices cloned from requests' audio).
import Synchronization

public struct CacheStatistics: Sendable, Equatable {
    public var entries = 0
    public var bytes = 0
    public var hits = 0
    public var misses = 0
}

public final class ByteBoundedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        let value: Value
        let bytes: Int
        var lastUse: UInt64
    }

    private struct State {
        var capacity: Int
        var entries: [Key: Entry] = [:]
        var clock: UInt64 = 0
        var stats = CacheStatistics()
    }

    private let state: Mutex<State>

    public init(capacityBytes: Int) { state = Mutex(State(capacity: max(0, capacityBytes))) }

    public var capacityBytes: Int {
        get { state.withLock { $0.capacity } }
        set { state.withLock { s in s.capacity = max(0, newValue); Self.evict(&s) } }
    }

    public var statistics: CacheStatistics { state.withLock { $0.stats } }

    public func removeAll() { state.withLock { s in s.entries = [:]; s.stats.entries = 0; s.stats.bytes = 0 } }

    public func value(for key: Key) -> Value? {
        state.withLock { s in
            s.clock += 1
            guard s.entries[key] != nil else { s.stats.misses += 1; return nil }
            s.entries[key]!.lastUse = s.clock
            s.stats.hits += 1
            return s.entries[key]!.value
        }
    }

    /// Keeps `value` unless it alone exceeds the capacity; evicts the least recently used.
    public func insert(_ value: Value, for key: Key, bytes: Int) {
        state.withLock { s in
            guard bytes <= s.capacity, s.entries[key] == nil else { return }
            s.clock += 1
            s.entries[key] = Entry(value: value, bytes: bytes, lastUse: s.clock)
            s.stats.entries += 1
            s.stats.bytes += bytes
            Self.evict(&s)
        }
    }

    private static func evict(_ s: inout State) {
        while s.stats.bytes > s.capacity, let oldest = s.entries.min(by: { $0.value.lastUse < $1.value.lastUse })?.key {
            let removed = s.entries.removeValue(forKey: oldest)!
            s.stats.entries -= 1
            s.stats.bytes -= removed.bytes
        }
    }
}
