// `qwen3-tts synthesize`: text in, audio (WAV, PCM, MP3, Opus, AAC or FLAC; optionally codes) out.
import ArgumentParser
import Foundation
import Qwen3TTS
import TTSAudio
import TTSRuntime

struct SynthesizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synthesize",
        abstract: "Speak text into a 24 kHz mono audio file (WAV, PCM, MP3, Opus, AAC or FLAC).",
        discussion: """
            The text comes from --text, --text-file, or standard input. A one-line summary (frames, \
            audio seconds, wall time, real-time factor) goes to standard error. MP3, Opus, FLAC and \
            AAC use LAME, libopus, libFLAC and libavcodec, loaded when needed: a missing one is \
            named with the package that provides it.
            """)

    @Option(name: .long, help: "Model: a Hugging Face Qwen3-TTS-12Hz checkpoint directory or a GGUF file from convert.")
    var model: String

    @Option(name: .long, help: "Text to speak.")
    var text: String?

    @Option(name: .customLong("text-file"), help: "Read the text from this file (UTF-8).")
    var textFile: String?

    @Option(name: .long, help: "Language name from the model's config, or auto.")
    var language = "auto"

    @Option(name: .long, help: "CustomVoice speaker name.")
    var speaker: String?

    @Option(name: .long, help: "Voice instruction (VoiceDesign; 1.7B CustomVoice).")
    var instruct: String?

    @Option(name: .customLong("reference-audio"), help: "Base models: clone the voice of this WAV (any rate, 16/24/32-bit PCM or float, up to 60 s).")
    var referenceAudio: String?

    @Option(name: .customLong("reference-text"), help: "With --reference-audio: what is said in it, for in-context cloning (without it: x-vector only).")
    var referenceText: String?

    @Option(name: .customLong("append-silence"), help: "With --reference-audio: seconds of silence appended to the reference first (0-5; ~0.5 helps against run-on endings).")
    var appendSilence: Double = 0

    @Option(name: .long, help: "Base models: speak in a voice made by `voice create` (a .voice file).")
    var voice: String?

    @Option(name: .customLong("text-layout"), help: "Prompt text layout: streaming or non-streaming (default: the model's).")
    var textLayout: String?

    @OptionGroup var sampling: SamplingOptions

    @Option(name: .long, help: "Store the talker and code-predictor weights as f32, bf16, q8_0 or q4_k (q4_k: layers in q4_k, heads in q8_0; default: as in the checkpoint).")
    var quant: WeightType?

    @OptionGroup var decoder: DecoderOption

    @Option(name: .long, help: "Worker threads (default: one per core).")
    var threads: Int?

    @Option(name: [.short, .long], help: "Output file ('-': standard output, with --stream).")
    var output: String

    @Option(name: .long, help: "wav, pcm, mp3, opus, aac or flac (default: from the output file's extension, else wav; pcm for --output -).")
    var format: AudioFormat?

    @Option(name: .long, help: "Speed, 0.25-4: the audio is time-stretched, keeping its pitch.")
    var speed: Double = 1

    @Flag(name: .customLong("float"), help: "WAV and PCM: write 32-bit float samples instead of 16-bit integers.")
    var floatSamples = false

    @Option(name: .customLong("codes-output"), help: "Also write the generated codes as JSON [[16 ints], ...].")
    var codesOutput: String?

    @Flag(name: .long, help: "Write audio as it is generated: a WAV valid after every chunk, or raw PCM with --output -.")
    var stream = false

    @Flag(name: .customLong("text-stream"), help: """
        With --stream: read the text from standard input as it arrives and speak it while it is \
        still being written (llm ... | qwen3-tts synthesize --text-stream --stream -o - | aplay ...). \
        Streaming text layout; the audio equals that of the whole text given at once.
        """)
    var textStream = false

    @Option(name: .customLong("first-chunk-frames"), help: "With --stream: frames in the first chunk.")
    var firstChunkFrames = 1

    @Option(name: .customLong("chunk-frames"), help: "With --stream: frames in each later chunk.")
    var chunkFrames = 12

    func validate() throws {
        if text != nil && textFile != nil { throw ValidationError("give --text or --text-file, not both") }
        if [speaker, referenceAudio, voice].compactMap({ $0 }).count > 1 {
            throw ValidationError("give one of --speaker, --reference-audio and --voice")
        }
        if referenceAudio == nil && (referenceText != nil || appendSilence != 0) {
            throw ValidationError("--reference-text and --append-silence go with --reference-audio")
        }
        if !(0...5).contains(appendSilence) { throw ValidationError("--append-silence must be 0 to 5 seconds") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if firstChunkFrames < 1 || chunkFrames < 1 { throw ValidationError("--first-chunk-frames and --chunk-frames must be at least 1") }
        if !stream && output == "-" { throw ValidationError("--output - (raw PCM on standard output) needs --stream") }
        if stream && codesOutput != nil { throw ValidationError("--codes-output is not available with --stream") }
        if textStream && !stream { throw ValidationError("--text-stream needs --stream") }
        if textStream && (text != nil || textFile != nil) { throw ValidationError("--text-stream reads standard input: give no --text or --text-file") }
        if textStream && referenceText != nil {
            throw ValidationError("--text-stream cannot use in-context cloning (--reference-text) yet: clone from the x-vector only")
        }
        if floatSamples && ![.wav, .pcm].contains(outputFormat) {
            throw ValidationError("--float applies to WAV and PCM only; this writes \(outputFormat.rawValue)")
        }
        if !TimeStretcher.range.contains(speed) { throw ValidationError("--speed must be between 0.25 and 4") }
        if let textLayout, TextLayout(rawValue: textLayout) == nil {
            throw ValidationError("--text-layout must be streaming or non-streaming")
        }
    }

    /// The format written: --format, else the output's extension, else WAV (raw PCM on stdout).
    var outputFormat: AudioFormat { format ?? (output == "-" ? .pcm : AudioFormat(fileName: output) ?? .wav) }

    func run() async throws {
        // Before minutes of model loading: a codec library that is missing is said at once.
        if let why = outputFormat.unavailableReason { throw CommandError(why) }
        let input = textStream ? "" : try readText()
        var request = SynthesisRequest(text: input, language: language, speaker: speaker, instruct: instruct)
        request.textLayout = textLayout.flatMap(TextLayout.init(rawValue:))
        let options = try sampling.generationOptions()
        let loaded = try CommandSupport.loadModel(model, threads: threads, weights: quant, decoder: decoder.precision)
        if let referenceAudio {
            request.setVoice(try CommandSupport.cloneVoice(loaded, audio: referenceAudio, name: "reference", transcript: referenceText,
                                                           appendSilence: appendSilence))
        }
        if let voice {
            request.setVoice(try CommandSupport.loadVoice(loaded, voice))
        }
        if stream {
            try await runStreaming(loaded, request: request, options: options)
            return
        }
        let result = try CommandSupport.run { try loaded.synthesize(request, options: options) }
        var audio = result.audio
        if speed != 1 {
            let stretcher = TimeStretcher(speed: speed, sampleRate: result.sampleRate)
            audio = stretcher.process(audio) + stretcher.finish()
        }
        let encoding: WAVEncoding = floatSamples ? .float32 : .pcm16
        switch outputFormat {
        case .wav: try CommandSupport.write(WAV.encode(audio, sampleRate: result.sampleRate, encoding: encoding), to: output)
        case .pcm: try CommandSupport.write(WAV.pcm(audio, encoding: encoding), to: output)
        default:
            let encoder = try outputFormat.makeEncoder(sampleRate: result.sampleRate)
            try CommandSupport.write(Data(try encoder.encode(audio) + encoder.finish()), to: output)
        }
        if let codesOutput {
            try CommandSupport.write(CommandSupport.codesJSON(result.codes), to: codesOutput)
        }
        CommandSupport.printSummary(result)
    }

    /// Streams to a WAV file rewritten after every chunk, or the format's bytes appended to a file
    /// or standard output as the codec produces them.
    private func runStreaming(_ m: Qwen3TTSModel, request: SynthesisRequest, options: GenerationOptions) async throws {
        var s = StreamOptions()
        s.firstChunkFrames = outputFormat.firstChunkFrames(atLeast: firstChunkFrames, samplesPerFrame: m.samplesPerFrame)
        s.chunkFrames = chunkFrames
        let sink = try StreamingSink(output: output, format: outputFormat, sampleRate: m.sampleRate, floatSamples: floatSamples)
        let stretcher = speed == 1 ? nil : TimeStretcher(speed: speed, sampleRate: m.sampleRate)
        var frames = 0, samples = 0, firstAudio = 0.0
        var failure: Error?
        let start = ContinuousClock.now
        func take(_ chunk: AudioChunk) {
            if frames == 0 { firstAudio = chunk.elapsed }
            frames += chunk.frames
            let audio = stretcher?.process(chunk.samples) ?? chunk.samples
            samples += audio.count
            guard failure == nil else { return }
            do { try sink.append(audio) } catch { failure = error }
        }
        if textStream {
            // Standard input is spoken as it arrives; generation waits for text it has not got.
            let (input, audio) = try CommandSupport.run { try m.streamText(request, options: options, streaming: s) }
            let inputError = InputError()
            TextArrival.readStandardInput(take: { try input.append($0) }, end: { error in
                inputError.set(error)
                input.finish()
            })
            // Unreadable input stops the request (leaving the loop cancels it) and is the error
            // reported, before whatever the stream then says.
            // (A reader refused because the request already stopped has nothing to add.)
            func inputFailure() -> Error? {
                guard let e = inputError.value, !(e is CancellationError) else { return nil }
                return e as? CommandError ?? CommandError("standard input: \(e)")
            }
            do {
                for try await chunk in audio {
                    if inputError.value != nil { break }
                    take(chunk)
                    if failure != nil { break }
                }
            } catch let e as SynthesisError {
                throw inputFailure() ?? CommandError(e.description)
            }
            if let error = inputFailure() { throw error }
        } else {
            try CommandSupport.run { try m.produce(request, options: options, streaming: s, emit: take) }
        }
        if let failure { throw CommandError("cannot write \(output): \(failure)") }
        let tail = stretcher?.finish() ?? []
        samples += tail.count
        try sink.finish(tail)
        let wall = (ContinuousClock.now - start).seconds
        let audio = Double(samples) / Double(m.sampleRate)
        FileHandle.standardError.write(Data(String(format: "%d frames, %.2f s audio, %.2f s wall, RTF %.3f, first audio after %.3f s (streamed)\n",
                                                   frames, audio, wall, audio > 0 ? wall / audio : 0, firstAudio).utf8))
    }

    private func readText() throws -> String {
        let raw: String
        if let text {
            raw = text
        } else if let textFile {
            raw = try CommandSupport.text(of: try CommandSupport.read(textFile, limit: TextLimits.maximumTextBytes, what: "text file"), source: textFile)
        } else {
            raw = try CommandSupport.text(of: try CommandSupport.readStandardInput(), source: "standard input")
        }
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw CommandError("the text is empty (give --text, --text-file or standard input)") }
        return text != nil ? raw : trimmed
    }
}

