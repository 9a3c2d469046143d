// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "qwen3-tts-swift",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Qwen3TTS", targets: ["Qwen3TTS"]),
        .executable(name: "qwen3-tts", targets: ["qwen3-tts"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Hot loops only: no allocation, no I/O, no errors. See include/tts_kernels.h.
        .target(name: "CTTSKernels"),
        // Model-agnostic runtime: weights, tensors, ops, sampling, audio.
        .target(name: "TTSRuntime", dependencies: ["CTTSKernels"]),
        // Qwen2-style byte-level BPE.
        .target(name: "TTSTokenizers"),
        // Everything that knows Qwen3-TTS.
        .target(name: "Qwen3TTS", dependencies: ["TTSRuntime", "TTSTokenizers"]),
        // Command-line commands as a library (testable); the executable is one line.
        .target(
            name: "TTSCommands",
            dependencies: [
                "Qwen3TTS",
                "CTTSKernels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "qwen3-tts", dependencies: ["TTSCommands"]),

        .testTarget(name: "CTTSKernelsTests", dependencies: ["CTTSKernels", "TTSRuntime"]),
        .testTarget(name: "TTSRuntimeTests", dependencies: ["TTSRuntime"]),
        .testTarget(name: "TTSTokenizersTests", dependencies: ["TTSTokenizers"], exclude: ["Resources"]),
        .testTarget(name: "Qwen3TTSTests", dependencies: ["Qwen3TTS", "TTSRuntime", "TTSTokenizers", "CTTSKernels"], exclude: ["Fixtures"]),
        .testTarget(name: "TTSCommandsTests", dependencies: ["TTSCommands", "qwen3-tts"]),
    ],
    swiftLanguageModes: [.v6]
)
