// Messages read from a WebSocket, waiting for the session to act on them.
import Foundation
import Synchronization

/// The socket's reader pushes messages; the session takes them one at a time, waiting at most an
/// idle timeout. The reader keeps reading while the session waits for an utterance's last audio
/// (so pings are answered and a closed socket is seen at once); what the client sends meanwhile
/// waits here, bounded in count and bytes.
final class StreamMessageQueue: Sendable {
    enum Next: Sendable {
        case message(StreamClientMessage)
        /// The client closed the connection (or it failed).
        case ended
        case timedOut
    }

    private struct Waiter {
        let id: Int
        let continuation: CheckedContinuation<Next, Never>
        var timer: Task<Void, Never>?
    }

    private struct State {
        var items: [(message: StreamClientMessage, bytes: Int)] = []
        var bytes = 0
        var ended = false
        var waiter: Waiter?
        var nextWaiter = 0

        /// Takes the waiting session, if any, stopping its timer.
        mutating func takeWaiter() -> CheckedContinuation<Next, Never>? {
            defer { waiter = nil }
            waiter?.timer?.cancel()
            return waiter?.continuation
        }
    }

    private let state = Mutex(State())
    let maxCount: Int
    let maxBytes: Int

    init(maxCount: Int, maxBytes: Int) {
        self.maxCount = maxCount
        self.maxBytes = maxBytes
    }

    /// Adds a message of `bytes` bytes; false when that would pass the bounds (the client is
    /// sending far ahead of what is being spoken) unless `force` (a protocol error to report).
    func push(_ message: StreamClientMessage, bytes: Int, force: Bool = false) -> Bool {
        let (waiter, accepted) = state.withLock { s -> (CheckedContinuation<Next, Never>?, Bool) in
            if let w = s.takeWaiter() { return (w, true) }
            guard force || (s.items.count < maxCount && s.bytes + bytes <= maxBytes) else { return (nil, false) }
            s.items.append((message, bytes))
            s.bytes += bytes
            return (nil, true)
        }
        waiter?.resume(returning: .message(message))
        return accepted
    }

    /// No more messages will come.
    func end() {
        let waiter = state.withLock { s -> CheckedContinuation<Next, Never>? in
            s.ended = true
            return s.takeWaiter()
        }
        waiter?.resume(returning: .ended)
    }

    /// The next message, `.ended` once the reader has stopped and nothing is left, or
    /// `.timedOut` when nothing came within `timeout` seconds.
    func next(timeout: Double) async -> Next {
        await withCheckedContinuation { continuation in
            let waiting = state.withLock { s -> Int? in
                if !s.items.isEmpty {
                    let first = s.items.removeFirst()
                    s.bytes -= first.bytes
                    continuation.resume(returning: .message(first.message))
                    return nil
                }
                if s.ended {
                    continuation.resume(returning: .ended)
                    return nil
                }
                s.nextWaiter += 1
                s.waiter = Waiter(id: s.nextWaiter, continuation: continuation)
                return s.nextWaiter
            }
            guard let id = waiting else { return }
            let timer = Task {
                try? await Task.sleep(for: .seconds(timeout))
                if !Task.isCancelled { self.expire(id) }
            }
            let orphan = state.withLock { s -> Bool in
                guard s.waiter?.id == id else { return true }
                s.waiter?.timer = timer
                return false
            }
            if orphan { timer.cancel() }
        }
    }

    private func expire(_ id: Int) {
        let waiter = state.withLock { s -> CheckedContinuation<Next, Never>? in
            guard s.waiter?.id == id else { return nil }
            return s.takeWaiter()
        }
        waiter?.resume(returning: .timedOut)
    }
}