/// Sampling options shared by the commands that generate.
struct SamplingOptions: ParsableArguments {
    @Flag(name: .long, help: "Greedy decoding (argmax after the official logit processors); deterministic.")
    var greedy = false

    @Option(name: .long, help: "Sampling temperature for code 0 (default: the model's).")
    var temperature: Float?

    @Option(name: .customLong("top-k"), help: "Top-k for code 0 (0 = off).")
    var topK: Int?

    @Option(name: .customLong("top-p"), help: "Top-p for code 0 (1 = off).")
    var topP: Float?

    @Option(name: .customLong("repetition-penalty"), help: "Repetition penalty over earlier code-0 values.")
    var repetitionPenalty: Float?

    @Option(name: .long, help: "Seed of the random number generator (default: random, printed in the summary).")
    var seed: UInt64?

    @Option(name: .customLong("max-frames"), help: """
        Stop after this many frames (12.5 per second of audio). Default: 60 + 10 per text token, \
        at most the model's max_new_tokens - 1.
        """)
    var maxFrames: Int?

    func generationOptions() throws -> GenerationOptions {
        var o = GenerationOptions()
        o.greedy = greedy
        o.temperature = temperature
        o.topK = topK
        o.topP = topP
        o.repetitionPenalty = repetitionPenalty
        o.seed = seed
        o.maxFrames = maxFrames
        do {
            try o.validate()  // the model's own frame cap is checked once it is loaded
        } catch let e as SynthesisError {
            throw ValidationError(e.description)
        }
        return o
    }
}

