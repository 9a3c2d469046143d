// Bounds a slow or hostile peer cannot stretch: a deadline on reading a body or writing a piece
// of a response, and a shared budget for the bytes of uploads being buffered.
import Foundation
import NIOCore
import Synchronization

/// The deadline of `withDeadline` passed and the connection was closed.
struct DeadlinePassed: Error {}

/// Runs `body`; if it has not finished within `seconds`, closes `channel`, which makes a pending
/// read or write on it fail, and throws `DeadlinePassed` instead of that failure. The timer is the
/// channel's event loop's, so cancelling it frees it at once (a cancelled `Task.sleep` held its
/// memory until its deadline: about 450 bytes per call for a minute).
func withDeadline<T>(_ seconds: Double, closing channel: any Channel, _ body: () async throws -> T) async throws -> T {
    let fired = Atomic(false)
    let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) {
        fired.store(true, ordering: .releasing)
        channel.close(promise: nil)
    }
    defer { timer.cancel() }
    do {
        return try await body()
    } catch {
        if fired.load(ordering: .acquiring) { throw DeadlinePassed() }
        throw error
    }
}

/// Bytes that may be held at once by requests of one kind (uploads), over all connections.
final class ByteBudget: Sendable {
    let capacity: Int
    private let used = Mutex(0)

    init(capacity: Int) { self.capacity = capacity }

    /// Takes `bytes` of the budget if they are free.
    func reserve(_ bytes: Int) -> Bool {
        used.withLock { used in
            guard bytes <= capacity - used else { return false }
            used += bytes
            return true
        }
    }

    func release(_ bytes: Int) { used.withLock { $0 -= bytes } }

    var inUse: Int { used.withLock { $0 } }
}
