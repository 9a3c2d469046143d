// MP3 through LAME (CTTSCodecs).
import CTTSCodecs

final class MP3StreamEncoder: AudioStreamEncoder {
    /// 64 kbit/s: MPEG-2 Layer III's range at 24 kHz goes to 160; speech is transparent well below.
    static let kbps = 64
    private let handle: OpaquePointer
    private var finished = false

    init(sampleRate: Int) throws {
        handle = try CodecError.open(.mp3) { tts_mp3_open(Int32(sampleRate), Int32(Self.kbps), $0, $1) }
    }

    deinit { tts_mp3_close(handle) }

    func encode(_ samples: [Float]) throws -> [UInt8] {
        guard !samples.isEmpty else { return [] }
        let input = clamped(samples)
        let capacity = input.count + input.count / 4 + 7200
        var out = [UInt8](repeating: 0, count: capacity)
        let n = out.withUnsafeMutableBufferPointer { tts_mp3_encode(handle, input, Int32(input.count), $0.baseAddress, Int32(capacity)) }
        guard n >= 0 else { throw CodecError(format: .mp3, message: "LAME failed to encode (error \(n))") }
        return Array(out.prefix(Int(n)))
    }

    func finish() throws -> [UInt8] {
        guard !finished else { return [] }
        finished = true
        var out = [UInt8](repeating: 0, count: 7200)
        let n = out.withUnsafeMutableBufferPointer { tts_mp3_flush(handle, $0.baseAddress, 7200) }
        guard n >= 0 else { throw CodecError(format: .mp3, message: "LAME failed to flush (error \(n))") }
        return Array(out.prefix(Int(n)))
    }
}
