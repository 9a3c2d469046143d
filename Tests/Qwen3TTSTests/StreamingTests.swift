// Streaming decoding equals one-shot decoding for any chunking.
import Foundation
import Testing
import TTSRuntime
@testable import Qwen3TTS

@Suite struct StreamingDecoderTests {
    /// Decodes `codes` in chunks whose sizes cycle through `sizes`.
    func streamed(_ model: Qwen3TTSModel, _ codes: [[Int]], sizes: [Int]) throws -> [Float] {
        let decoder = model.makeStreamingDecoder()
        var out: [Float] = []
        var i = 0, k = 0
        while i < codes.count {
            let n = min(sizes[k % sizes.count], codes.count - i)
            out += try decoder.decode(Array(codes[i..<(i + n)]))
            i += n
            k += 1
        }
        #expect(decoder.framesDecoded == codes.count)
        return out
    }

    static let chunkings: [[Int]] = [[1], [2], [3], [7], [25], [5, 1, 9, 2, 17, 3, 30, 1]]

    @Test(arguments: chunkings)
    func fixtureCodesAnyChunking(sizes: [Int]) throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        for name in ["cv0-ryan-english", "cv0-vivian-chinese"] {
            let codes = try Fixtures.loadCase(name).codes
            let whole = try model.decode(codes: codes)
            let pieces = try streamed(model, codes, sizes: sizes)
            #expect(pieces.count == whole.count)
            #expect(maxAbsoluteDifference(pieces, whole) <= 1e-5, "\(name) chunks \(sizes)")
        }
    }

    @Test(arguments: chunkings)
    func longRunAcrossTheAttentionWindow(sizes: [Int]) throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        var rng = SeededRNG(seed: 300)
        let codes = (0..<320).map { _ in (0..<16).map { _ in Int(rng.next() % 2048) } }
        let whole = try model.decode(codes: codes)
        let pieces = try streamed(model, codes, sizes: sizes)
        #expect(pieces.count == 320 * 1920)
        #expect(maxAbsoluteDifference(pieces, whole) <= 1e-5, "chunks \(sizes)")
    }

    @Test func streamingMemoryStaysBounded() throws {
        let model = try Fixtures.model("tiny-cv-0b6")
        let decoder = model.makeStreamingDecoder()
        for f in 0..<200 { _ = try decoder.decode([(0..<16).map { ($0 * 7 + f) % 2048 }]) }
        #expect(decoder.state.cache.count <= model.speechDecoder.config.slidingWindow + 1)
        #expect(decoder.state.cache.nextPosition == 200)
    }

    @Test func invalidCodesAreRejected() throws {
        let decoder = try Fixtures.model("tiny-cv-0b6").makeStreamingDecoder()
        #expect(throws: SynthesisError.self) { try decoder.decode([[1, 2, 3]]) }
        #expect(throws: SynthesisError.self) { try decoder.decode([[Int](repeating: 4096, count: 16)]) }
    }
}
