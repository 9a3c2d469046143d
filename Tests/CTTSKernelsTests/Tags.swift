// Tags shared by the suites of this test target; every suite here carries exactly one of them
// (scripts/ci/numerical-suites checks it and lists the numerical ones for .ci/run).
import Testing

extension Tag {
    /// Results depend on the CPU kernels: .ci/run repeats these suites with each other path forced
    /// (TTS_KERNELS), so every path is checked against the fixtures, not only the fastest.
    @Tag static var numerical: Self
    /// Results do not depend on which kernel path runs (parsing, limits, bookkeeping).
    @Tag static var kernelIndependent: Self
}
