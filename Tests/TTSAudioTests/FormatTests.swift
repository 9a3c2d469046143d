// Every output format, encoded here and decoded by ffmpeg: the rate, the length and the signal
// must survive (bit-exact for FLAC, a stated correlation for the lossy codecs).
import Foundation
import Testing
import TTSRuntime
import TTSTestSupport
@testable import TTSAudio

/// A speech-like test signal: a 140 Hz voice with harmonics, a slow vibrato and an amplitude
/// envelope, 2 s at 24 kHz.
func voiceLikeSignal(seconds: Double = 2, rate: Int = 24_000, pitch: Double = 140) -> [Float] {
    (0..<Int(seconds * Double(rate))).map { i in
        let t = Double(i) / Double(rate)
        // The phase of a 3 Hz, 3 % vibrato around `pitch`.
        let phase = 2 * .pi * pitch * t - 0.03 * pitch / 3 * cos(2 * .pi * 3 * t)
        let envelope = 0.35 * (0.6 + 0.4 * sin(2 * .pi * 1.3 * t))
        return Float(envelope * (sin(phase) + 0.5 * sin(2 * phase) + 0.25 * sin(3 * phase)))
    }
}

/// Encodes `samples` in chunks of `chunk` (as the server streams) and returns the bytes.
func encode(_ samples: [Float], as format: AudioFormat, chunk: Int = 7680) throws -> [UInt8] {
    let encoder = try format.makeEncoder(sampleRate: 24_000)
    var out: [UInt8] = []
    var i = 0
    while i < samples.count {
        out += try encoder.encode(Array(samples[i..<min(i + chunk, samples.count)]))
        i += chunk
    }
    return out + (try encoder.finish())
}

/// The samples the WAV carries (16-bit), as floats.
func wavSamples(_ samples: [Float]) -> [Float] { samples.map { Float(WAV.pcm16($0)) / 32768 } }

@Suite("Output formats") struct FormatTests {
    static let shouldRun = EndToEnd.shouldRun(needing: AudioDecoding.ffmpeg)
    let signal = voiceLikeSignal()

    /// The decoded lossy stream must match the WAV at least this well once aligned: measured
    /// 0.999 and above for all three at their bit rates on this signal; 0.98 leaves room for
    /// encoder versions without letting a broken stream (wrong rate, gaps, a channel mix-up) pass.
    static let lossyCorrelation = 0.98

    @Test("flac decodes to exactly the WAV's samples", .enabled(if: shouldRun))
    func flacIsLossless() throws {
        try #require(AudioFormat.flac.unavailableReason == nil, "\(AudioFormat.flac.unavailableReason ?? "")")
        let decoded = try AudioDecoding.decode(try encode(signal, as: .flac), format: "flac")
        #expect(decoded.sampleRate == 24_000)
        #expect(firstDifference(decoded.samples, wavSamples(signal)) == nil)
    }

    @Test("mp3, opus and aac decode at 24 kHz, the same length and close to the WAV", .enabled(if: shouldRun),
          arguments: [AudioFormat.mp3, .opus, .aac])
    func lossy(_ format: AudioFormat) throws {
        try #require(format.unavailableReason == nil, "\(format.unavailableReason ?? "")")
        let bytes = try encode(signal, as: format)
        // Opus decoders always run at 48 kHz (the 24 kHz input rate is in OpusHead, checked in
        // ContainerTests): compare after resampling back.
        let decoded = try AudioDecoding.decode(bytes, format: format.rawValue, rate: format == .opus ? 24_000 : nil)
        #expect(decoded.sampleRate == (format == .opus ? 48_000 : 24_000))
        // Within one model frame (1920 samples) plus the codec's padding: one MP3 granule pair
        // (1152) plus LAME's delay (~1105), one AAC frame (1024) plus its priming (1024); Opus
        // trims exactly (pre-skip and end granule).
        let slack = 1920 + (format == .opus ? 0 : 2304)
        #expect(abs(decoded.samples.count - signal.count) <= slack, "\(decoded.samples.count) vs \(signal.count)")
        if format == .opus { #expect(decoded.samples.count == signal.count) }
        let (correlation, delay) = AudioDecoding.alignedCorrelation(wavSamples(signal), decoded.samples, maxDelay: 2400)
        print("\(format.rawValue): \(bytes.count) bytes, correlation \(correlation) at delay \(delay), \(decoded.samples.count) samples")
        #expect(correlation >= Self.lossyCorrelation, "\(format): correlation \(correlation) at delay \(delay)")
    }

    /// Ogg Opus is left out: each chunk ends an Ogg page (so that it goes out at once); its
    /// packets are compared in ContainerTests.
    @Test("the bytes do not depend on how the samples were chunked", arguments: AudioFormat.allCases.filter { $0 != .opus })
    func chunking(_ format: AudioFormat) throws {
        try #require(format.unavailableReason == nil || !Self.shouldRun, "\(format.unavailableReason ?? "")")
        guard format.unavailableReason == nil else { return }
        #expect(firstDifference(try encode(signal, as: format, chunk: 7680), try encode(signal, as: format, chunk: 1000)) == nil)
    }

    /// PCM and ADTS have no stream header: empty is their empty stream.
    @Test("an empty stream is still a valid file", .enabled(if: shouldRun), arguments: [AudioFormat.wav, .mp3, .opus, .flac])
    func emptyStream(_ format: AudioFormat) throws {
        try #require(format.unavailableReason == nil, "\(format.unavailableReason ?? "")")
        let bytes = try encode([], as: format)
        #expect(!bytes.isEmpty)
        let decoded = try AudioDecoding.decode(bytes, format: format.rawValue, rate: 24_000)
        #expect(decoded.samples.count <= 2304)
    }
}
