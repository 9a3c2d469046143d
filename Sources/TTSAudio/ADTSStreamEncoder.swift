// AAC-LC through libavcodec (CTTSCodecs), each access unit behind an ADTS header.
import CTTSCodecs

final class ADTSStreamEncoder: AudioStreamEncoder {
    /// 64 kbit/s mono AAC-LC.
    static let bitrate = 64_000
    private let handle: OpaquePointer
    private let frequencyIndex: UInt8
    private var frames: FrameQueue
    private var finished = false

    /// ADTS sampling_frequency_index values (ISO/IEC 14496-3, table 1.18).
    static let frequencies = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]

    init(sampleRate: Int) throws {
        guard let index = Self.frequencies.firstIndex(of: sampleRate) else {
            throw CodecError(format: .aac, message: "ADTS has no sampling frequency index for \(sampleRate) Hz")
        }
        var frameSize: Int32 = 0
        handle = try CodecError.open(.aac) { tts_aac_open(Int32(sampleRate), Int32(Self.bitrate), &frameSize, $0, $1) }
        frequencyIndex = UInt8(index)
        frames = FrameQueue(size: Int(frameSize))
    }

    deinit { tts_aac_close(handle) }

    func encode(_ samples: [Float]) throws -> [UInt8] {
        var out: [UInt8] = []
        try frames.push(clamped(samples)) { frame in
            try send(frame)
            out += try receive()
        }
        return out
    }

    func finish() throws -> [UInt8] {
        guard !finished else { return [] }
        finished = true
        let tail = frames.drain()
        if !tail.isEmpty { try send(tail) }
        guard tts_aac_send(handle, nil, 0) == 0 else { throw CodecError(format: .aac, message: "libavcodec failed to flush the aac encoder") }
        return try receive()
    }

    private func send(_ frame: [Float]) throws {
        let status = tts_aac_send(handle, frame, Int32(frame.count))
        guard status == 0 else { throw CodecError(format: .aac, message: "libavcodec failed to encode aac (error \(status))") }
    }

    /// Every access unit the encoder has ready, framed.
    private func receive() throws -> [UInt8] {
        var out: [UInt8] = []
        var unit = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = unit.withUnsafeMutableBufferPointer { tts_aac_receive(handle, $0.baseAddress, Int32($0.count)) }
            guard n >= 0 else { throw CodecError(format: .aac, message: "libavcodec failed to encode aac (error \(n))") }
            if n == 0 { return out }
            out += header(payload: Int(n)) + unit.prefix(Int(n))
        }
    }

    /// A 7-byte ADTS header without CRC: MPEG-4, AAC-LC, mono, the frame length, VBR fullness.
    private func header(payload: Int) -> [UInt8] {
        let length = payload + 7
        let profile: UInt8 = 1  // audio object type 2 (LC) minus one
        let channels: UInt8 = 1
        return [
            0xFF, 0xF1,
            profile << 6 | frequencyIndex << 2 | channels >> 2,
            (channels & 3) << 6 | UInt8(length >> 11),
            UInt8((length >> 3) & 0xFF),
            UInt8((length & 7) << 5) | 0x1F,
            0xFC,
        ]
    }
}
