// Bytes on the wire for streamed audio: WAV/PCM, raw or as server-sent events.
import Foundation
import NIOCore
import TTSRuntime

/// Encodes a stream of sample chunks as the response body.
struct AudioEncoder {
    let format: AudioFormat
    let streamFormat: StreamFormat
    let sampleRate: Int
    private var headerSent = false

    init(format: AudioFormat, streamFormat: StreamFormat, sampleRate: Int) {
        self.format = format
        self.streamFormat = streamFormat
        self.sampleRate = sampleRate
    }

    var contentType: String { streamFormat == .sse ? "text/event-stream" : format.contentType }

    /// The body bytes for one chunk (the first carries the WAV header).
    mutating func encode(_ samples: [Float]) -> ByteBuffer {
        var audio = Data()
        if format == .wav && !headerSent { audio.append(WAV.header(sampleRate: sampleRate, encoding: .pcm16, sampleCount: nil)) }
        headerSent = true
        audio.append(WAV.pcm(samples, encoding: .pcm16))
        switch streamFormat {
        case .audio:
            return ByteBuffer(bytes: audio)
        case .sse:
            return Self.event(["type": "speech.audio.delta", "audio": audio.base64EncodedString()])
        }
    }

    /// What ends the body: nothing for raw audio; the "done" event for SSE.
    func finish(inputCharacters: Int, frames: Int) -> ByteBuffer? {
        guard streamFormat == .sse else { return nil }
        // OpenAI reports token usage; here input is counted in characters and output in frames.
        let usage: [String: Any] = ["input_tokens": inputCharacters, "output_tokens": frames, "total_tokens": inputCharacters + frames]
        return Self.event(["type": "speech.audio.done", "usage": usage])
    }

    private static func event(_ object: [String: Any]) -> ByteBuffer {
        var b = ByteBuffer(string: "data: ")
        b.writeBytes(jsonBody(object))
        b.writeString("\n\n")
        return b
    }
}
