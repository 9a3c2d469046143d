// Ogg Opus (RFC 7845) through libopus (CTTSCodecs): 20 ms packets, one page per chunk of audio.
import CTTSCodecs

final class OggOpusStreamEncoder: AudioStreamEncoder {
    /// 48 kbit/s mono: Opus is transparent for speech well below this.
    static let bitrate = 48_000
    /// Stream serial: fixed, so the same audio always gives the same bytes.
    static let serial: UInt32 = 0x5174_7473
    private let handle: OpaquePointer
    private let sampleRate: Int
    /// Opus granules count 48 kHz samples whatever the input rate.
    private let granulesPerSample: Int64
    private let preSkip: Int
    private var frames: FrameQueue
    private var ogg = OggPageWriter(serial: serial)
    private var samplesIn: Int64 = 0
    private var samplesEncoded: Int64 = 0
    private var headersSent = false
    private var finished = false

    init(sampleRate: Int) throws {
        guard [8000, 12000, 16000, 24000, 48000].contains(sampleRate) else {
            throw CodecError(format: .opus, message: "Opus encodes at 8, 12, 16, 24 or 48 kHz, not \(sampleRate) Hz")
        }
        var lookahead: Int32 = 0
        handle = try CodecError.open(.opus) { tts_opus_open(Int32(sampleRate), Int32(Self.bitrate), &lookahead, $0, $1) }
        self.sampleRate = sampleRate
        granulesPerSample = Int64(48_000 / sampleRate)
        preSkip = Int(lookahead)
        frames = FrameQueue(size: sampleRate / 50)
    }

    deinit { tts_opus_close(handle) }

    func encode(_ samples: [Float]) throws -> [UInt8] {
        var out = headers()
        samplesIn += Int64(samples.count)
        try frames.push(clamped(samples)) { out += try packet($0) }
        return out + ogg.flush()
    }

    func finish() throws -> [UInt8] {
        guard !finished else { return [] }
        finished = true
        var out = headers()
        // The encoder's look-ahead holds the last samples back: zeros push them out, and the
        // final granule position tells the decoder where the real audio ends.
        var tail = frames.drain()
        tail += [Float](repeating: 0, count: preSkip)
        tail += [Float](repeating: 0, count: (frames.size - tail.count % frames.size) % frames.size)
        var queue = FrameQueue(size: frames.size)
        try queue.push(tail) { out += try packet($0) }
        out += ogg.flush(last: true)
        return out
    }

    /// Encodes one frame; granules past the real end of the audio (the padding) are clipped to it.
    private func packet(_ frame: [Float]) throws -> [UInt8] {
        var data = [UInt8](repeating: 0, count: 1500)
        let n = data.withUnsafeMutableBufferPointer { tts_opus_encode(handle, frame, Int32(frame.count), $0.baseAddress, 1500) }
        guard n > 0 else { throw CodecError(format: .opus, message: "libopus failed to encode (error \(n))") }
        samplesEncoded += Int64(frame.count)
        let end = min(samplesEncoded, samplesIn + Int64(preSkip))
        return ogg.add(Array(data.prefix(Int(n))), granule: end * granulesPerSample)
    }

    /// OpusHead and OpusTags, each on a page of its own, before the first audio.
    private func headers() -> [UInt8] {
        guard !headersSent else { return [] }
        headersSent = true
        var head = Array("OpusHead".utf8) + [1, 1]
        head += littleEndian(UInt16(Int64(preSkip) * granulesPerSample))
        head += littleEndian(UInt32(sampleRate))
        head += littleEndian(Int16(0)) + [0]
        let vendor = Array("qwen3-tts-swift".utf8)
        let tags = Array("OpusTags".utf8) + littleEndian(UInt32(vendor.count)) + vendor + littleEndian(UInt32(0))
        var out = ogg.add(head, granule: 0) + ogg.flush()
        out += ogg.add(tags, granule: 0) + ogg.flush()
        return out
    }
}
