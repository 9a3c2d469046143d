// swift-tools-version: 6.1
// libFuzzer harnesses for every parser of untrusted bytes (scripts/fuzz/run.sh builds and runs
// them; docs/RELIABILITY.md has the long-run command and results). Built on its own, with
// -sanitize=fuzzer,address -parse-as-library -enable-testing, so that the main package's build
// and tests stay free of sanitizers.
import PackageDescription

let package = Package(
    name: "qwen3-tts-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "qwen3-tts-swift", path: "..")],
    targets: [
        .executableTarget(
            name: "qwen3-tts-fuzz",
            dependencies: [
                .product(name: "Qwen3TTS", package: "qwen3-tts-swift"),
                .product(name: "TTSServer", package: "qwen3-tts-swift"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
