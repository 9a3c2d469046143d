// q4_k matrix-vector products on int8 activations. Per 64 weights (one 32-byte load of nibbles):
// the low and high nibbles are two sub-blocks of 32, each dotted with its 32 activations into 8
// int32 lanes (AVX2: maddubs + madd; AVX-512 VNNI: one vpdpbusd), converted to f32 and scaled by
// d*sc*xs in a vector accumulator; the min terms are one scalar FMA per sub-block.
#if defined(__x86_64__)
#include "../include/tts_kernels.h"
#include <immintrin.h>

#define TTS_AVX2 __attribute__((target("avx2,fma,f16c")))
#define TTS_VNNI256 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx2,fma,f16c")))

TTS_AVX2 static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

TTS_AVX2 static inline __m256i dot_avx2(__m256i q, __m256i x) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(q, x), _mm256_set1_epi16(1));
}

TTS_VNNI256 static inline __m256i dot_vnni(__m256i q, __m256i x) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), q, x);
}

// One body, two dot products: the compiler specialises each wrapper below.
#define Q4K_MATVEC_BODY(DOT)                                                                       \
    int64_t nblocks = cols / 256;                                                                  \
    const __m256i nib = _mm256_set1_epi8(0x0F);                                                    \
    for (int64_t r = r0; r < r1; r++) {                                                            \
        const uint8_t *row = w + r * nblocks * TTS_Q4_K_BLOCK_BYTES;                               \
        __m256 acc = _mm256_setzero_ps();                                                          \
        float mins = 0;                                                                            \
        for (int64_t b = 0; b < nblocks; b++) {                                                    \
            const uint8_t *blk = row + b * TTS_Q4_K_BLOCK_BYTES;                                   \
            float scale[8], min[8];                                                                \
            tts_q4_k_scales(blk, scale, min);                                                      \
            const int8_t *xb = xq + b * 256;                                                       \
            const float *sb = xs + b * 8;                                                          \
            const int32_t *mb = xsum + b * 8;                                                      \
            for (int p = 0; p < 4; p++) {                                                          \
                __m256i q = _mm256_loadu_si256((const __m256i *)(blk + 16 + 32 * p));              \
                __m256i lo = _mm256_and_si256(q, nib);                                             \
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), nib);                       \
                __m256i dl = DOT(lo, _mm256_loadu_si256((const __m256i *)(xb + 64 * p)));          \
                __m256i dh = DOT(hi, _mm256_loadu_si256((const __m256i *)(xb + 64 * p + 32)));     \
                acc = _mm256_fmadd_ps(_mm256_set1_ps(scale[2 * p] * sb[2 * p]), _mm256_cvtepi32_ps(dl), acc); \
                acc = _mm256_fmadd_ps(_mm256_set1_ps(scale[2 * p + 1] * sb[2 * p + 1]), _mm256_cvtepi32_ps(dh), acc); \
                mins += min[2 * p] * sb[2 * p] * (float)mb[2 * p] + min[2 * p + 1] * sb[2 * p + 1] * (float)mb[2 * p + 1]; \
            }                                                                                      \
        }                                                                                          \
        y[r] = hsum256(acc) - mins;                                                                \
    }

TTS_AVX2 void tts_q4_k_matvec_avx2(const uint8_t *w, const int8_t *xq, const float *xs, const int32_t *xsum,
                                   float *y, int64_t cols, int64_t r0, int64_t r1) {
    Q4K_MATVEC_BODY(dot_avx2)
}

TTS_VNNI256 void tts_q4_k_matvec_avx512(const uint8_t *w, const int8_t *xq, const float *xs, const int32_t *xsum,
                                        float *y, int64_t cols, int64_t r0, int64_t r1) {
    Q4K_MATVEC_BODY(dot_vnni)
}
#endif
