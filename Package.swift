// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "qwen3-tts-swift",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Qwen3TTS", targets: ["Qwen3TTS"]),
        // The daemon as a library (embedding, and the fuzz harnesses in Fuzz/).
        .library(name: "TTSServer", targets: ["TTSServer"]),
        .executable(name: "qwen3-tts", targets: ["qwen3-tts"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The daemon. Default traits off: swift-configuration support is not used.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // /v1/audio/speech/stream: text in as it arrives, audio out (issue 19).
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        // GET /metrics in the Prometheus text format.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // `pull`: downloads from the Hugging Face hub.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // Hot loops only: no allocation, no I/O, no errors. See include/tts_kernels.h.
        .target(name: "CTTSKernels"),
        // Codec libraries (LAME, libopus, libFLAC, libavcodec) opened at run time with dlopen.
        .target(name: "CTTSCodecs", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        // Model-agnostic runtime: weights, tensors, ops, sampling, audio.
        .target(name: "TTSRuntime", dependencies: ["CTTSKernels"]),
        // Qwen2-style byte-level BPE.
        .target(name: "TTSTokenizers"),
        // Output formats (wav, pcm, mp3, opus, aac, flac) as streams, and speed changes.
        .target(name: "TTSAudio", dependencies: ["TTSRuntime", "CTTSCodecs"]),
        // Everything that knows Qwen3-TTS.
        .target(name: "Qwen3TTS", dependencies: ["TTSRuntime", "TTSTokenizers"]),
        // Command-line commands as a library (testable); the executable is one line.
        // The daemon (OpenAI-compatible HTTP API, scheduler) and its client.
        .target(
            name: "TTSServer",
            dependencies: [
                "Qwen3TTS",
                "TTSAudio",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]),
        // Model downloads from the Hugging Face hub (or a mirror) into the local model store.
        .target(
            name: "TTSHub",
            dependencies: [
                "TTSRuntime",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]),
        .target(
            name: "TTSCommands",
            dependencies: [
                "Qwen3TTS",
                "TTSServer",
                "TTSHub",
                "TTSAudio",
                "CTTSKernels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // `client --text-stream`: the daemon's WebSocket endpoint.
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(name: "qwen3-tts", dependencies: ["TTSCommands"]),

        .testTarget(name: "CTTSKernelsTests", dependencies: ["CTTSKernels", "TTSRuntime"]),
        .testTarget(name: "TTSRuntimeTests", dependencies: ["TTSRuntime", "TTSTestSupport"], exclude: ["Resources"]),
        .testTarget(name: "TTSAudioTests", dependencies: ["TTSAudio", "TTSRuntime", "CTTSCodecs", "TTSTestSupport"]),
        .testTarget(name: "TTSTokenizersTests", dependencies: ["TTSTokenizers", "TTSTestSupport"], exclude: ["Resources"]),
        .testTarget(name: "Qwen3TTSTests", dependencies: ["Qwen3TTS", "TTSRuntime", "TTSTokenizers", "CTTSKernels", "TTSTestSupport"], exclude: ["Fixtures"]),
        // Helpers shared by the server, daemon and hub tests (raw sockets for hostile clients, a
        // mock of the hub's endpoints).
        .target(name: "TTSTestSupport", dependencies: [.product(name: "Hummingbird", package: "hummingbird"), .product(name: "Logging", package: "swift-log")],
                path: "Tests/TTSTestSupport"),
        .testTarget(name: "TTSServerTests", dependencies: ["TTSServer", "Qwen3TTS", "TTSRuntime", "TTSTestSupport", .product(name: "Logging", package: "swift-log"),
                                                            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket")]),
        .testTarget(name: "TTSHubTests", dependencies: ["TTSHub", "TTSRuntime", "TTSTestSupport"]),
        .testTarget(name: "TTSCommandsTests", dependencies: ["TTSCommands", "TTSServer", "qwen3-tts", "TTSTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
