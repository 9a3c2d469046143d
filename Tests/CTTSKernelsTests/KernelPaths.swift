// The kernel paths the twin tests call by name, and the report of which ones ran.
import CTTSKernels
import Foundation
import Testing

enum KernelPaths {
    struct ISA: Sendable {
        let id: Int32
        let name: String
    }

    /// The active (dispatched) path.
    static var active: String { String(cString: tts_isa_name(tts_active_isa())) }

    /// The SIMD paths this CPU has, whatever TTS_KERNELS selected for dispatch.
    static let simd: [ISA] = (Int32(TTS_ISA_AVX2)..<Int32(TTS_ISA_COUNT))
        .filter { tts_cpu_supports($0) != 0 }.map { ISA(id: $0, name: String(cString: tts_isa_name($0))) }

    static let avx512VNNI = tts_cpu_has(Int32(TTS_FEATURE_AVX512_VNNI)) != 0
    static let avx512BF16 = tts_cpu_has(Int32(TTS_FEATURE_AVX512_BF16)) != 0
    static let avxVNNI = tts_cpu_has(Int32(TTS_FEATURE_AVX_VNNI)) != 0

    /// Every kernel variant the twin tests run directly on this CPU.
    static var covered: [String] {
        ["scalar"] + simd.map(\.name) + (avx512VNNI ? ["avx512-vnni"] : []) + (avx512BF16 ? ["avx512-bf16"] : [])
            + (avxVNNI ? ["avx-vnni-int8"] : [])
    }
}

@Suite(.tags(.numerical)) struct KernelPathTests {
    /// Says which paths ran (the log of every CI pass shows it), and fails when TTS_KERNELS forced
    /// a path that is not the one dispatched to.
    @Test func reportsThePathsThatRan() {
        print("kernel paths: dispatch \(String(cString: tts_kernels_describe())); twin tests run \(KernelPaths.covered.joined(separator: ", "))")
        let forced = ProcessInfo.processInfo.environment["TTS_KERNELS"] ?? ""
        #expect(tts_kernels_forced_error() == nil, "\(tts_kernels_forced_error().map { String(cString: $0) } ?? "")")
        if !forced.isEmpty { #expect(KernelPaths.active == forced) }
        // QWEN3_TTS_REQUIRE_KERNELS=avx512,avx512-vnni: a CI machine expected to have these fails
        // here if it does not, instead of passing with those twins unrun.
        let required = (ProcessInfo.processInfo.environment["QWEN3_TTS_REQUIRE_KERNELS"] ?? "").split(separator: ",").map(String.init)
        for name in required { #expect(KernelPaths.covered.contains(name), "required kernel path \(name) is not available here") }
    }

    /// A forced path that is unknown or that this CPU lacks is refused with an error naming the
    /// problem and the paths this CPU runs (the process then reports it at model load).
    @Test func anUnavailableForcedPathIsAnError() {
        func resolve(_ name: String) -> (Int32, String) {
            var error = [CChar](repeating: 0, count: 192)
            let isa = tts_kernels_resolve(name, &error, error.count)
            return (isa, String(cString: error))
        }
        let (isa, message) = resolve("avx9000")
        #expect(isa == -1)
        #expect(message.contains("TTS_KERNELS=avx9000: no such kernel path") && message.contains("scalar"))
        if let missing = (Int32(TTS_ISA_AVX2)..<Int32(TTS_ISA_COUNT)).first(where: { tts_cpu_supports($0) == 0 }) {
            let (isa, message) = resolve(String(cString: tts_isa_name(missing)))
            #expect(isa == -1 && message.contains("this CPU lacks that path"))
        }
        #expect(resolve("scalar").0 == Int32(TTS_ISA_SCALAR))
        for path in KernelPaths.simd { #expect(resolve(path.name).0 == path.id) }
    }
}
