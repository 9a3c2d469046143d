// Reference-audio input: WAV decoding of every supported encoding, downmixing, the errors for
// bad files, and the resampler's accuracy and anti-aliasing.
import Foundation
import Testing
@testable import TTSRuntime

/// A WAV file assembled by hand: `fmt ` with the given fields, then `data`.
func wavBytes(tag: Int, channels: Int, rate: Int, bits: Int, payload: [UInt8], dataSize: Int? = nil, extensible: Bool = false) -> Data {
    var d = Data()
    func u16(_ v: Int) { d.append(contentsOf: [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)]) }
    func u32(_ v: Int) { u16(v & 0xFFFF); u16((v >> 16) & 0xFFFF) }
    d.append(contentsOf: Array("RIFF".utf8)); u32(36 + payload.count); d.append(contentsOf: Array("WAVE".utf8))
    d.append(contentsOf: Array("LIST".utf8)); u32(3); d.append(contentsOf: [1, 2, 3, 0])  // odd-sized chunk + pad byte
    d.append(contentsOf: Array("fmt ".utf8)); u32(extensible ? 40 : 16)
    u16(extensible ? 0xFFFE : tag); u16(channels); u32(rate); u32(rate * channels * bits / 8); u16(channels * bits / 8); u16(bits)
    if extensible {
        u16(22); u16(bits); u32(0)
        u16(tag); d.append(contentsOf: [UInt8](repeating: 0, count: 14))
    }
    d.append(contentsOf: Array("data".utf8)); u32(dataSize ?? payload.count)
    d.append(contentsOf: payload)
    return d
}

@Suite(.tags(.kernelIndependent)) struct WAVReaderTests {
    @Test func sixteenBitAndFloatRoundTripThroughTheWriter() throws {
        let x: [Float] = (0..<1000).map { sin(Float($0) * 0.05) * 0.8 }
        let a = try WAVReader.read(WAV.encode(x, sampleRate: 24000, encoding: .pcm16))
        #expect(a.sampleRate == 24000 && a.samples.count == 1000)
        // The writer scales by 32767 (never clips), the reader divides by 32768 (as soundfile and
        // torchaudio do): within rounding plus |x|/32768.
        #expect(zip(a.samples, x).allSatisfy { abs($0 - $1) <= 1.5 / 32768 })
        let f = try WAVReader.read(WAV.encode(x, sampleRate: 16000, encoding: .float32))
        #expect(f.samples == x && f.sampleRate == 16000)
        // A streamed file (sizes "unknown") reads to its end.
        var streamed = WAV.header(sampleRate: 24000, encoding: .pcm16, sampleCount: nil)
        streamed.append(WAV.pcm(x, encoding: .pcm16))
        #expect(try WAVReader.read(streamed).samples.count == 1000)
    }

    @Test func twentyFourAndThirtyTwoBitPCMAndStereoDownmix() throws {
        // 24-bit: 0x400000 = 0.5, 0xC00000 = -0.5, 0x7FFFFF ~ 1.
        let p24: [UInt8] = [0x00, 0x00, 0x40, 0x00, 0x00, 0xC0, 0xFF, 0xFF, 0x7F]
        let a = try WAVReader.read(wavBytes(tag: 1, channels: 1, rate: 44100, bits: 24, payload: p24))
        #expect(a.samples[0] == 0.5 && a.samples[1] == -0.5 && abs(a.samples[2] - 1) < 1e-6)
        // 32-bit stereo: L = 0.5, R = -0.25 -> 0.125.
        let p32: [UInt8] = [0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0xE0]
        let b = try WAVReader.read(wavBytes(tag: 1, channels: 2, rate: 48000, bits: 32, payload: p32))
        #expect(b.samples == [0.125] && b.sourceChannels == 2)
        // WAVE_FORMAT_EXTENSIBLE carrying float.
        let pf = [Float(0.25), -0.75].flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } }
        let c = try WAVReader.read(wavBytes(tag: 3, channels: 1, rate: 22050, bits: 32, payload: pf, extensible: true))
        #expect(c.samples == [0.25, -0.75])
        // 64-bit float, plain and extensible, mono and stereo (read in double, kept in f32).
        let pd = [Double(0.5), -0.125, 0.1].flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian) { Array($0) } }
        let d = try WAVReader.read(wavBytes(tag: 3, channels: 1, rate: 16000, bits: 64, payload: pd))
        #expect(d.samples == [0.5, -0.125, Float(0.1)] && d.sampleRate == 16000)
        let e = try WAVReader.read(wavBytes(tag: 3, channels: 1, rate: 16000, bits: 64, payload: pd, extensible: true))
        #expect(e.samples == d.samples)
        let stereo = try WAVReader.read(wavBytes(tag: 3, channels: 2, rate: 16000, bits: 64, payload: Array(pd.prefix(16))))
        #expect(stereo.samples == [0.1875] && stereo.sourceChannels == 2)
    }

    @Test func badFilesGetNamedErrors() {
        func error(_ d: Data) -> AudioInputError? {
            do { _ = try WAVReader.read(d); return nil } catch { return error as? AudioInputError }
        }
        let ok = wavBytes(tag: 1, channels: 1, rate: 24000, bits: 16, payload: [0, 0, 0, 0])
        #expect(error(Data("ID3 not a wave file at all".utf8)).map { "\($0)" }?.hasPrefix("not a WAV file") == true)
        #expect(error(Data([0x52, 0x49])).map { "\($0)" }?.hasPrefix("not a WAV file") == true)
        #expect(error(Data(ok.prefix(ok.count - 2))).map { "\($0)" }?.contains("truncated") == true, "data cut short")
        #expect(error(wavBytes(tag: 1, channels: 1, rate: 24000, bits: 16, payload: [0, 0], dataSize: 400)).map { "\($0)" }?.contains("truncated") == true)
        #expect(error(wavBytes(tag: 1, channels: 1, rate: 24000, bits: 8, payload: [0, 0])).map { "\($0)" }?.contains("unsupported WAV encoding") == true)
        #expect(error(wavBytes(tag: 2, channels: 1, rate: 24000, bits: 16, payload: [0, 0])).map { "\($0)" }?.contains("format tag 2") == true)
        #expect(error(wavBytes(tag: 1, channels: 1, rate: 24000, bits: 16, payload: [])) == .empty)
        let nan = withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { Array($0) }
        #expect(error(wavBytes(tag: 3, channels: 1, rate: 24000, bits: 32, payload: [0, 0, 0, 0] + nan)) == .nonFinite(index: 1))
        let noData = ok.prefix(ok.count - 12)
        #expect(error(noData).map { "\($0)" }?.contains("no data chunk") == true)
    }

    @Test func referenceChecks() {
        let silent = AudioBuffer(samples: [Float](repeating: 1e-6, count: 24000), sampleRate: 24000)
        #expect(throws: AudioInputError.silent(peak: 1e-6)) { try silent.validatedForReference(maxSeconds: 30) }
        let long = AudioBuffer(samples: [Float](repeating: 0.1, count: 24000 * 31), sampleRate: 24000)
        #expect(throws: AudioInputError.tooLong(seconds: 31, limit: 30)) { try long.validatedForReference(maxSeconds: 30) }
        #expect(throws: AudioInputError.empty) { try AudioBuffer(samples: [], sampleRate: 24000).validatedForReference(maxSeconds: 30) }
    }
}

