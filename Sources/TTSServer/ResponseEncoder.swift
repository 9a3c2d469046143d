// Bytes on the wire for streamed audio: any output format, raw or as server-sent events, at the
// requested speed.
import Foundation
import NIOCore
import TTSAudio

/// Turns a stream of sample chunks into the response body: time-stretched when `speed` is not 1,
/// encoded in `format`, and carried raw or as SSE deltas. Each chunk's bytes go out as soon as the
/// codec has them. Only the response body's writer uses it, one call after another (never
/// concurrently), hence `@unchecked Sendable`, as ChunkSource.
final class ResponseEncoder: @unchecked Sendable {
    let format: AudioFormat
    let streamFormat: StreamFormat
    private let encoder: any AudioStreamEncoder
    private let stretcher: TimeStretcher?

    /// Throws CodecError when the format's library is missing or refuses the stream.
    init(format: AudioFormat, streamFormat: StreamFormat, sampleRate: Int, speed: Double) throws {
        self.format = format
        self.streamFormat = streamFormat
        encoder = try format.makeEncoder(sampleRate: sampleRate)
        stretcher = speed == 1 ? nil : TimeStretcher(speed: speed, sampleRate: sampleRate)
    }

    var contentType: String { streamFormat == .sse ? "text/event-stream" : format.contentType }

    /// The body bytes for one chunk, or nil when the codec holds them back for now.
    func encode(_ samples: [Float]) throws -> ByteBuffer? {
        wrap(try encoder.encode(stretcher?.process(samples) ?? samples))
    }

    /// What ends the body: the codec's last bytes, then (SSE) the "done" event.
    func finish(inputCharacters: Int, frames: Int) throws -> ByteBuffer? {
        var tail = try encoder.encode(stretcher?.finish() ?? [])
        tail += try encoder.finish()
        var body = wrap(tail) ?? ByteBuffer()
        if streamFormat == .sse {
            // OpenAI reports token usage; here input is counted in characters and output in frames.
            let usage: [String: Any] = ["input_tokens": inputCharacters, "output_tokens": frames, "total_tokens": inputCharacters + frames]
            var done = Self.event(["type": "speech.audio.done", "usage": usage])
            body.writeBuffer(&done)
        }
        return body.readableBytes > 0 ? body : nil
    }

    private func wrap(_ audio: [UInt8]) -> ByteBuffer? {
        guard !audio.isEmpty else { return nil }
        switch streamFormat {
        case .audio: return ByteBuffer(bytes: audio)
        case .sse: return Self.event(["type": "speech.audio.delta", "audio": Data(audio).base64EncodedString()])
        }
    }

    private static func event(_ object: [String: Any]) -> ByteBuffer {
        var b = ByteBuffer(string: "data: ")
        b.writeBytes(jsonBody(object))
        b.writeString("\n\n")
        return b
    }
}
