// Admission control: slots, FIFO queue, refusals, deadlines, cancellation, draining.
import XCTest
@testable import TTSServer

final class SchedulerTests: XCTestCase {
    func testSlotsQueueAndRefusal() async throws {
        let s = SynthesisScheduler(maxConcurrent: 2, maxQueued: 1)
        let a = try await s.admit(timeout: 5)
        let b = try await s.admit(timeout: 5)
        let queued = Task { try await s.admit(timeout: 5) }
        while await s.stats.queued < 1 { await Task.yield() }
        do {
            _ = try await s.admit(timeout: 5)
            XCTFail("a full queue must refuse")
        } catch let r as SchedulerRefusal {
            XCTAssertEqual(r, .queueFull(limit: 1))
        }
        a.release()
        let c = try await queued.value
        var stats = await s.stats
        XCTAssertEqual(stats.active, 2)
        XCTAssertEqual(stats.completed, 1)
        XCTAssertEqual(stats.refused, 1)
        b.stop(.clientGone)
        b.release()
        c.release()
        c.release()  // a second release is ignored
        await s.waitUntilIdle()
        stats = await s.stats
        XCTAssertEqual(stats.active, 0)
        XCTAssertEqual(stats.cancelled, 1)
        XCTAssertEqual(stats.completed, 2)
    }

    func testArrivalOrder() async throws {
        let s = SynthesisScheduler(maxConcurrent: 1, maxQueued: 8)
        let first = try await s.admit(timeout: 5)
        var waiters: [Task<UInt64, Error>] = []
        for i in 0..<4 {
            waiters.append(Task { try await s.admit(timeout: 5).id })
            while await s.stats.queued < i + 1 { await Task.yield() }
        }
        var order: [UInt64] = []
        var current = first
        for w in waiters {
            current.release()
            let id = try await w.value
            order.append(id)
            let job = await s.runningJob(id)
            current = try XCTUnwrap(job)
        }
        current.release()
        XCTAssertEqual(order, order.sorted(), "slots go to waiters in arrival order")
    }

    func testQueueDeadlineAndCancellation() async throws {
        let s = SynthesisScheduler(maxConcurrent: 1, maxQueued: 4)
        let holder = try await s.admit(timeout: 5)
        do {
            _ = try await s.admit(timeout: 0.05)
            XCTFail("the wait must time out")
        } catch let r as SchedulerRefusal {
            XCTAssertEqual(r, .timedOut(seconds: 0.05))
        }
        let waiter = Task { try await s.admit(timeout: 30) }
        while await s.stats.queued < 1 { await Task.yield() }
        waiter.cancel()
        do {
            _ = try await waiter.value
            XCTFail("a cancelled waiter must not get a slot")
        } catch is CancellationError {}
        let stats = await s.stats
        XCTAssertEqual(stats.queued, 0)
        XCTAssertEqual(stats.timedOut, 1)
        holder.release()
        await s.waitUntilIdle()
    }

    func testDrainRefusesAndStops() async throws {
        let s = SynthesisScheduler(maxConcurrent: 1, maxQueued: 4)
        let running = try await s.admit(timeout: 5)
        let waiter = Task { try await s.admit(timeout: 30) }
        while await s.stats.queued < 1 { await Task.yield() }
        // The running job ignores the grace period here (nobody releases it), so drain stops it.
        let drained = Task { await s.drain(grace: 0.1) }
        do {
            _ = try await waiter.value
            XCTFail("queued requests are refused at shutdown")
        } catch let r as SchedulerRefusal {
            XCTAssertEqual(r, .shuttingDown)
        }
        await drained.value
        XCTAssertEqual(running.stopReason, .shuttingDown)
        XCTAssertTrue(running.progress.isCancelled)
        running.release()
        await s.waitUntilIdle()
        do {
            _ = try await s.admit(timeout: 1)
            XCTFail("no admission after drain")
        } catch let r as SchedulerRefusal {
            XCTAssertEqual(r, .shuttingDown)
        }
    }
}
