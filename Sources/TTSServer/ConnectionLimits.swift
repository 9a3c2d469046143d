// Bounds a slow or hostile peer cannot stretch: a deadline on reading a body or writing a piece
// of a response, and a shared budget for the bytes of uploads being buffered.
import Foundation
import NIOCore
import Synchronization

/// The deadline of `withDeadline` passed and the connection was closed.
struct DeadlinePassed: Error {}

/// Runs `body`; if it has not finished within `seconds`, closes `channel`, which makes a pending
/// read or write on it fail, and throws `DeadlinePassed` instead of that failure.
func withDeadline<T>(_ seconds: Double, closing channel: any Channel, _ body: () async throws -> T) async throws -> T {
    let deadline = Task {
        do { try await Task.sleep(for: .seconds(seconds)) } catch { return false }
        channel.close(promise: nil)
        return true
    }
    do {
        let value = try await body()
        deadline.cancel()
        return value
    } catch {
        deadline.cancel()
        if await deadline.value { throw DeadlinePassed() }
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
