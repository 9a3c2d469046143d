// `qwen3-tts bench model --text-rate W`: text arriving word by word while it is spoken (issue 19).
import Foundation
import Qwen3TTS
import TTSRuntime

enum TextStreamBench {
    struct Result {
        /// From the first word being complete (the next word, with its space in front, has
        /// arrived, as an LLM's tokens come) to the first audio.
        var firstWordToAudio: Double
        /// From the end of the text (`finish`) to the last audio.
        var doneToLastAudio: Double
        var frames: Int
    }

    /// Feeds `text` word by word at `wordsPerSecond` from another thread, each word after the
    /// first with its space in front (as LLM tokens come), while `frames` frames are generated
    /// (end of speech off), after a warm-up.
    static func measure(_ m: Qwen3TTSModel, request: SynthesisRequest, text: String, wordsPerSecond: Double,
                        frames: Int, runs: Int) throws -> [Result] {
        let words = text.split(separator: " ").enumerated().map { $0 == 0 ? String($1) : " " + $1 }
        var options = GenerationOptions()
        options.seed = 1
        options.stopAtEndOfSpeech = false
        var results: [Result] = []
        for run in 0...runs {
            options.maxFrames = run == 0 ? 3 : frames
            let validated = try m.validateForTextStream(request, options: options)
            let input = try m.makeTextInput(for: validated)
            let times = Times()
            let pause = 1 / wordsPerSecond
            let feeder = Thread {
                for (i, word) in words.enumerated() {
                    try? input.append(word)
                    if i == 1 { times.firstWord = .now }
                    Thread.sleep(forTimeInterval: pause)
                }
                times.done = .now
                input.finish()
            }
            feeder.start()
            var first: ContinuousClock.Instant?, last = ContinuousClock.now, count = 0
            try m.produce(validated, text: input, streaming: StreamOptions()) { chunk in
                if first == nil { first = .now }
                last = .now
                count += chunk.frames
            }
            while times.done == nil { Thread.sleep(forTimeInterval: 0.001) }
            guard run > 0, let first, let firstWord = times.firstWord, let done = times.done else { continue }
            results.append(Result(firstWordToAudio: (first - firstWord).seconds, doneToLastAudio: max(0, (last - done).seconds), frames: count))
        }
        return results
    }

    private final class Times: @unchecked Sendable {
        private let lock = NSLock()
        private var _firstWord: ContinuousClock.Instant?
        private var _done: ContinuousClock.Instant?
        var firstWord: ContinuousClock.Instant? {
            get { lock.withLock { _firstWord } }
            set { lock.withLock { _firstWord = newValue } }
        }
        var done: ContinuousClock.Instant? {
            get { lock.withLock { _done } }
            set { lock.withLock { _done = newValue } }
        }
    }
}
