// `qwen3-tts serve`: listeners, model loading, signals and orderly shutdown.
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOPosix
import Qwen3TTS
import ServiceLifecycle

/// The daemon. `run()` listens at once (so /health can answer 503 while loading), loads the model,
/// serves until SIGINT/SIGTERM or `shutdown()`, then drains: queued requests are refused, running
/// ones get `shutdownGrace` seconds to finish before they are stopped, and the socket file is
/// removed.
public final class SpeechServer: Sendable {
    public let configuration: ServerConfiguration
    public let host = ModelHost()
    public let scheduler: SynthesisScheduler
    private let logger: Logger
    private let events: AsyncStream<Event>.Continuation
    private let eventStream: AsyncStream<Event>
    private let stopSignal: AsyncStream<Void>.Continuation
    private let stopStream: AsyncStream<Void>
    private let loader: @Sendable (ServerConfiguration) throws -> Qwen3TTSModel

    /// What the server announces as it starts (also printed, for scripts that start it).
    public enum Event: Sendable, Equatable {
        case listening(String)
        case ready
    }

    public convenience init(configuration: ServerConfiguration, logger: Logger) throws {
        try self.init(configuration: configuration, logger: logger) { c in
            try Qwen3TTSModel.load(path: c.modelPath, threads: c.threads, weights: c.weights, decoder: c.decoderPrecision)
        }
    }

    /// `loader` runs on a thread of its own (tests substitute a slow one).
    init(configuration: ServerConfiguration, logger: Logger, loader: @escaping @Sendable (ServerConfiguration) throws -> Qwen3TTSModel) throws {
        try configuration.validate()
        self.loader = loader
        self.configuration = configuration
        self.logger = logger
        scheduler = SynthesisScheduler(maxConcurrent: configuration.maxConcurrent, maxQueued: configuration.maxQueued)
        (eventStream, events) = AsyncStream.makeStream()
        (stopStream, stopSignal) = AsyncStream.makeStream()
    }

    /// Announcements in order: one `.listening(address)` per listener, then `.ready`.
    public var announcements: AsyncStream<Event> { eventStream }

    /// Starts the orderly shutdown (as SIGTERM does).
    public func shutdown() { stopSignal.yield() }

    public func run(handleSignals: Bool = true) async throws {
        if let path = configuration.socketPath { try Self.claimSocketPath(path) }
        defer {
            if let path = configuration.socketPath { unlink(path) }
            events.finish()
        }
        let routes = SpeechRoutes(configuration: configuration, host: host, scheduler: scheduler)
        await scheduler.whenIdle { await routes.releaseMemoryIfIdle() }
        var services: [any Service] = []
        if let port = configuration.port {
            services.append(application(routes, address: .hostname(configuration.host, port: port)) { channel in
                let port = channel.localAddress?.port ?? port
                return "http://\(self.configuration.host):\(port)"
            })
        }
        if let path = configuration.socketPath {
            services.append(application(routes, address: .unixDomainSocket(path: path)) { _ in "unix:\(path)" })
        }
        // Last in the list, so first to be shut down: it drains the scheduler while the
        // listeners still answer (new requests get 503), then the listeners close.
        services.append(ModelService(server: self))
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [],
            logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await _ in self.stopStream {
                    await group.triggerGracefulShutdown()
                    return
                }
            }
            try await group.run()
            tasks.cancelAll()
        }
    }

    private func application(_ routes: SpeechRoutes, address: BindAddress, describe: @escaping @Sendable (any Channel) -> String) -> some Service {
        let gate = RequestGate(configuration: configuration, host: host)
        let webSockets = routes.webSocketRouter().buildResponder()
        let channels = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(additionalChannelHandlers: [ExpectContinueHandler(gate: gate), InputClosedRecorder()],
                         idleTimeout: .milliseconds(Int64(configuration.idleTimeout * 1000))),
            ws: .init(maxFrameSize: SpeechRoutes.streamFrameBytes(configuration), autoPing: .enabled(timePeriod: .seconds(30)),
                      closeTimeout: .seconds(5)))
        let headTimeout = configuration.idleTimeout
        return Application(
            router: routes.router(),
            server: HTTPServerBuilder { responder in
                UpgradableHTTPChannel(inner: HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSockets, configuration: channels),
                                      headTimeout: headTimeout)
            },
            configuration: .init(address: address, serverName: "qwen3-tts",
                                 availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections, logger: logger)),
            onServerRunning: { channel in
                let where_ = describe(channel)
                self.announce(.listening(where_))
            },
            logger: logger)
    }

    fileprivate func announce(_ event: Event) {
        switch event {
        case .listening(let address): logger.info("listening on \(address)")
        case .ready: logger.info("model \(configuration.servedModelID) ready")
        }
        events.yield(event)
    }

    /// A leftover socket file from a server that died is replaced; a live one is not.
    static func claimSocketPath(_ path: String) throws {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        guard (st.st_mode & S_IFMT) == S_IFSOCK else { throw ServerError.socketPathTaken(path: path) }
        if socketAcceptsConnections(path) { throw ServerError.socketInUse(path: path) }
        unlink(path)
    }

    private static func socketAcceptsConnections(_ path: String) -> Bool {
        guard let address = try? SocketAddress(unixDomainSocketPath: path) else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return address.withSockAddr { connect(fd, $0, socklen_t($1)) } == 0
    }

    /// Loads the model, then at shutdown drains the scheduler.
    private struct ModelService: Service {
        let server: SpeechServer

        func run() async throws {
            do {
                // SIGTERM while loading ends the service at once; the loading thread is dropped.
                let model: Qwen3TTSModel
                do {
                    model = try await cancelWhenGracefulShutdown { [server] in
                        try await server.host.load { try server.loader(server.configuration) }
                    }
                } catch is CancellationError where Task.isShuttingDownGracefully {
                    server.logger.info("shutting down before the model finished loading")
                    return
                }
                model.promptCache.capacityBytes = server.configuration.promptCacheBytes
                if let dir = server.configuration.voicesDirectory {
                    for problem in try server.host.voices.load(from: dir, for: model, limit: server.configuration.maxVoices) { server.logger.warning("skipped a voice: \(problem)") }
                    server.logger.info("\(server.host.voices.count) cloned voices from \(dir)")
                }
            } catch let e as ServerError {
                throw e
            } catch {
                throw ServerError.modelLoadFailed("\(error)")
            }
            server.announce(.ready)
            try? await gracefulShutdown()
            server.logger.info("shutting down: refusing new requests, \(Int(server.configuration.shutdownGrace)) s for running ones")
            await server.scheduler.drain(grace: server.configuration.shutdownGrace)
            // Stopped jobs end within a frame; work that cannot be interrupted (a clone in
            // progress) gets a few seconds more, then the server exits without it.
            if !(await server.scheduler.waitUntilIdle(seconds: 5)) {
                server.logger.warning("shutting down with work still running after the grace period")
            }
        }
    }
}
