// Notices a client going away while its speech is being generated, so the work stops at once
// instead of at the next write (which may be a dozen frames away).
import Hummingbird
import NIOCore
import Synchronization

/// The request context: Hummingbird's basics plus the connection, which the speech route watches.
struct SpeechRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Sits first in a connection's pipeline for the length of one speech request. The server allows
/// half-closed connections, so a client that closes shows up as an `inputClosed` event (or the
/// channel going inactive) long before a write would fail.
final class DisconnectWatcher: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = ByteBuffer

    private struct State {
        var closed = false
        var job: SynthesisJob?
    }

    private let state = Mutex(State())

    /// The job to stop when the client leaves; stopped at once if it has already left.
    func watch(_ job: SynthesisJob) {
        let closed = state.withLock { s in
            s.job = job
            return s.closed
        }
        if closed { job.stop(.clientGone) }
    }

    /// Stops watching: the job has delivered everything, so a client closing from now on (as it
    /// does after the last chunk) must not count as a disconnect.
    func unwatch() { state.withLock { $0.job = nil } }

    var clientGone: Bool { state.withLock { $0.closed } }

    fileprivate func markClosed() {
        let job = state.withLock { s in
            s.closed = true
            return s.job
        }
        job?.stop(.clientGone)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed { markClosed() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        markClosed()
        context.fireChannelInactive()
    }

    /// Adds a watcher at the front of `channel`'s pipeline. A client that half-closed right
    /// after its request did so before the watcher existed: the connection's InputClosedRecorder
    /// remembers it.
    static func install(on channel: any Channel) async throws -> DisconnectWatcher {
        let watcher = DisconnectWatcher()
        try await channel.pipeline.addHandler(watcher, position: .first).get()
        if let recorder = try? await channel.pipeline.handler(type: InputClosedRecorder.self).get(), recorder.inputClosed {
            watcher.markClosed()
        }
        return watcher
    }

    /// Takes it out again (the connection may serve further requests).
    func remove(from channel: any Channel) async {
        try? await channel.pipeline.removeHandler(self).get()
    }
}

/// Stays in every connection's pipeline and remembers whether the client has closed its sending
/// half, for a DisconnectWatcher installed after that happened.
final class InputClosedRecorder: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = Any
    private let closed = Atomic(false)

    var inputClosed: Bool { closed.load(ordering: .acquiring) }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed { closed.store(true, ordering: .releasing) }
        context.fireUserInboundEventTriggered(event)
    }
}
