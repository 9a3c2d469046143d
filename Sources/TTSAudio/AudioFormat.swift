// The audio formats the server and the CLI write, and how each is encoded.
import CTTSCodecs
import Foundation

/// OpenAI's six `response_format` values.
public enum AudioFormat: String, Sendable, CaseIterable {
    /// RIFF/WAVE, 16-bit PCM, mono (streamed with "unknown length" sizes).
    case wav
    /// Raw 16-bit little-endian PCM, mono, at the model's sample rate.
    case pcm
    /// MPEG-1/2 Layer III through LAME, constant bit rate.
    case mp3
    /// Opus through libopus in an Ogg container (RFC 7845).
    case opus
    /// AAC-LC through libavcodec in ADTS framing.
    case aac
    /// FLAC through libFLAC, 16-bit: decodes to exactly the WAV's samples.
    case flac

    public var contentType: String {
        switch self {
        case .wav: "audio/wav"
        case .pcm: "audio/pcm"
        case .mp3: "audio/mpeg"
        case .opus: "audio/ogg"
        case .aac: "audio/aac"
        case .flac: "audio/flac"
        }
    }

    /// The file name extension (".opus" for Ogg Opus, as players expect).
    public var fileExtension: String { rawValue }

    /// The format a file name asks for, by its extension (".ogg" is Opus).
    public init?(fileName: String) {
        let ext = (fileName as NSString).pathExtension.lowercased()
        if ext == "ogg" { self = .opus; return }
        guard let f = AudioFormat(rawValue: ext) else { return nil }
        self = f
    }

    var codec: tts_codec_kind? {
        switch self {
        case .wav, .pcm: nil
        case .mp3: TTS_CODEC_MP3
        case .opus: TTS_CODEC_OPUS
        case .aac: TTS_CODEC_AAC
        case .flac: TTS_CODEC_FLAC
        }
    }

    /// Whether this format can be written here; nil when it can, else why not (which library is
    /// missing and the package that provides it). WAV and PCM need nothing.
    public var unavailableReason: String? {
        guard let codec else { return nil }
        return CodecError.capture { why, size in tts_codec_available(codec, why, size) != 0 }
    }

    /// Samples the encoder must have before it gives out its first byte: AAC holds back 1024 of
    /// priming and then a whole 1024-sample frame; the others start within their first frame.
    public var samplesBeforeFirstOutput: Int { self == .aac ? 2048 : 0 }

    /// The first streamed chunk, in model frames of `samplesPerFrame`, long enough for this
    /// format's first bytes to go out with it (else the listener waits for the second chunk).
    public func firstChunkFrames(atLeast frames: Int, samplesPerFrame: Int) -> Int {
        max(frames, (samplesBeforeFirstOutput + samplesPerFrame - 1) / samplesPerFrame)
    }

    /// A fresh encoder for one stream of mono samples at `sampleRate`.
    public func makeEncoder(sampleRate: Int) throws -> any AudioStreamEncoder {
        switch self {
        case .wav: WAVStreamEncoder(sampleRate: sampleRate)
        case .pcm: PCMStreamEncoder()
        case .mp3: try MP3StreamEncoder(sampleRate: sampleRate)
        case .opus: try OggOpusStreamEncoder(sampleRate: sampleRate)
        case .aac: try ADTSStreamEncoder(sampleRate: sampleRate)
        case .flac: try FLACStreamEncoder(sampleRate: sampleRate)
        }
    }
}

/// A codec library is missing, or refused or failed the stream; the message says which and why.
public struct CodecError: Error, CustomStringConvertible, Equatable {
    public let format: AudioFormat
    public let message: String
    public var description: String { message }

    /// Runs a C call that reports failure through an error buffer: nil on success, else the text.
    static func capture(_ call: (UnsafeMutablePointer<CChar>, Int) -> Bool) -> String? {
        var buffer = [CChar](repeating: 0, count: 768)
        let ok = buffer.withUnsafeMutableBufferPointer { call($0.baseAddress!, $0.count) }
        return ok ? nil : String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Opens a codec handle, or throws what the C side reported.
    static func open<T>(_ format: AudioFormat, _ call: (UnsafeMutablePointer<CChar>, Int) -> T?) throws -> T {
        var handle: T?
        let why = capture { err, size in
            handle = call(err, size)
            return handle != nil
        }
        guard let handle else { throw CodecError(format: format, message: why ?? "\(format.rawValue) encoder failed to open") }
        return handle
    }
}
