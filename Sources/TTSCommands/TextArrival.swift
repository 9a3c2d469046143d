// Text read as it arrives (`--text-stream`): standard input, piece by piece, as UTF-8.
import Foundation

/// Cuts bytes that arrive in pieces into UTF-8 text: a multi-byte character split between two
/// reads waits for its last bytes. Bytes that are not UTF-8 are an error.
struct UTF8Pieces {
    private var held: [UInt8] = []

    /// The text the bytes complete so far.
    mutating func append(_ bytes: some Collection<UInt8>) throws -> String {
        held += bytes
        // A character is at most 4 bytes: look back at most 3 for one still incomplete.
        var cut = held.count
        for back in 1...min(3, held.count) {
            let byte = held[held.count - back]
            if byte & 0xC0 == 0x80 { continue }  // a continuation byte: its start is further back
            let length = byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
            if length > back { cut = held.count - back }
            break
        }
        guard let text = String(validating: held[..<cut], as: UTF8.self) else { throw CommandError("the text is not UTF-8") }
        held.removeFirst(cut)
        return text
    }

    /// The end of the bytes: an incomplete character left over is an error.
    func finish() throws {
        if !held.isEmpty { throw CommandError("the text ends inside a UTF-8 character") }
    }
}

enum TextArrival {
    /// Reads standard input as it arrives and hands each piece of text to `take` (on a thread of
    /// its own), then calls `end` with nil at the end of the input or with the error that stopped
    /// it (unreadable input, bytes that are not UTF-8, or an error from `take`).
    static func readStandardInput(take: @escaping @Sendable (String) throws -> Void, end: @escaping @Sendable (Error?) -> Void) {
        let thread = Thread {
            var pieces = UTF8Pieces()
            do {
                while true {
                    let data = FileHandle.standardInput.availableData
                    if data.isEmpty { break }
                    let text = try pieces.append(data)
                    if !text.isEmpty { try take(text) }
                }
                try pieces.finish()
                end(nil)
            } catch {
                end(error)
            }
        }
        thread.name = "tts-text-input"
        thread.start()
    }
}

/// The error that stopped reading the text, set from the reading thread.
final class InputError: @unchecked Sendable {
    private let lock = NSLock()
    private var error: Error?

    func set(_ e: Error?) { lock.withLock { if error == nil { error = e } } }
    var value: Error? { lock.withLock { error } }
}
