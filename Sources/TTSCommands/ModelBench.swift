// `qwen3-tts bench [model]`: per-phase speed of the whole pipeline on a fixed number of frames.
import ArgumentParser
import Foundation
import Qwen3TTS
import TTSRuntime

struct ModelBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Time the talker, code predictor and decoder on a fixed number of frames.",
        discussion: """
            End-of-speech is ignored so every run makes exactly --frames frames. After a warm-up run, \
            --runs timed runs are made and medians reported, with peak RSS, load time and the \
            machine's measured read bandwidth beside the bandwidth-bound limit for the weights.
            """)

    @Option(name: .long, help: "Model: checkpoint directory or GGUF file.")
    var model: String

    @Option(name: .long, help: "Frames per run (12.5 per second of audio).")
    var frames = 100

    @Option(name: .long, help: "Timed runs (medians reported).")
    var runs = 3

    @Option(name: .long, help: "Store the talker and code-predictor weights as f32, bf16, q8_0 or q4_k (q4_k: layers in q4_k, heads in q8_0; default: as in the checkpoint).")
    var quant: WeightType?

    @OptionGroup var decoder: DecoderOption

    @Option(name: .long, help: "Worker threads (default: all cores).")
    var threads: Int?

    @Option(name: .long, help: "Base models: the voice to speak in (a .voice file from `voice create`).")
    var voice: String?

    @Option(name: .long, help: "Text of the prompt.")
    var text = "The quick brown fox jumps over the lazy dog, and then it runs far away into the quiet green forest."

    @Option(name: .customLong("kv-cache"), help: "The talker's KV cache: f32, bf16 or q8_0 (default: q8_0 with quantized weights, else f32).")
    var kvCache: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Flag(name: .customLong("decoder-stages"), help: "Also print the decoder's time per stage.")
    var decoderStages = false

    @Option(name: .long, help: """
        Instead of the per-phase timings: run this many requests at once (a comma-separated list, \
        e.g. 1,2,4), as the daemon does, and report aggregate throughput and per-stream latency.
        """)
    var concurrency: String?

    @Option(name: .customLong("text-rate"), help: """
        Instead of the per-phase timings: feed --text word by word at this many words per second \
        while it is spoken (text streaming), and report the time from the first complete word to \
        the first audio and from the end of the text to the last audio.
        """)
    var textRate: Double?

    @Option(name: .long, help: "With --concurrency: batched (one batch steps every stream), threads (a producer thread per stream) or both.")
    var scheduler: String = "both"

    private var schedulers: [ConcurrencyBench.Scheduler] {
        scheduler == "both" ? ConcurrencyBench.Scheduler.allCases : ConcurrencyBench.Scheduler(rawValue: scheduler).map { [$0] } ?? []
    }

    private var concurrencyLevels: [Int]? {
        concurrency.map { $0.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
    }

    func validate() throws {
        if frames < 1 { throw ValidationError("--frames must be at least 1") }
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if let levels = concurrencyLevels, levels.isEmpty || levels.contains(where: { $0 < 1 || $0 > 64 })
            || levels.count != concurrency?.split(separator: ",").count {
            throw ValidationError("--concurrency takes a list of stream counts in 1...64, e.g. 1,2,4")
        }
        if schedulers.isEmpty { throw ValidationError("--scheduler must be batched, threads or both") }
        if let kvCache, KVPrecision(rawValue: kvCache) == nil { throw ValidationError("--kv-cache must be f32, bf16 or q8_0") }
        if let textRate, !(textRate > 0 && textRate <= 1000) { throw ValidationError("--text-rate must be a number of words per second in (0, 1000]") }
        if textRate != nil && concurrency != nil { throw ValidationError("give --text-rate or --concurrency, not both") }
    }

    func run() throws {
        let clock = ContinuousClock()
        let loadStart = clock.now
        let m = try CommandSupport.loadModel(model, threads: threads, weights: quant, decoder: decoder.precision,
                                             kvCache: kvCache.flatMap(KVPrecision.init(rawValue:)))
        let loadSeconds = (clock.now - loadStart).seconds
        var request = SynthesisRequest(text: text, language: m.configuration.languages.contains("english") ? "english" : "auto",
                                       speaker: m.configuration.speakers.first)
        if let voice { request.setVoice(try CommandSupport.loadVoice(m, voice)) }
        if let levels = concurrencyLevels {
            try runConcurrency(m, request: request, levels: levels, loadSeconds: loadSeconds)
            return
        }
        if let textRate {
            let r = try CommandSupport.run {
                try TextStreamBench.measure(m, request: request, text: text, wordsPerSecond: textRate, frames: frames, runs: runs)
            }
            func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }
            let first = median(r.map(\.firstWordToAudio)) * 1000, done = median(r.map(\.doneToLastAudio)) * 1000
            if json {
                let out: [String: Any] = ["text_rate_words_per_s": textRate, "frames": frames, "runs": runs,
                                          "first_word_to_audio_ms": first, "done_to_last_audio_ms": done]
                let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(String(format: "text streaming, %.1f words/s, %d frames, medians of %d runs", textRate, frames, runs))
                print(String(format: "  first word to first audio  %.1f ms", first))
                print(String(format: "  text done to last audio    %.1f ms", done))
            }
            return
        }
        var options = GenerationOptions()
        options.seed = 1
        options.stopAtEndOfSpeech = false
        options.maxFrames = min(frames, 3)
        _ = try CommandSupport.run { try m.synthesize(request, options: options) }  // warm-up
        options.maxFrames = frames

        var samples: [String: [Double]] = [:]
        func record(_ key: String, _ v: Double) { samples[key, default: []].append(v) }
        for _ in 0..<runs {
            let r = try CommandSupport.run { try m.synthesize(request, options: options) }
            let t = r.timings
            let n = Double(r.codes.count)
            record("prefill_ms", t.prefill * 1000)
            record("talker_ms_per_step", t.talkerSteps / n * 1000)
            record("code_predictor_ms_per_frame", t.codePredictor / n * 1000)
            record("generation_ms_per_frame", (t.talkerSteps + t.codePredictor) / n * 1000)
            record("decoder_s_per_audio_s", t.decoder / r.audioSeconds)
            record("first_frame_ms", t.firstFrame * 1000)
            record("rtf", t.total / r.audioSeconds)
        }
        // Time to first audio when streaming (request to first PCM chunk; default chunk sizes).
        for _ in 0..<runs {
            var first = 0.0
            var streamOptions = options
            streamOptions.maxFrames = StreamOptions().firstChunkFrames
            try CommandSupport.run {
                try m.produce(request, options: streamOptions, streaming: StreamOptions()) { chunk in
                    if first == 0 { first = chunk.elapsed }
                }
            }
            record("first_audio_ms", first * 1000)
        }
        // Prefill three ways: one pass without a prompt cache, two passes on a miss, a hit.
        var prefill = PrefillTimes()
        for _ in 0..<runs {
            prefill = try CommandSupport.run { try m.prefillTimes(request) }
            record("prefill_one_pass_ms", prefill.onePass * 1000)
            record("prefill_cache_miss_ms", prefill.miss * 1000)
            record("prefill_cache_hit_ms", prefill.hit * 1000)
        }
        let median = samples.mapValues { v in v.sorted()[v.count / 2] }
        // Peak RSS of the synthesis runs, read before the bandwidth probe allocates its buffer.
        let rss = Double(SystemMetrics.peakResidentBytes()) / 1e9
        let bandwidth = SystemMetrics.readBandwidth(threads: ProcessInfo.processInfo.activeProcessorCount)
        let (talkerBytes, cpBytes) = m.weightBytesPerFrame
        let limitMs = Double(talkerBytes + cpBytes) / (bandwidth * 1e9) * 1000

        if json {
            var out: [String: Any] = median
            out["frames"] = frames
            out["runs"] = runs
            out["load_s"] = loadSeconds
            out["peak_rss_gb"] = rss
            out["read_bandwidth_gbps"] = bandwidth
            out["weight_bytes_per_frame"] = talkerBytes + cpBytes
            out["bandwidth_limit_ms_per_frame"] = limitMs
            out["threads"] = m.threadCount
            out["kernels"] = KernelPath.description
            out["kv_cache"] = m.kvCachePrecision.rawValue
            out["quant"] = quant?.rawValue ?? "checkpoint"
            out["prefill_rows"] = prefill.rows
            out["prefill_shared_rows"] = prefill.sharedRows
            let data = try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            let f = { (k: String) in String(format: "%.2f", median[k] ?? 0) }
            print("model \(model): \(frames) frames, median of \(runs) runs, \(m.threadCount) threads, weights \(quant?.rawValue ?? "as stored")")
            print("  kernels              \(KernelPath.description)")
            print("  talker KV cache      \(m.kvCachePrecision.rawValue)")
            print("  load                 \(String(format: "%.2f", loadSeconds)) s")
            print("  prefill              \(f("prefill_ms")) ms (prompt cache warm)")
            print("  prefill, \(prefill.rows) rows      one pass \(f("prefill_one_pass_ms")) ms; cache miss \(f("prefill_cache_miss_ms")) ms, hit \(f("prefill_cache_hit_ms")) ms (\(prefill.sharedRows) shared rows)")
            print("  talker step          \(f("talker_ms_per_step")) ms")
            print("  code predictor       \(f("code_predictor_ms_per_frame")) ms/frame")
            print("  generation           \(f("generation_ms_per_frame")) ms/frame (bandwidth limit \(String(format: "%.1f", limitMs)) ms: \(String(format: "%.2f", Double(talkerBytes + cpBytes) / 1e9)) GB at \(String(format: "%.1f", bandwidth)) GB/s)")
            print("  decoder              \(f("decoder_s_per_audio_s")) s per audio s")
            print("  first frame          \(f("first_frame_ms")) ms")
            print("  first audio (stream) \(f("first_audio_ms")) ms (first chunk of \(StreamOptions().firstChunkFrames) frames)")
            print("  RTF                  \(f("rtf"))")
            print("  peak RSS             \(String(format: "%.2f", rss)) GB")
        }
        if decoderStages {
            let codes = (0..<frames).map { f in (0..<m.codeGroups).map { (f * 31 + $0 * 17) % 2048 } }
            for (stage, seconds) in try m.decoderStageTimes(codes: codes) {
                print(String(format: "  decoder %-12@ %.3f s per audio s", stage as NSString, seconds / (Double(frames) * 0.08)))
            }
        }
    }

    private func runConcurrency(_ m: Qwen3TTSModel, request: SynthesisRequest, levels: [Int], loadSeconds: Double) throws {
        var rows: [[String: Any]] = []
        if !json {
            print("model \(model): \(frames) frames per stream, median of \(runs) runs, \(m.threadCount) threads, weights \(quant?.rawValue ?? "as stored")")
            print("  kernels: \(KernelPath.description); talker KV cache \(m.kvCachePrecision.rawValue)")
            print("  scheduler  streams  aggregate audio s/s  per-stream RTF  first audio median / worst")
        }
        for n in levels {
            for scheduler in schedulers {
                let r = try CommandSupport.run {
                    try ConcurrencyBench.measure(m, request: request, frames: frames, streams: n, runs: runs, scheduler: scheduler)
                }
                rows.append(["scheduler": scheduler.rawValue, "streams": n, "aggregate_audio_s_per_s": r.aggregateAudioPerSecond,
                             "stream_rtf": r.streamRTF, "first_audio_ms_median": r.firstAudioMedian * 1000,
                             "first_audio_ms_worst": r.firstAudioWorst * 1000])
                if !json {
                    print(String(format: "  %-9@  %7d  %19.3f  %14.2f  %8.0f / %.0f ms", scheduler.rawValue as NSString, n,
                                 r.aggregateAudioPerSecond, r.streamRTF, r.firstAudioMedian * 1000, r.firstAudioWorst * 1000))
                }
            }
        }
        if json {
            let out: [String: Any] = ["benchmark": "concurrency", "frames": frames, "runs": runs, "threads": m.threadCount,
                                      "kernels": KernelPath.description, "kv_cache": m.kvCachePrecision.rawValue, "quant": quant?.rawValue ?? "checkpoint", "load_s": loadSeconds, "levels": rows,
                                      "peak_rss_gb": Double(SystemMetrics.peakResidentBytes()) / 1e9]
            print(String(decoding: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]), as: UTF8.self))
        }
    }
}
