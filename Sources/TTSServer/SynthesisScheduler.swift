// Admission control for synthesis: bounded concurrent sessions, a bounded FIFO queue, deadlines,
// cancellation and draining at shutdown.
import Foundation
import Qwen3TTS
import Synchronization

/// Why a job stopped early.
public enum StopReason: UInt8, Sendable {
    case none = 0
    case clientGone = 1
    case timedOut = 2
    case shuttingDown = 3
    /// The engine or the connection failed.
    case failed = 4
}

/// One admitted request: its producer's progress (the engine polls it every frame) and why it
/// was stopped, if it was.
public final class SynthesisJob: Sendable {
    public let id: UInt64
    public let progress = StreamProgress()
    private let reason = Atomic<UInt8>(0)
    private let released = Atomic<Bool>(false)
    private let bookkeeping = Mutex<Task<Void, Never>?>(nil)
    private let scheduler: SynthesisScheduler

    init(id: UInt64, scheduler: SynthesisScheduler) {
        self.id = id
        self.scheduler = scheduler
    }

    public var stopReason: StopReason { StopReason(rawValue: reason.load(ordering: .acquiring)) ?? .none }

    /// Stops the producer within one frame; the first reason given is kept.
    public func stop(_ why: StopReason) {
        _ = reason.compareExchange(expected: 0, desired: why.rawValue, ordering: .acquiringAndReleasing)
        progress.cancel()
    }

    /// Gives the slot back (once; later calls do nothing). Called when the producer has stopped,
    /// or by whoever admitted the job if it never started one.
    public func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let scheduler = scheduler, id = id, reason = stopReason, frames = progress.frames
        let task = Task { await scheduler.finished(id, reason: reason, frames: frames) }
        bookkeeping.withLock { $0 = task }
    }

    /// Returns once the scheduler has counted the released job (its slot, frames and outcome),
    /// so that a response ends only after /health and /metrics show it.
    func settled() async {
        await bookkeeping.withLock { $0 }?.value
    }
}

/// Counters shown by GET /health.
public struct SchedulerStats: Sendable, Codable, Equatable {
    public var active = 0
    public var queued = 0
    public var completed = 0
    public var refused = 0
    public var cancelled = 0
    public var timedOut = 0
    public var failed = 0
    public var frames = 0
}

public enum SchedulerRefusal: Error, Sendable, Equatable {
    case queueFull(limit: Int)
    case timedOut(seconds: Double)
    case shuttingDown
}

/// Policy: at most `maxConcurrent` sessions generate at once; they share the model's worker
/// threads op by op (each matrix product uses every core, and products from different sessions
/// take turns). Up to `maxQueued` more wait in arrival order; beyond that a request is refused at
/// once (HTTP 429) rather than left to time out.
public actor SynthesisScheduler {
    public nonisolated let maxConcurrent: Int
    public nonisolated let maxQueued: Int
    private var running: [UInt64: SynthesisJob] = [:]
    private var waiting: [(id: UInt64, continuation: CheckedContinuation<SynthesisJob, Error>)] = []
    private var nextID: UInt64 = 1
    private var draining = false
    private var counters = SchedulerStats()
    /// Slots taken: running jobs plus jobs handed a slot whose release is still in flight.
    private var taken = 0
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// Run (in a task of its own) each time the last running job finishes.
    private var onIdle: (@Sendable () async -> Void)?

    public init(maxConcurrent: Int, maxQueued: Int) {
        self.maxConcurrent = max(1, maxConcurrent)
        self.maxQueued = max(0, maxQueued)
    }

    public var stats: SchedulerStats {
        var s = counters
        s.active = taken
        s.queued = waiting.count
        return s
    }

    /// Waits for a slot (at most `timeout` seconds) and returns the admitted job. Throws
    /// `SchedulerRefusal` when the queue is full, the wait times out or the server is shutting
    /// down, and CancellationError when the waiting task is cancelled.
    public func admit(timeout: Double) async throws -> SynthesisJob {
        if draining { throw SchedulerRefusal.shuttingDown }
        if taken < maxConcurrent && waiting.isEmpty { return start(allocateID()) }
        guard waiting.count < maxQueued else {
            counters.refused += 1
            throw SchedulerRefusal.queueFull(limit: maxQueued)
        }
        let id = allocateID()
        let expiry = Task { [weak self] in
            try await Task.sleep(for: .seconds(timeout))
            await self?.expire(id, after: timeout)
        }
        defer { expiry.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiting.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.remove(id, with: CancellationError()) }
        }
    }

    /// Refuses queued requests and new ones; after `grace` seconds stops the jobs still running.
    public func drain(grace: Double) async {
        draining = true
        let queued = waiting
        waiting.removeAll()
        for w in queued { w.continuation.resume(throwing: SchedulerRefusal.shuttingDown) }
        if taken == 0 { return }
        _ = await waitUntilIdle(seconds: grace)
        for job in running.values { job.stop(.shuttingDown) }
    }

    /// Sets what runs each time the last running job finishes (the server returns memory then).
    public func whenIdle(_ action: @escaping @Sendable () async -> Void) { onIdle = action }

    /// The running job with this id, if any.
    func runningJob(_ id: UInt64) -> SynthesisJob? { running[id] }

    /// Returns when no job holds a slot.
    public func waitUntilIdle() async {
        if taken == 0 { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    /// Waits at most `seconds` for no job to hold a slot; returns whether that happened.
    public func waitUntilIdle(seconds: Double) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while taken > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return taken == 0
    }

    func finished(_ id: UInt64, reason: StopReason, frames: Int) {
        guard running.removeValue(forKey: id) != nil else { return }
        taken -= 1
        counters.frames += frames
        switch reason {
        case .none: counters.completed += 1
        case .timedOut: counters.timedOut += 1
        case .clientGone, .shuttingDown: counters.cancelled += 1
        case .failed: counters.failed += 1
        }
        if !waiting.isEmpty {
            let next = waiting.removeFirst()
            next.continuation.resume(returning: start(next.id))
        } else if taken == 0 {
            let waiters = idleWaiters
            idleWaiters.removeAll()
            for w in waiters { w.resume() }
            if let onIdle { Task { await onIdle() } }
        }
    }

    private func allocateID() -> UInt64 {
        defer { nextID += 1 }
        return nextID
    }

    private func start(_ id: UInt64) -> SynthesisJob {
        let job = SynthesisJob(id: id, scheduler: self)
        running[id] = job
        taken += 1
        return job
    }

    private func expire(_ id: UInt64, after seconds: Double) {
        if remove(id, with: SchedulerRefusal.timedOut(seconds: seconds)) { counters.timedOut += 1 }
    }

    @discardableResult
    private func remove(_ id: UInt64, with error: Error) -> Bool {
        guard let i = waiting.firstIndex(where: { $0.id == id }) else { return false }
        waiting.remove(at: i).continuation.resume(throwing: error)
        return true
    }
}
