// The fixtures are what the official code wrote: every file matches the checksum in the manifest
// of the script that generated it, and no fixture file is outside every manifest.
import Foundation
import Testing

@Suite(.tags(.kernelIndependent)) struct FixtureManifestTests {
    static let testsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    static let manifests = ["Qwen3TTSTests/Fixtures/manifest.json", "Qwen3TTSTests/Fixtures/base_manifest.json",
                            "Qwen3TTSTests/Fixtures/eos_manifest.json", "Qwen3TTSTests/Fixtures/decoder_long_manifest.json",
                            "Qwen3TTSTests/Fixtures/speaker_encoder/manifest.json",
                            "Qwen3TTSTests/Fixtures/speech_encoder/manifest.json", "TTSRuntimeTests/Resources/mel/manifest.json"]

    /// path -> sha256 from every manifest. A manifest whose "sha256" is one string covers the one
    /// safetensors file beside it.
    static func listed() throws -> [String: String] {
        var all: [String: String] = [:]
        for manifest in manifests {
            let url = testsDir.appendingPathComponent(manifest)
            let dir = url.deletingLastPathComponent()
            let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any], "\(manifest)")
            if let one = json["sha256"] as? String {
                let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".safetensors") }
                #expect(files.count == 1, "\(manifest): one checksum for \(files)")
                for f in files { all[dir.appendingPathComponent(f).path] = one }
            } else {
                let map = try #require(json["sha256"] as? [String: String], "\(manifest) has no sha256")
                for (path, sum) in map { all[dir.appendingPathComponent(path).path] = sum }
            }
        }
        return all
    }

    static func sha256(_ paths: [String]) throws -> [String: String] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sha256sum"] + paths
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        var sums: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2 { sums[String(parts[1].drop { $0 == " " || $0 == "*" })] = String(parts[0]) }
        }
        return sums
    }

    @Test func everyListedFileHasItsChecksum() throws {
        let listed = try Self.listed()
        #expect(listed.count > 90)
        let actual = try Self.sha256(listed.keys.sorted())
        for (path, sum) in listed.sorted(by: { $0.key < $1.key }) {
            #expect(actual[path] == sum, "\(path) differs from its manifest (regenerate with its script, not by hand)")
        }
    }

    @Test func everyFixtureFileIsListed() throws {
        let listed = Set(try Self.listed().keys)
        let root = Self.testsDir.appendingPathComponent("Qwen3TTSTests/Fixtures")
        let enumerator = try #require(FileManager.default.enumerator(atPath: root.path))
        var unlisted: [String] = []
        for case let relative as String in enumerator {
            let path = root.appendingPathComponent(relative).path
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            guard attributes[.type] as? FileAttributeType == .typeRegular, !relative.hasSuffix("manifest.json") else { continue }
            if !listed.contains(path) { unlisted.append(relative) }
        }
        #expect(unlisted.isEmpty, "fixture files in no manifest: \(unlisted)")
    }
}
