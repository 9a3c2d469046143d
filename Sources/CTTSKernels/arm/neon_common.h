// Shared by the NEON kernels (arm/): the target attribute of the dotprod functions, so one build
// for plain ARMv8.0 also carries them and dispatch picks them where the CPU has the feature.
// Only the compiler's own headers are used here (no libc), so Apple's SDK is not needed to check
// these files (scripts/arm64/test-kernels.sh compiles them for arm64-apple-macos14).
#ifndef TTS_NEON_COMMON_H
#define TTS_NEON_COMMON_H
#if defined(__aarch64__)
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

// (GCC 12 accepts the feature only with an architecture: "+dotprod" alone fails to inline sdot.)
#define TTS_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))

// The per-block bodies of the inner loops are TTS_BLOCK functions: inlined normally; in the
// llvm-mca build (scripts/arm64/mca.sh, -DTTS_MCA) kept out of line with region markers around
// their straight-line code, which llvm-mca then runs back to back as the loop would.
#if defined(TTS_MCA)
#define TTS_BLOCK static __attribute__((noinline))
#define TTS_MCA_BEGIN(name) __asm__ volatile("// LLVM-MCA-BEGIN " name)
#define TTS_MCA_END() __asm__ volatile("// LLVM-MCA-END")
#else
#define TTS_BLOCK static inline __attribute__((always_inline))
#define TTS_MCA_BEGIN(name)
#define TTS_MCA_END()
#endif

// f16 bits to f32 without libc: the hardware conversion (every ARMv8 CPU has it).
static inline float tts_neon_f16(uint16_t h) {
    return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0);
}

// Four bf16 values widened to f32 (the bits shifted into the high half).
static inline float32x4_t tts_neon_bf16x4(const uint16_t *p) {
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
}
#endif
#endif
