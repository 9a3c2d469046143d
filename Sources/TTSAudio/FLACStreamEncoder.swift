// FLAC through libFLAC (CTTSCodecs): the same 16-bit samples as the WAV, losslessly.
import CTTSCodecs
import TTSRuntime

final class FLACStreamEncoder: AudioStreamEncoder {
    /// libFLAC's default trade-off between size and speed.
    static let level = 5
    private let handle: OpaquePointer
    private var finished = false

    init(sampleRate: Int) throws {
        handle = try CodecError.open(.flac) { tts_flac_open(Int32(sampleRate), Int32(Self.level), $0, $1) }
    }

    deinit { tts_flac_close(handle) }

    func encode(_ samples: [Float]) throws -> [UInt8] {
        let pcm = samples.map { Int32(WAV.pcm16($0)) }
        if !pcm.isEmpty {
            guard tts_flac_encode(handle, pcm, Int32(pcm.count)) == 0 else {
                throw CodecError(format: .flac, message: "libFLAC failed to encode")
            }
        }
        return take()
    }

    func finish() throws -> [UInt8] {
        guard !finished else { return [] }
        finished = true
        guard tts_flac_finish(handle) == 0 else { throw CodecError(format: .flac, message: "libFLAC failed to finish the stream") }
        return take()
    }

    private func take() -> [UInt8] {
        var length = 0
        guard let bytes = tts_flac_take(handle, &length), length > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: bytes, count: length))
    }
}
