// Which CPU kernel path runs, and the refusal of a forced path (TTS_KERNELS) this CPU lacks.
import CTTSKernels

public enum KernelPath {
    /// The path the kernels dispatch to ("avx512", "avx2", "scalar", ...).
    public static var active: String { String(cString: tts_isa_name(tts_active_isa())) }

    /// The active path with the optional sub-paths it uses (int8 products, bf16 convs).
    public static var description: String { String(cString: tts_kernels_describe()) }

    /// The paths this CPU can run.
    public static var supported: [String] {
        (0..<Int32(TTS_ISA_COUNT))
            .filter { tts_cpu_supports($0) != 0 }.map { String(cString: tts_isa_name($0)) }
    }

    public struct Unavailable: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Throws when TTS_KERNELS named a path that is unknown or that this CPU lacks: a forced path
    /// is somebody measuring or testing it, and a silent fallback would mislead them.
    public static func checkForced() throws {
        if let message = tts_kernels_forced_error() { throw Unavailable(description: String(cString: message)) }
    }
}
