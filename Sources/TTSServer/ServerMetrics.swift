// GET /metrics in the Prometheus text format, and the access log: what operators watch.
import Foundation
import Hummingbird
import Logging
import Prometheus
import Qwen3TTS
import Synchronization
import TTSRuntime

/// The daemon's metrics. Request outcomes, first-audio times, real-time factors and audio are
/// recorded as requests finish; queue depth, memory and the caches' counts are read when scraped.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let firstAudio: ValueHistogram
    private let realTimeFactor: ValueHistogram
    private let audioSeconds: Counter
    private let queued: Gauge
    private let active: Gauge
    private let resident: Gauge
    private let voices: Gauge
    /// Counters mirrored from elsewhere (scheduler, caches): the last value emitted, per counter.
    private let mirrored = Mutex<[String: Int]>([:])
    private let mirrors: [String: Counter]

    /// Speech outcomes, as labels of qwen3_tts_speech_requests_total.
    enum Outcome: String, CaseIterable {
        case completed, cancelled, timed_out, failed, refused, invalid
    }
    private let outcomes: [Outcome: Counter]

    init() {
        let r = registry
        outcomes = Dictionary(uniqueKeysWithValues: Outcome.allCases.map {
            ($0, r.makeCounter(name: "qwen3_tts_speech_requests_total", labels: [("outcome", $0.rawValue)],
                               help: "Speech requests by how they ended: completed, cancelled (client gone or shutdown), timed_out, failed, refused (queue full), invalid (4xx)"))
        })
        firstAudio = r.makeValueHistogram(name: "qwen3_tts_time_to_first_audio_seconds",
                                          buckets: [0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2, 5, 10],
                                          help: "From admission to the first audio chunk")
        realTimeFactor = r.makeValueHistogram(name: "qwen3_tts_real_time_factor",
                                              buckets: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.5, 2, 4],
                                              help: "Wall time over audio time of completed speech requests")
        audioSeconds = r.makeCounter(name: "qwen3_tts_audio_seconds_total", help: "Seconds of audio generated")
        queued = r.makeGauge(name: "qwen3_tts_queue_depth", help: "Requests waiting for a synthesis slot")
        active = r.makeGauge(name: "qwen3_tts_active_sessions", help: "Synthesis slots in use")
        resident = r.makeGauge(name: "qwen3_tts_resident_memory_bytes", help: "Resident set size of the daemon")
        voices = r.makeGauge(name: "qwen3_tts_voices", help: "Cloned voices served from the voices directory")
        mirrors = [
            "frames": r.makeCounter(name: "qwen3_tts_frames_total", help: "Frames generated (12.5 per second of audio)"),
            "prompt_hits": r.makeCounter(name: "qwen3_tts_prompt_cache_hits_total", help: "Speaker prompts served from the prompt cache"),
            "prompt_misses": r.makeCounter(name: "qwen3_tts_prompt_cache_misses_total", help: "Speaker prompts computed and cached"),
            "clone_hits": r.makeCounter(name: "qwen3_tts_clone_cache_hits_total", help: "ref_audio clones served from the clone cache"),
            "clone_misses": r.makeCounter(name: "qwen3_tts_clone_cache_misses_total", help: "ref_audio clones made"),
        ]
    }

    func record(_ outcome: Outcome) { outcomes[outcome]?.increment() }

    /// A request stopped before its end, by why it stopped.
    func recordStopped(_ reason: StopReason) {
        switch reason {
        case .timedOut: record(.timed_out)
        case .clientGone, .shuttingDown: record(.cancelled)
        default: record(.failed)
        }
    }

    /// A completed request: first audio after `firstAudio` s, `audio` s of audio in `wall` s.
    func recordCompleted(firstAudio first: Double, audio: Double, wall: Double) {
        record(.completed)
        firstAudio.record(first)
        audioSeconds.increment(by: audio)
        if audio > 0 { realTimeFactor.record(wall / audio) }
    }

    /// The text exposition, with the scrape-time values brought up to date.
    func exposition(scheduler: SchedulerStats, host: ModelHost) -> [UInt8] {
        queued.set(Double(scheduler.queued))
        active.set(Double(scheduler.active))
        voices.set(Double(host.voices.count))
        if let rss = SystemMetrics.currentResidentBytes() { resident.set(Double(rss)) }
        var now = ["frames": scheduler.frames]
        if let cache = host.model?.promptCache.statistics {
            now["prompt_hits"] = cache.hits
            now["prompt_misses"] = cache.misses
        }
        let clones = host.clones.statistics
        now["clone_hits"] = clones.hits
        now["clone_misses"] = clones.misses
        mirrored.withLock { last in
            for (key, value) in now {
                let delta = value - (last[key] ?? 0)
                if delta > 0 { mirrors[key]?.increment(by: Int64(delta)) }
                last[key] = max(value, last[key] ?? 0)
            }
        }
        return registry.emitToBuffer()
    }
}

/// One log line per request, with its status and time: `access POST /v1/audio/speech 200 0.412s`
/// (for a streamed body, the time to its headers), and the outcome of refused speech requests
/// counted in the metrics.
struct AccessLogMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            log(request, status: (error as? APIError)?.status.code ?? 500, start: start, logger: context.logger)
            throw error
        }
        log(request, status: response.status.code, start: start, logger: context.logger)
        return response
    }

    private func log(_ request: Request, status: Int, start: ContinuousClock.Instant, logger: Logger) {
        let seconds = (ContinuousClock.now - start).seconds
        if request.method == .post && request.uri.path == "/v1/audio/speech" && status != 200 {
            let outcome: ServerMetrics.Outcome = switch status {
            case 429: .refused
            case 504: .timed_out
            case 400..<500: .invalid
            default: .failed
            }
            metrics.record(outcome)
        }
        logger.info("access \(request.method) \(request.uri.path) \(status) \(String(format: "%.3f", seconds))s",
                    metadata: ["status": "\(status)", "method": "\(request.method)", "path": "\(request.uri.path)",
                               "seconds": "\(String(format: "%.3f", seconds))"])
    }
}
