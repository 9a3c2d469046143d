// `qwen3-tts bench --concurrency 1,2,4`: several requests at once on one resident model, either
// batched (one BatchStreamer stepping every stream together: one read of the weights per frame
// for all of them) or as separate producer threads sharing the model's worker threads.
import Foundation
import Qwen3TTS
import Synchronization
import TTSRuntime

struct ConcurrencyResult {
    var streams: Int
    /// Seconds of audio produced per wall-clock second, all streams together.
    var aggregateAudioPerSecond: Double
    /// Per-stream real-time factor (wall time / its audio), median over streams and runs.
    var streamRTF: Double
    /// Time to each stream's first audio chunk: median and worst.
    var firstAudioMedian: Double
    var firstAudioWorst: Double
}

enum ConcurrencyBench {
    /// How the concurrent streams are run.
    enum Scheduler: String, CaseIterable {
        /// One BatchStreamer: every step advances all streams with batched passes.
        case batched
        /// One producer thread per stream (each a batch of one), interleaved by the OS.
        case threads
    }

    /// Runs `streams` requests of `frames` frames at once, `runs` times (after a warm-up).
    static func measure(_ m: Qwen3TTSModel, request: SynthesisRequest, frames: Int, streams: Int, runs: Int,
                        scheduler: Scheduler) throws -> ConcurrencyResult {
        var aggregate: [Double] = [], rtfs: [Double] = [], firsts: [Double] = []
        for run in 0...runs {
            if scheduler == .batched {
                let start = ContinuousClock.now
                let r = try batched(m, request: request, frames: run == 0 ? min(frames, 3) : frames, streams: streams)
                if run == 0 { continue }  // warm-up
                let wall = (ContinuousClock.now - start).seconds
                aggregate.append(r.reduce(0.0) { $0 + Double($1.samples) / Double(m.sampleRate) } / wall)
                for x in r {
                    rtfs.append(x.total / (Double(x.samples) / Double(m.sampleRate)))
                    firsts.append(x.first)
                }
                continue
            }
            let results = Mutex<[(first: Double, total: Double, samples: Int)]>([])
            let errors = Mutex<[Error]>([])
            let group = DispatchGroup()
            let start = ContinuousClock.now
            for s in 0..<streams {
                group.enter()
                let thread = Thread {
                    defer { group.leave() }
                    let options = Self.options(stream: s, frames: run == 0 ? min(frames, 3) : frames)
                    var first = 0.0, samples = 0
                    do {
                        try m.produce(request, options: options, streaming: StreamOptions()) { chunk in
                            if samples == 0 { first = chunk.elapsed }
                            samples += chunk.samples.count
                        }
                        let total = (ContinuousClock.now - start).seconds
                        results.withLock { $0.append((first, total, samples)) }
                    } catch {
                        errors.withLock { $0.append(error) }
                    }
                }
                thread.stackSize = 8 << 20
                thread.start()
            }
            group.wait()
            if let e = errors.withLock({ $0.first }) { throw e }
            if run == 0 { continue }  // warm-up
            let wall = (ContinuousClock.now - start).seconds
            let r = results.withLock { $0 }
            let audio = r.reduce(0.0) { $0 + Double($1.samples) / Double(m.sampleRate) }
            aggregate.append(audio / wall)
            for x in r {
                rtfs.append(x.total / (Double(x.samples) / Double(m.sampleRate)))
                firsts.append(x.first)
            }
        }
        func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
        return ConcurrencyResult(streams: streams, aggregateAudioPerSecond: median(aggregate), streamRTF: median(rtfs),
                                 firstAudioMedian: median(firsts), firstAudioWorst: firsts.max() ?? 0)
    }

    /// Stream `s`'s options: its own seed, exactly `frames` frames.
    static func options(stream s: Int, frames: Int) -> GenerationOptions {
        var options = GenerationOptions()
        options.seed = UInt64(s + 1)
        options.stopAtEndOfSpeech = false
        options.maxFrames = frames
        return options
    }

    /// All streams through one BatchStreamer on this thread: (first audio, finish, samples) each.
    static func batched(_ m: Qwen3TTSModel, request: SynthesisRequest, frames: Int, streams: Int) throws
        -> [(first: Double, total: Double, samples: Int)]
    {
        let start = ContinuousClock.now
        let streamer = try BatchStreamer(model: m)
        var results = [(first: Double, total: Double, samples: Int)](repeating: (0, 0, 0), count: streams)
        var index: [BatchStreamer.ID: Int] = [:]
        for s in 0..<streams {
            let id = try streamer.add(request, options: options(stream: s, frames: frames)) { chunk in
                if results[s].samples == 0 { results[s].first = chunk.elapsed }
                results[s].samples += chunk.samples.count
            }
            index[id] = s
        }
        while streamer.count > 0 {
            for (id, outcome) in streamer.step() {
                switch outcome {
                case .finished: results[index[id]!].total = (ContinuousClock.now - start).seconds
                case .cancelled: throw CancellationError()
                case .failed(let error): throw error
                }
            }
        }
        return results
    }
}
