// `qwen3-tts bench`: the one place performance is measured.
import ArgumentParser
import Foundation
import Qwen3TTS
import TTSRuntime
import TTSTokenizers

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure performance (medians of repeated runs).",
        subcommands: [ModelBench.self, TokenizerBench.self],
        defaultSubcommand: ModelBench.self)
}

struct TokenizerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Text tokenizer throughput on one core.",
        discussion: "Encodes the text file repeatedly (at least --megabytes per run) and reports the median MB/s.")

    @Option(name: .long, help: "Directory with vocab.json + merges.txt (+ tokenizer_config.json), e.g. a model directory.")
    var model: String

    @Option(name: .customLong("text-file"), help: "UTF-8 text to encode.")
    var textFile: String

    @Option(name: .long, help: "Timed runs (median reported).")
    var runs = 5

    @Option(name: .long, help: "Megabytes of text per run.")
    var megabytes = 4.0

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func validate() throws {
        if runs < 1 { throw ValidationError("--runs must be at least 1") }
        if !(megabytes > 0) { throw ValidationError("--megabytes must be positive") }
    }

    func run() throws {
        let tokenizer: BPETokenizer
        do {
            tokenizer = try BPETokenizer.load(directory: model)
        } catch {
            throw CommandError("cannot load tokenizer from \(model): \(error)")
        }
        guard let data = FileManager.default.contents(atPath: textFile), let text = String(data: data, encoding: .utf8), !text.isEmpty else {
            throw CommandError("cannot read UTF-8 text from \(textFile)")
        }
        // Lines are encoded one by one, as prompts are: whole-text encoding would favour long pieces.
        let lines = text.split(separator: "\n").map(String.init)
        let bytesPerPass = lines.reduce(0) { $0 + $1.utf8.count }
        let passes = max(1, Int((megabytes * 1_000_000 / Double(bytesPerPass)).rounded(.up)))
        var tokens = 0
        for line in lines { tokens += tokenizer.encode(line).count }  // warm-up
        var rates: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<runs {
            let start = clock.now
            var count = 0
            for _ in 0..<passes { for line in lines { count &+= tokenizer.encode(line).count } }
            let seconds = (clock.now - start).seconds
            rates.append(Double(bytesPerPass * passes) / seconds / 1_000_000)
        }
        rates.sort()
        let median = rates[rates.count / 2]
        if json {
            print("{\"benchmark\":\"tokenizer\",\"megabytes_per_second\":\(median),\"runs\":\(runs),\"bytes_per_run\":\(bytesPerPass * passes),\"tokens_per_pass\":\(tokens),\"lines\":\(lines.count)}")
        } else {
            print(String(format: "tokenizer: %.2f MB/s median of %d runs (min %.2f, max %.2f); %d bytes, %d lines, %d tokens per pass",
                         median, runs, rates.first!, rates.last!, bytesPerPass, lines.count, tokens))
        }
    }
}
