// A persistent pool of worker threads that runs one parallel loop at a time.
import Foundation
import Synchronization

/// Runs `body(i)` for i in 0..<count on the calling thread plus `threadCount - 1` workers, and
/// returns when all are done. Workers spin between loops (generation issues hundreds of short
/// loops per frame) for up to a million checks, a millisecond or two, and then sleep on a
/// condition: the code predictor's serial steps between loops (sampling, norms) can exceed the
/// 50,000 checks spun before, and each wake-up from the condition then cost a context switch
/// (22,000 in the bench's generation loop; 800 with the longer spin).
///
/// Each loop is a separate `Job` with its own counters, so a worker that is late to leave one loop
/// can never take an index of the next. Loops started from several threads are serialised (each
/// already uses every core). Workers share `State` with the pool, never the pool itself, so the
/// pool can go away at any time: its deinit tells the workers to stop.
public final class ThreadPool: Sendable {
    public let threadCount: Int
    private let state: State

    /// `@unchecked Sendable`: `body` is called concurrently with distinct indices; callers give
    /// closures whose work for different indices touches disjoint memory, and `parallelFor`
    /// returns only after every call has finished.
    private final class Job: @unchecked Sendable {
        let body: (Int) -> Void
        let count: Int
        let next = Atomic<Int>(0)
        let remaining: Atomic<Int>

        init(count: Int, body: @escaping (Int) -> Void) {
            self.count = count
            self.body = body
            remaining = Atomic(count)
        }

        /// Takes indices until none are left.
        func work() {
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= count { return }
                body(i)
                remaining.subtract(1, ordering: .releasing)
            }
        }
    }

    /// `@unchecked Sendable`: `current` is only touched under `jobLock`; the rest are atomics,
    /// locks and a condition.
    private final class State: @unchecked Sendable {
        let callerLock = NSLock()
        let jobLock = NSLock()
        var current: Job?
        let generation = Atomic<Int>(0)
        let stopping = Atomic<Bool>(false)
        let wake = NSCondition()

        func publish(_ job: Job?) {
            jobLock.lock()
            current = job
            jobLock.unlock()
            if job == nil { return }
            wake.lock()
            generation.add(1, ordering: .releasing)
            wake.broadcast()
            wake.unlock()
        }

        func stop() {
            stopping.store(true, ordering: .releasing)
            wake.lock()
            generation.add(1, ordering: .releasing)
            wake.broadcast()
            wake.unlock()
        }

        func workerLoop() {
            var seen = 0
            while true {
                var spins = 0
                while generation.load(ordering: .acquiring) == seen {
                    spins += 1
                    if spins < 1_000_000 { continue }
                    wake.lock()
                    while generation.load(ordering: .acquiring) == seen { wake.wait() }
                    wake.unlock()
                }
                if stopping.load(ordering: .acquiring) { return }
                seen = generation.load(ordering: .acquiring)
                jobLock.lock()
                let job = current
                jobLock.unlock()
                job?.work()
            }
        }
    }

    public init(threads: Int) {
        threadCount = max(1, threads)
        let state = State()
        self.state = state
        for w in 1..<threadCount {
            let t = Thread { state.workerLoop() }
            t.name = "tts-worker-\(w)"
            t.start()
        }
    }

    deinit { state.stop() }

    public func parallelFor(_ count: Int, _ body: @escaping (Int) -> Void) {
        if count <= 0 { return }
        if threadCount == 1 || count == 1 {
            for i in 0..<count { body(i) }
            return
        }
        state.callerLock.lock()
        defer { state.callerLock.unlock() }
        let job = Job(count: count, body: body)
        state.publish(job)
        job.work()
        while job.remaining.load(ordering: .acquiring) > 0 {}
        state.publish(nil)
    }
}

extension ThreadPool {
    /// Splits [0, total) into contiguous ranges (multiples of `granularity`), about four per
    /// thread so that a worker that starts late simply takes fewer, and runs `body(lo, hi)` on each.
    public func parallelRanges(_ total: Int, granularity: Int = 1, _ body: @escaping (Int, Int) -> Void) {
        let g = max(granularity, 1)
        let units = (total + g - 1) / g
        let parts = threadCount == 1 ? 1 : min(threadCount * 4, max(units, 1))
        if parts <= 1 {
            body(0, total)
            return
        }
        parallelFor(parts) { p in
            let lo = min(total, (units * p / parts) * g)
            let hi = min(total, (units * (p + 1) / parts) * g)
            if lo < hi { body(lo, hi) }
        }
    }
}

/// Runs `body` over [0, total): split across `pool` (ranges that are multiples of `granularity`)
/// when there is a pool with more than one thread and `work` reaches `threshold`, on the calling
/// thread otherwise. Small loops are not worth the hand-off.
public func splitWork(_ total: Int, granularity: Int, work: Int, threshold: Int, pool: ThreadPool?,
                      _ body: @escaping (Int, Int) -> Void) {
    if let pool, pool.threadCount > 1, work >= threshold, total > 1 {
        pool.parallelRanges(total, granularity: granularity, body)
    } else {
        body(0, total)
    }
}
