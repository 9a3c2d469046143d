// Process and machine measurements for benchmarks: peak RSS and streaming-read bandwidth.
import CTTSKernels
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum SystemMetrics {
    /// Keeps freed large blocks in the process instead of unmapping them (glibc), so the
    /// decoder's large per-stage buffers are reused rather than faulted in and zeroed by the
    /// kernel on every call. Peak memory is unchanged; it is just not returned after a request.
    public static func retainFreedMemory() { tts_retain_freed_memory() }

    /// Hands what `retainFreedMemory` keeps back to the system (glibc: every arena's free pages).
    /// A daemon calls it when no request is running, so a burst does not raise RSS for good.
    public static func releaseFreedMemory() { tts_release_freed_memory() }

    /// Bytes allocated and not yet freed (glibc), or nil where the allocator does not say. Unlike
    /// RSS this does not count freed memory the allocator keeps, so it is what a leak would raise.
    public static func heapInUseBytes() -> Int? {
        let n = tts_heap_in_use_bytes()
        return n >= 0 ? Int(n) : nil
    }

    /// Peak resident set size of this process, in bytes.
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        #else
        getrusage(RUSAGE_SELF, &usage)
        #endif
        #if os(Linux)
        return Int(usage.ru_maxrss) * 1024  // kilobytes on Linux
        #else
        return Int(usage.ru_maxrss)  // bytes on macOS
        #endif
    }

    /// Current resident set size of this process in bytes (nil where /proc is not available).
    public static func currentResidentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Streaming-read bandwidth in GB/s: `threads` threads sum disjoint parts of a buffer of
    /// `megabytes` (larger than the caches), best of `repeats` passes.
    public static func readBandwidth(megabytes: Int = 512, threads: Int = 1, repeats: Int = 3) -> Double {
        let count = megabytes * 1_000_000 / MemoryLayout<SIMD16<Float>>.stride
        let buffer = UnsafeMutablePointer<SIMD16<Float>>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: SIMD16(repeating: 1), count: count)
        let pool = ThreadPool(threads: threads)
        var best = 0.0
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: count / 1024 + 1)
        defer { sums.deallocate() }
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            pool.parallelRanges(count, granularity: 1024) { lo, hi in
                var acc = SIMD16<Float>(repeating: 0)
                var acc2 = SIMD16<Float>(repeating: 0)
                var i = lo
                while i + 1 < hi { acc += buffer[i]; acc2 += buffer[i + 1]; i += 2 }
                if i < hi { acc += buffer[i] }
                sums[lo / 1024] = (acc + acc2).sum()
            }
            let seconds = (ContinuousClock.now - start).seconds
            best = max(best, Double(count * MemoryLayout<SIMD16<Float>>.stride) / seconds / 1e9)
        }
        return best
    }
}
