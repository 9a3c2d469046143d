// Whether the end-to-end helpers (sox, curl, python3 with openai, the built binary) must be
// present: .ci/run sets QWEN3_TTS_REQUIRE_E2E=1, so there a missing helper fails the test that
// needs it instead of skipping it; a developer's plain `swift test` skips.
import Foundation

public enum EndToEnd {
    public static var required: Bool { ProcessInfo.processInfo.environment["QWEN3_TTS_REQUIRE_E2E"] == "1" }

    /// The executable at `path`, when it exists.
    public static func tool(_ path: String) -> String? {
        FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Whether a test that needs `path` should run: it exists, or its absence must fail.
    public static func shouldRun(needing path: String) -> Bool { tool(path) != nil || required }

    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    /// `path`, or an error naming it (for a test that runs because the helper is required).
    public static func require(_ path: String) throws -> String {
        guard let p = tool(path) else { throw Missing(description: "\(path) is required (QWEN3_TTS_REQUIRE_E2E=1); .ci/run installs it") }
        return p
    }
}