@Suite(.tags(.numerical)) struct ResamplerTests {
    func tone(_ hz: Double, rate: Int, count: Int) -> [Float] {
        (0..<count).map { Float(0.5 * sin(2 * Double.pi * hz * Double($0) / Double(rate))) }
    }

    @Test(arguments: [44100, 48000, 16000, 22050, 8000])
    func toneComesOutAtTheNewRate(from rate: Int) {
        let seconds = 0.5
        let x = tone(1000, rate: rate, count: Int(Double(rate) * seconds))
        let y = Resampler.resample(x, from: rate, to: 24000)
        #expect(y.count == Int((Double(x.count) * 24000 / Double(rate)).rounded()))
        let expected = tone(1000, rate: 24000, count: y.count)
        // Away from the edges (where the filter runs off the signal) the error is tiny.
        let margin = 400
        let worst = zip(y[margin..<(y.count - margin)], expected[margin..<(y.count - margin)]).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-3, "\(rate) Hz: worst error \(worst)")
    }

    @Test func sameRateIsIdentityAndAliasesAreRemoved() {
        let x = tone(440, rate: 24000, count: 2400)
        #expect(Resampler.resample(x, from: 24000, to: 24000) == x)
        // 15 kHz at 48 kHz is above the 12 kHz Nyquist of 24 kHz: it must not fold back.
        let y = Resampler.resample(tone(15000, rate: 48000, count: 48000), from: 48000, to: 24000)
        let rms = (y[1000..<(y.count - 1000)].reduce(0) { $0 + Double($1 * $1) } / Double(y.count - 2000)).squareRoot()
        #expect(rms < 0.5 / 2.squareRoot() * 0.01, "alias rms \(rms) (over 40 dB down)")
    }
}
