// The speaker encoder's log-mel front end against the official function's output
// (Resources/mel, written by scripts/reference/mel_fixture.py; see its manifest.json).
import Foundation
import Testing
@testable import TTSRuntime

@Suite(.tags(.numerical)) struct MelSpectrogramTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Resources/mel/mel.safetensors").path

    @Test func matchesTheOfficialMelSpectrogram() throws {
        let store = try WeightStore(files: [SafetensorsFile(file: MappedFile(path: Self.fixture))])
        let audio = try store.floats("audio", shape: [30000])
        let expected = try store.floats("log_mel", shape: [117, 128])
        let (values, frames) = MelSpectrogram.speakerEncoder(audio)
        #expect(frames == 117)
        let worst = zip(values, expected).map { abs($0 - $1) }.max() ?? .infinity
        // log-mel values span about -11.5 (the clamp) to +3. Measured 6.7e-6: torch's float32 FFT
        // against this one's double accumulation; the bound leaves 15x for other machines.
        #expect(worst <= 1e-4, "max |Δ| \(worst)")
    }

    @Test func fftMatchesADirectTransform() {
        let n = 64
        let fft = FFT(size: n)
        var re = (0..<n).map { Double(sin(Double($0) * 0.37) + 0.1 * Double($0 % 5)) }, im = [Double](repeating: 0, count: n)
        let x = re
        fft.transform(&re, &im)
        for k in [0, 1, 7, 31, 32, 63] {
            var r = 0.0, i = 0.0
            for t in 0..<n {
                r += x[t] * cos(-2 * Double.pi * Double(k * t) / Double(n))
                i += x[t] * sin(-2 * Double.pi * Double(k * t) / Double(n))
            }
            #expect(abs(re[k] - r) < 1e-9 && abs(im[k] - i) < 1e-9, "bin \(k)")
        }
    }
}
