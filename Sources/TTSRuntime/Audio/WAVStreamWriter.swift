// A WAV file written incrementally and valid after every append.
import Foundation

/// Appends samples to a WAV file and rewrites the header's sizes after each append, so the file
/// on disk is a complete, readable WAV at every point after the first append returns.
public final class WAVStreamWriter {
    public let path: String
    public let sampleRate: Int
    public let encoding: WAVEncoding
    public private(set) var sampleCount = 0
    private let handle: FileHandle

    public init(path: String, sampleRate: Int, encoding: WAVEncoding = .pcm16) throws {
        self.path = path
        self.sampleRate = sampleRate
        self.encoding = encoding
        guard FileManager.default.createFile(atPath: path, contents: WAV.header(sampleRate: sampleRate, encoding: encoding, sampleCount: 0)),
              let h = FileHandle(forUpdatingAtPath: path)
        else { throw WeightsError.cannotOpen(path: path, reason: "cannot create the file") }
        handle = h
    }

    public func append(_ samples: [Float]) throws {
        try handle.seekToEnd()
        try handle.write(contentsOf: WAV.pcm(samples, encoding: encoding))
        sampleCount += samples.count
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: WAV.header(sampleRate: sampleRate, encoding: encoding, sampleCount: sampleCount))
        try handle.synchronize()
    }

    public func close() throws { try handle.close() }
}
