// The containers written here (Ogg pages, ADTS headers) checked field by field.
import Foundation
import Testing
import TTSTestSupport
@testable import TTSAudio

@Suite("Containers") struct ContainerTests {
    @Test("Ogg CRC-32 known answers")
    func oggCRC() {
        // The CRC-32/MPEG-2 style polynomial without reflection, initial 0 ("CRC-32/BZIP2"
        // without its inversions): check value for "123456789".
        #expect(OggCRC.checksum(Array("123456789".utf8)) == 0x89A1_897F)
        #expect(OggCRC.checksum([]) == 0)
    }

    /// Splits a byte stream into Ogg pages, checking each page's capture pattern and CRC.
    func pages(_ bytes: [UInt8]) throws -> [(flags: UInt8, granule: Int64, sequence: UInt32, packets: [[UInt8]])] {
        var result: [(UInt8, Int64, UInt32, [[UInt8]])] = []
        var o = 0
        while o < bytes.count {
            try #require(bytes.count - o >= 27 && Array(bytes[o..<o + 4]) == Array("OggS".utf8))
            let segments = Int(bytes[o + 26])
            let lacing = Array(bytes[o + 27..<o + 27 + segments])
            let length = 27 + segments + lacing.reduce(0) { $0 + Int($1) }
            var page = Array(bytes[o..<o + length])
            let crc = page[22..<26].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
            page.replaceSubrange(22..<26, with: [0, 0, 0, 0])
            #expect(OggCRC.checksum(page) == crc)
            let granule = page[6..<14].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
            let sequence = page[18..<22].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
            var packets: [[UInt8]] = [], current: [UInt8] = [], p = 27 + segments
            for v in lacing {
                current += page[p..<p + Int(v)]
                p += Int(v)
                if v < 255 { packets.append(current); current = [] }
            }
            result.append((page[5], Int64(bitPattern: granule), sequence, packets))
            o += length
        }
        return result
    }

    @Test("Ogg pages: begin and end flags, sequence numbers, lacing of long packets")
    func oggPages() throws {
        var w = OggPageWriter(serial: 7)
        var bytes = w.add([UInt8](repeating: 1, count: 19), granule: 0) + w.flush()
        bytes += w.add([UInt8](repeating: 2, count: 600), granule: 960)
        bytes += w.add([UInt8](repeating: 3, count: 255), granule: 1920)
        bytes += w.flush(last: true)
        let p = try pages(bytes)
        #expect(p.count == 2)
        #expect(p[0].flags == 0x02 && p[0].sequence == 0 && p[0].packets == [[UInt8](repeating: 1, count: 19)])
        #expect(p[1].flags == 0x04 && p[1].sequence == 1 && p[1].granule == 1920)
        #expect(p[1].packets == [[UInt8](repeating: 2, count: 600), [UInt8](repeating: 3, count: 255)])
    }

    @Test("Ogg Opus: headers on their own pages, pre-skip, final granule at the real end", .enabled(if: AudioFormat.opus.unavailableReason == nil))
    func oggOpusLayout() throws {
        let encoder = try AudioFormat.opus.makeEncoder(sampleRate: 24_000)
        let samples = [Float](repeating: 0.1, count: 24_000 + 123)
        let bytes = try encoder.encode(samples) + encoder.finish()
        let p = try pages(bytes)
        #expect(Array(p[0].packets[0].prefix(8)) == Array("OpusHead".utf8))
        #expect(p[0].packets.count == 1 && p[0].flags == 0x02)
        #expect(Array(p[1].packets[0].prefix(8)) == Array("OpusTags".utf8))
        let head = p[0].packets[0]
        let preSkip = Int64(head[10]) | Int64(head[11]) << 8
        let inputRate = head[12..<16].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(inputRate == 24_000 && preSkip > 0)
        #expect(p.last!.flags & 0x04 != 0)
        #expect(p.last!.granule == preSkip + Int64(samples.count) * 2)
        #expect(p.dropFirst(2).allSatisfy { !$0.packets.isEmpty || $0.flags & 0x04 != 0 })
    }

    @Test("Ogg Opus: the same packets whatever the chunking (only the pages differ)", .enabled(if: AudioFormat.opus.unavailableReason == nil))
    func oggOpusChunking() throws {
        let signal = voiceLikeSignal(seconds: 1)
        let a = try pages(encode(signal, as: .opus, chunk: 7680)), b = try pages(encode(signal, as: .opus, chunk: 1000))
        #expect(a.flatMap(\.packets) == b.flatMap(\.packets))
        #expect(a.last!.granule == b.last!.granule)
    }

    @Test("ADTS: every header has the sync word, AAC-LC, 24 kHz, mono and its frame's length", .enabled(if: AudioFormat.aac.unavailableReason == nil))
    func adts() throws {
        let encoder = try AudioFormat.aac.makeEncoder(sampleRate: 24_000)
        let bytes = try encoder.encode(voiceLikeSignal(seconds: 0.5)) + encoder.finish()
        var o = 0, frames = 0
        while o < bytes.count {
            try #require(bytes.count - o >= 7)
            #expect(bytes[o] == 0xFF && bytes[o + 1] == 0xF1)
            #expect(bytes[o + 2] >> 6 == 1)           // LC
            #expect((bytes[o + 2] >> 2) & 0xF == 6)   // 24 kHz
            let channels = (bytes[o + 2] & 1) << 2 | bytes[o + 3] >> 6
            #expect(channels == 1)
            let length = Int(bytes[o + 3] & 3) << 11 | Int(bytes[o + 4]) << 3 | Int(bytes[o + 5]) >> 5
            try #require(length > 7)
            o += length
            frames += 1
        }
        #expect(o == bytes.count)
        // 12000 samples: 12 frames of 1024 (the last short) plus the encoder's priming frame.
        #expect((12...14).contains(frames))
    }

    @Test("AAC gives its first bytes once it has 2048 samples, which a two-frame first chunk carries",
          .enabled(if: AudioFormat.aac.unavailableReason == nil))
    func aacFirstOutput() throws {
        let encoder = try AudioFormat.aac.makeEncoder(sampleRate: 24_000)
        let signal = voiceLikeSignal(seconds: 0.2)
        #expect(try encoder.encode(Array(signal[0..<1920])).isEmpty)
        #expect(try !encoder.encode(Array(signal[1920..<3840])).isEmpty)
        #expect(AudioFormat.aac.firstChunkFrames(atLeast: 1, samplesPerFrame: 1920) == 2)
        #expect(AudioFormat.mp3.firstChunkFrames(atLeast: 1, samplesPerFrame: 1920) == 1)
        #expect(AudioFormat.aac.firstChunkFrames(atLeast: 3, samplesPerFrame: 1920) == 3)
        for format in [AudioFormat.mp3, .opus, .flac, .wav] where format.unavailableReason == nil {
            #expect(try !format.makeEncoder(sampleRate: 24_000).encode(Array(signal[0..<1920])).isEmpty, "\(format)")
        }
    }

    @Test("file extensions choose the format")
    func extensions() {
        #expect(AudioFormat(fileName: "a.MP3") == .mp3)
        #expect(AudioFormat(fileName: "a.ogg") == .opus)
        #expect(AudioFormat(fileName: "x/y.flac") == .flac)
        #expect(AudioFormat(fileName: "noext") == nil)
    }
}