extension AudioFormat: ExpressibleByArgument {}

/// Where streamed audio goes: a WAV file valid after every chunk, or encoded bytes appended to a
/// file or written to standard output as they come (through `client`'s AudioSink).
private final class StreamingSink {
    private let wav: WAVStreamWriter?
    private let sink: AudioSink?
    /// nil for float PCM, written as it is.
    private let encoder: (any AudioStreamEncoder)?

    init(output: String, format: AudioFormat, sampleRate: Int, floatSamples: Bool) throws {
        if format == .wav && output != "-" {
            wav = try WAVStreamWriter(path: output, sampleRate: sampleRate, encoding: floatSamples ? .float32 : .pcm16)
            sink = nil
            encoder = nil
            return
        }
        wav = nil
        encoder = floatSamples && format == .pcm ? nil : try format.makeEncoder(sampleRate: sampleRate)
        sink = try AudioSink(output: output, playCommand: nil, format: format.rawValue)
    }

    func append(_ samples: [Float]) throws {
        if let wav { return try wav.append(samples) }
        let bytes = try encoder.map { Data(try $0.encode(samples)) } ?? WAV.pcm(samples, encoding: .float32)
        if !bytes.isEmpty { try sink?.write(bytes) }
    }

    func finish(_ samples: [Float]) throws {
        if let wav {
            if !samples.isEmpty { try wav.append(samples) }
            return try wav.close()
        }
        if !samples.isEmpty { try append(samples) }
        if let encoder { try sink?.write(Data(try encoder.finish())) }
        try sink?.finish()
    }
}
