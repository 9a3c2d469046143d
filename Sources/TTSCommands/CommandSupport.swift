// Shared helpers for commands: loading, error reporting, output files, summaries.
import ArgumentParser
import Foundation
import TTSHub
import Qwen3TTS
import TTSRuntime

extension WeightType: ExpressibleByArgument {}

/// A failure with a message for the user; exits with status 1.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

enum CommandSupport {
    /// Largest reference recording read: 60 s of 48 kHz stereo 64-bit float is 46 MB.
    static let maximumReferenceFileBytes = 64 << 20

    /// The bytes of `path`, at most `limit` of them: a larger file is refused after reading one
    /// byte past the limit, never loaded whole.
    static func read(_ path: String, limit: Int, what: String) throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw CommandError("cannot read \(what) \(path)") }
        defer { try? handle.close() }
        return try read(handle, limit: limit, source: path)
    }

    /// Standard input, at most one request's text.
    static func readStandardInput() throws -> Data {
        try read(.standardInput, limit: TextLimits.maximumTextBytes, source: "standard input")
    }

    private static func read(_ handle: FileHandle, limit: Int, source: String) throws -> Data {
        let data: Data
        do {
            data = try handle.read(upToCount: limit + 1) ?? Data()
        } catch {
            throw CommandError("cannot read \(source): \(error.localizedDescription)")
        }
        guard data.count <= limit else { throw CommandError("\(source) is over \(limit) bytes, the limit of what it may hold") }
        return data
    }

    /// `data` as UTF-8 text, or an error naming `source`.
    static func text(of data: Data, source: String) throws -> String {
        guard let s = String(data: data, encoding: .utf8) else { throw CommandError("\(source) is not UTF-8 text") }
        return s
    }
    /// Loads a model, turning load errors into messages that name the file or tensor.
    static func loadModel(_ argument: String, threads: Int? = nil, weights: WeightType? = nil,
                          decoder: ConvPrecision = .f32, kvCache: KVPrecision? = nil) throws -> Qwen3TTSModel {
        let path = ModelStore.fromEnvironment().resolveModelArgument(argument)  // a pulled model's name too
        do {
            return try Qwen3TTSModel.load(path: path, threads: threads, weights: weights, decoder: decoder, kvCache: kvCache)
        } catch {
            throw CommandError("cannot load model \(argument): \(error)")
        }
    }

    /// A voice cloned from a reference WAV (in context when `transcript` is given), with the
    /// file and audio errors as messages.
    static func cloneVoice(_ model: Qwen3TTSModel, audio path: String, name: String, transcript: String?,
                           appendSilence: Double) throws -> VoiceFile {
        let data = try read(path, limit: maximumReferenceFileBytes, what: "reference audio")
        do {
            return try model.makeVoice(name: name, audio: WAVReader.read(data), transcript: transcript, appendSilence: appendSilence)
        } catch let e as AudioInputError {
            throw CommandError("\(path): \(e)")
        } catch let e as SynthesisError {
            throw CommandError(e.description)
        }
    }

    /// A .voice file, refused if another model made it.
    static func loadVoice(_ model: Qwen3TTSModel, _ path: String) throws -> VoiceFile {
        let data = try read(path, limit: VoiceFile.maximumFileBytes, what: "voice file")
        do {
            let voice = try VoiceFile.decode(data, source: path)
            try model.check(voice, source: path)
            return voice
        } catch let e as VoiceError {
            throw CommandError(e.description)
        } catch let e as SynthesisError {
            throw CommandError(e.description)
        }
    }

    @discardableResult
    static func run<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as SynthesisError {
            throw CommandError(e.description)
        }
    }

    /// Writes a file atomically; "-" writes to standard output.
    static func write(_ data: Data, to path: String) throws {
        if path == "-" {
            FileHandle.standardOutput.write(data)
            return
        }
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw CommandError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    static func codesJSON(_ codes: [[Int]]) -> Data {
        let rows = codes.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }
        return Data(("[" + rows.joined(separator: ",\n ") + "]\n").utf8)
    }

    static func printSummary(_ r: SynthesisResult) {
        let line = String(format: "%d frames, %.2f s audio, %.2f s wall, RTF %.3f, seed %llu%@\n",
                          r.codes.count, r.audioSeconds, r.timings.total, r.realTimeFactor, r.seed,
                          r.finished ? "" : " (frame limit reached)")
        FileHandle.standardError.write(Data(line.utf8))
    }
}

extension ConvPrecision: ExpressibleByArgument {}

/// `--decoder f32|bf16`, shared by the commands that load a model to make audio.
struct DecoderOption: ParsableArguments {
    @Option(name: .customLong("decoder"), help: """
        Arithmetic of the speech decoder's convolutions: f32 (reference, fastest here) or bf16 \
        (half their weight memory; differs from f32 by ~0.4% of the peak; AVX-512 BF16 dot \
        products where present, which on the development CPU run slower than f32 FMAs).
        """)
    var precision: ConvPrecision = .f32
}
