// One libFuzzer binary for every parser of untrusted bytes; FUZZ_TARGET picks the parser.
// Each harness feeds the bytes to the parser as a client or a downloaded file would, and only
// requires that it returns or throws: a trap, a sanitizer report or a hang is a finding.
import Foundation
@testable import Qwen3TTS
@testable import TTSRuntime
@testable import TTSServer
@testable import TTSTokenizers

/// The harnesses, by name.
let targets: [String: @Sendable (Data) -> Void] = [
    "multipart": { data in
        let text = String(decoding: data.prefix(80), as: UTF8.self)
        _ = MultipartForm.boundary(contentType: text)
        _ = try? MultipartForm.parse(Array(data), boundary: "B")
    },
    "speech-request": { data in
        _ = try? SpeechRequest.parse(data, maxInputCharacters: 4096, maxInputBytes: 16384)
    },
    // A client message on /v1/audio/speech/stream (session.config, input.text, ...).
    "stream-message": { data in
        let limits = StreamMessageLimits(configBytes: 65536, messageBytes: 4096, pieces: 64, characters: 64, bytes: 256, tokens: 64)
        _ = try? StreamMessages.decode(data, limits: limits, servedModel: "fuzz")
    },
    "wav": { data in _ = try? WAVReader.read(data) },
    // The `voice` field as a blend ("a(2)+b(1)").
    "voice-blend": { data in _ = try? VoiceBlend.parse(String(decoding: data, as: UTF8.self)) },
    "voice-file": { data in _ = try? VoiceFile.decode(data, source: "fuzz.voice") },
    "gguf": { data in withTemporaryFile(data, suffix: ".gguf") { _ = try? GGUFFile(path: $0) } },
    "safetensors": { data in withTemporaryFile(data, suffix: ".safetensors") { _ = try? SafetensorsFile(path: $0) } },
    // vocab.json, merges.txt and tokenizer_config.json, separated by NUL bytes.
    "tokenizer-files": { data in
        let parts = data.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        let vocab = parts.first.map { Data($0) } ?? Data()
        let merges = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : ""
        let config = parts.count > 2 ? Data(parts[2]) : nil
        if let tokenizer = try? BPETokenizer.load(vocabJSON: vocab, merges: merges, tokenizerConfig: config, source: "fuzz") {
            _ = tokenizer.decode(tokenizer.encode("Hello, wörld! 你好 'll 123"))
        }
    },
    // Text as a request carries it: tokenized with the real Qwen vocabulary and cut into utterances.
    "text": { data in
        let text = String(decoding: data, as: UTF8.self)
        if let tokenizer = qwenTokenizer { _ = tokenizer.decode(tokenizer.encode(text)) }
        _ = TextSplitter.split(text, maxCharacters: 250, maxBytes: 1000)
    },
]

/// The Qwen vocabulary the tests ship (Tests/TTSTokenizersTests/Resources/qwen), loaded once.
let qwenTokenizer: BPETokenizer? = {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Tests/TTSTokenizersTests/Resources/qwen").path
    return try? BPETokenizer.load(directory: dir)
}()

let temporaryDirectory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm/" : NSTemporaryDirectory()

func withTemporaryFile(_ data: Data, suffix: String, _ body: (String) -> Void) {
    let path = temporaryDirectory + "qwen3-tts-fuzz-\(getpid())" + suffix
    guard FileManager.default.createFile(atPath: path, contents: data) else { return }
    body(path)
    unlink(path)
}

let selected: @Sendable (Data) -> Void = {
    let name = ProcessInfo.processInfo.environment["FUZZ_TARGET"] ?? ""
    guard let harness = targets[name] else {
        FileHandle.standardError.write(Data("set FUZZ_TARGET to one of: \(targets.keys.sorted().joined(separator: ", "))\n".utf8))
        exit(2)
    }
    if name == "text" && qwenTokenizer == nil {
        FileHandle.standardError.write(Data("the text harness needs Tests/TTSTokenizersTests/Resources/qwen\n".utf8))
        exit(2)
    }
    return harness
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    selected(Data(bytes: bytes, count: count))
    return 0
}

/// libFuzzer's driver, for an entry point of our own: SwiftPM links an executable's entry point
/// under the module's name, so the binary's main is this function, which hands over to libFuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                     _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

@_cdecl("qwen3_tts_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { fuzzOneInput($0, $1) }
}
