// Process configuration the kernels depend on for speed (the one non-loop function here).
#include "include/tts_kernels.h"
#if defined(__linux__) && defined(__GLIBC__)
#include <malloc.h>
#endif

void tts_retain_freed_memory(void) {
#if defined(__linux__) && defined(__GLIBC__)
    // Keep freed large blocks instead of unmapping them: reused buffers are not page-faulted and
    // zeroed by the kernel again. Peak memory is unchanged; it is not returned after a request.
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

void tts_release_freed_memory(void) {
#if defined(__linux__) && defined(__GLIBC__)
    malloc_trim(0);
#endif
}

long long tts_heap_in_use_bytes(void) {
#if defined(__linux__) && defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    struct mallinfo2 m = mallinfo2();
    return (long long)(m.uordblks + m.hblkhd);
#else
    return -1;
#endif
}
