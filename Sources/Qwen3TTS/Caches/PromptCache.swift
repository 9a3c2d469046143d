// Cached speaker prompts: the talker's KV state after a prompt's shared prefix (instruct block,
// role, codec prefix with the speaker or cloned voice, an in-context reference's transcript),
// kept in memory and reused by every later request with the same prefix.

/// A least-recently-used map from prefix rows to the talker KV state they produce, bounded in
/// bytes. Entries are keyed by the exact rows (bit patterns), so a hit is always the state of the
/// same input. Safe to share between sessions.
///
/// Exactness: with a cache (capacity > 0) every prompt is prefilled as two passes, the shared
/// prefix and then the rest, whether or not the prefix is cached; a hit only skips the first
/// pass, so a cached request computes exactly what an uncached one does, bit for bit.
public final class PromptCache: Sendable {
    /// Prefix rows compared by bit pattern.
    struct Rows: Hashable, Sendable {
        let bits: [UInt32]
        init(_ rows: ArraySlice<Float>) { bits = rows.map(\.bitPattern) }
    }

    private let store: ByteBoundedCache<Rows, KVSnapshot>

    /// `capacityBytes` 0 disables caching (and the two-pass prefill).
    public init(capacityBytes: Int) { store = ByteBoundedCache(capacityBytes: capacityBytes) }

    public var capacityBytes: Int {
        get { store.capacityBytes }
        set { store.capacityBytes = newValue }
    }

    public var statistics: CacheStatistics { store.statistics }
    public var isEnabled: Bool { capacityBytes > 0 }

    /// Forgets every entry (statistics are kept).
    public func removeAll() { store.removeAll() }

    func lookup(_ key: Rows) -> KVSnapshot? { store.value(for: key) }

    func store(_ key: Rows, _ snapshot: KVSnapshot) {
        store.insert(snapshot, for: key, bytes: snapshot.byteCount + key.bits.count * 4)
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
        let prompt = try prompt(for: request)
        var t = PrefillTimes()
        t.rows = prompt.prefillCount
        t.sharedRows = prompt.sharedPrefixCount
        let clock = ContinuousClock()
        func timed(_ body: (FrameGenerator, TalkerState) -> Void) -> Double {
            let generator = FrameGenerator(model: self), state = TalkerState(talker: talker, capacity: prompt.prefillCount + 1)
            let start = clock.now
            body(generator, state)
            return (clock.now - start).seconds
        }
        let capacity = promptCache.capacityBytes
        promptCache.capacityBytes = 0
        t.onePass = timed { generator, state in
            var x = prompt.prefill
            x.withUnsafeMutableBufferPointer { talker.prefill($0.baseAddress!, count: prompt.prefillCount, state: state, scratch: generator.talkerScratch) }
        }
        promptCache.capacityBytes = max(capacity, Self.defaultPromptCacheBytes)
        promptCache.removeAll()
        t.miss = timed { $0.prefill(prompt, state: $1) }
        t.hit = timed { $0.prefill(prompt, state: $1) }
        promptCache.capacityBytes = capacity
        return t
    }
}
