// Access to the golden fixtures written by scripts/reference/make_fixtures.py.
import Foundation
import TTSRuntime
@testable import Qwen3TTS

enum Fixtures {
    static let root: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    }()

    static func checkpoint(_ name: String) -> String { root + "/checkpoints/" + name }

    /// One recorded case: its inputs, the official outputs and the recorded tensors.
    struct Case: Decodable {
        let name: String
        let checkpoint: String
        let text: String
        let language: String
        let speaker: String?
        let instruct: String?
        let nonStreamingMode: Bool
        let maxNewTokens: Int
        let inputIds: [Int]
        let instructIds: [Int]?
        let codes: [[Int]]
        let samples: Int
        /// In-context voice clone cases: the reference transcript and its token ids.
        let referenceText: String?
        let referenceIds: [Int]?
        /// "eos" for the cases of eos_fixture.py, which end by end of speech (the others stop at
        /// the frame cap), and the steps where EOS had the top raw logit but was masked.
        let endsBy: String?
        let eosMaskedTopSteps: [Int]?

        enum CodingKeys: String, CodingKey {
            case name, checkpoint, text, language, speaker, instruct, codes, samples
            case nonStreamingMode = "non_streaming_mode", maxNewTokens = "max_new_tokens"
            case inputIds = "input_ids", instructIds = "instruct_ids"
            case referenceText = "reference_text", referenceIds = "reference_ids"
            case endsBy = "ends_by", eosMaskedTopSteps = "eos_masked_top_steps"
        }

        /// Base cases (voice clone) take the official x-vector recorded with them, and in-context
        /// cases the official reference codes.
        var request: SynthesisRequest {
            var r = SynthesisRequest(text: text, language: language, speaker: speaker.flatMap { $0.isEmpty ? nil : $0 },
                                     instruct: instruct, textLayout: nonStreamingMode ? .nonStreaming : .streaming)
            if name.hasPrefix("base-") { r.speakerEmbedding = try? tensors().floats("xvector") }
            if let referenceText { r.reference = VoiceReference(codes: referenceCodes, text: referenceText) }
            return r
        }

        /// The official reference codes ([] unless in context).
        var referenceCodes: [[Int]] {
            guard referenceText != nil, let flat = try? tensors().ints("ref_codes") else { return [] }
            return stride(from: 0, to: flat.count, by: 16).map { Array(flat[$0..<($0 + 16)]) }
        }

        var greedyOptions: GenerationOptions {
            var o = GenerationOptions()
            o.greedy = true
            o.maxFrames = maxNewTokens - 1
            o.seed = 0
            return o
        }

        func tensors() throws -> SafetensorsFile {
            try SafetensorsFile(path: Fixtures.root + "/cases/\(name).safetensors")
        }
    }

    static let caseNames: [String] = {
        let dir = root + "/cases"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.sorted()
    }()

    /// A temporary checkpoint directory linking every file of `name` but those in `except`,
    /// which the caller writes (remove it when done).
    static func linkedCheckpoint(_ name: String, except: Set<String>) throws -> String {
        let source = checkpoint(name)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: source) where !except.contains(file) {
            let target = URL(fileURLWithPath: source + "/" + file).resolvingSymlinksInPath().path
            try FileManager.default.createSymbolicLink(atPath: dir + "/" + file, withDestinationPath: target)
        }
        return dir
    }

    static func loadCase(_ name: String) throws -> Case {
        let data = try Data(contentsOf: URL(fileURLWithPath: root + "/cases/\(name).json"))
        return try JSONDecoder().decode(Case.self, from: data)
    }

    /// Models are loaded once per checkpoint and shared by the tests.
    nonisolated(unsafe) private static var models: [String: Qwen3TTSModel] = [:]
    private static let lock = NSLock()

    static func model(_ checkpoint: String) throws -> Qwen3TTSModel {
        lock.lock()
        defer { lock.unlock() }
        if let m = models[checkpoint] { return m }
        let m = try Qwen3TTSModel.load(directory: Self.checkpoint(checkpoint))
        models[checkpoint] = m
        return m
    }
}

extension SafetensorsFile {
    /// A recorded f32 tensor as a flat array.
    func floats(_ name: String) throws -> [Float] {
        guard let info = tensors[name] else { throw WeightsError.missingTensor(name: name, files: [path]) }
        precondition(info.dtype == .f32)
        let p = pointer(info)
        return (0..<info.elementCount).map { p.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
    }

    func ints(_ name: String) throws -> [Int] {
        guard let info = tensors[name] else { throw WeightsError.missingTensor(name: name, files: [path]) }
        precondition(info.dtype == .i32)
        let p = pointer(info)
        return (0..<info.elementCount).map { Int(p.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
    }
}

/// max |a - b| / max(1, |b|) over paired elements; infinity when the counts differ.
func maxRelativeDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        let d = abs(x - y) / max(1, abs(y))
        if !(d <= worst) { worst = d.isNaN ? .infinity : d }
    }
    return worst
}

func maxAbsoluteDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        let d = abs(x - y)
        if !(d <= worst) { worst = d.isNaN ? .infinity : d }
    }
    return worst
}
