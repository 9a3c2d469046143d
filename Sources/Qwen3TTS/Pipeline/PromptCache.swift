// Cached speaker prompts: the talker's KV state after a prompt's shared prefix (instruct block,
// role, codec prefix with the speaker or cloned voice, an in-context reference's transcript),
// kept in memory and reused by every later request with the same prefix.
import Synchronization

/// A least-recently-used map from prefix rows to the talker KV state they produce, bounded in
/// bytes. Entries are keyed by the exact rows (hashed, then compared), so a hit is always the
/// state of the same input. Safe to share between sessions.
///
/// Exactness: with a cache (capacity > 0) every prompt is prefilled as two passes, the shared
/// prefix and then the rest, whether or not the prefix is cached; a hit only skips the first
/// pass, so a cached request computes exactly what an uncached one does, bit for bit.
public final class PromptCache: Sendable {
    public struct Statistics: Sendable, Equatable {
        public var entries = 0
        public var bytes = 0
        public var hits = 0
        public var misses = 0
    }

    private struct Entry {
        let rows: [Float]
        let snapshot: KVSnapshot
        var lastUse: UInt64
        var bytes: Int { snapshot.byteCount + rows.count * 4 }
    }

    private struct State {
        var capacity: Int
        var entries: [UInt64: [Entry]] = [:]
        var clock: UInt64 = 0
        var stats = Statistics()
    }

    private let state: Mutex<State>

    /// `capacityBytes` 0 disables caching (and the two-pass prefill).
    public init(capacityBytes: Int) { state = Mutex(State(capacity: max(0, capacityBytes))) }

    public var capacityBytes: Int {
        get { state.withLock { $0.capacity } }
        set { state.withLock { s in s.capacity = max(0, newValue); Self.evict(&s) } }
    }

    public var statistics: Statistics { state.withLock { $0.stats } }

    public var isEnabled: Bool { capacityBytes > 0 }

    /// Forgets every entry (statistics are kept).
    public func removeAll() { state.withLock { s in s.entries = [:]; s.stats.entries = 0; s.stats.bytes = 0 } }

    func lookup(_ rows: ArraySlice<Float>) -> KVSnapshot? {
        let key = Self.hash(rows)
        return state.withLock { s in
            s.clock += 1
            if let i = s.entries[key]?.firstIndex(where: { $0.rows.elementsEqual(rows) }) {
                s.entries[key]![i].lastUse = s.clock
                s.stats.hits += 1
                return s.entries[key]![i].snapshot
            }
            s.stats.misses += 1
            return nil
        }
    }

    func store(_ rows: ArraySlice<Float>, _ snapshot: KVSnapshot) {
        let key = Self.hash(rows)
        state.withLock { s in
            s.clock += 1
            let entry = Entry(rows: Array(rows), snapshot: snapshot, lastUse: s.clock)
            guard entry.bytes <= s.capacity else { return }
            if s.entries[key]?.contains(where: { $0.rows.elementsEqual(rows) }) == true { return }
            s.entries[key, default: []].append(entry)
            s.stats.entries += 1
            s.stats.bytes += entry.bytes
            Self.evict(&s)
        }
    }

    private static func evict(_ s: inout State) {
        while s.stats.bytes > s.capacity {
            guard let (key, index) = s.entries.flatMap({ k, list in list.indices.map { (k, $0) } })
                .min(by: { s.entries[$0.0]![$0.1].lastUse < s.entries[$1.0]![$1.1].lastUse }) else { break }
            let removed = s.entries[key]!.remove(at: index)
            if s.entries[key]!.isEmpty { s.entries[key] = nil }
            s.stats.entries -= 1
            s.stats.bytes -= removed.bytes
        }
    }

    /// FNV-1a over the rows' bit patterns.
    private static func hash(_ rows: ArraySlice<Float>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in rows { h = (h ^ UInt64(v.bitPattern)) &* 0x0000_0100_0000_01B3 }
        return h
    }
}

/// Prefill timings of one prompt for `bench`: one pass (no cache), the two-pass prefill on a
/// cache miss, and on a hit.
public struct PrefillTimes: Sendable {
    public var rows = 0
    public var sharedRows = 0
    public var onePass: Double = 0
    public var miss: Double = 0
    public var hit: Double = 0

    public init() {}
}

extension Qwen3TTSModel {
    /// Times the prefill of `request` three ways (seconds; one run each, after the prompt is
    /// built). The prompt cache is emptied first and left holding this prompt's prefix.
    public func prefillTimes(_ request: SynthesisRequest) throws -> PrefillTimes {
        let prompt = try promptBuilder.build(request)
        var t = PrefillTimes()
        t.rows = prompt.prefillCount
        t.sharedRows = prompt.sharedPrefixCount
        let clock = ContinuousClock()
        func timed(_ body: (SynthesisSession) -> Void) -> Double {
            let session = SynthesisSession(model: self, seed: 0, capacity: prompt.prefillCount + 1)
            let start = clock.now
            body(session)
            return (clock.now - start).seconds
        }
        let capacity = promptCache.capacityBytes
        promptCache.capacityBytes = 0
        t.onePass = timed { $0.prefill(prompt.prefill) }
        promptCache.capacityBytes = max(capacity, Self.defaultPromptCacheBytes)
        promptCache.removeAll()
        t.miss = timed { $0.prefill(prompt) }
        t.hit = timed { $0.prefill(prompt) }
        promptCache.capacityBytes = capacity
        return t
    }
}
