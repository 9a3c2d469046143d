// q8_0 matrix products for AVX-512 and AVX2: int8 -> f32 per block, block dot, then x scale.
#if defined(__x86_64__)
#include "../include/tts_kernels.h"
#include <immintrin.h>
#include <string.h>

#define TTS_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma,f16c")))
#define TTS_AVX2 __attribute__((target("avx2,fma,f16c")))

static inline float scale_of(const uint8_t *blk) {
    uint16_t dh;
    memcpy(&dh, blk, 2);
    return tts_f16_to_f32(dh);
}

TTS_AVX512 static inline float scale_f16c(const uint8_t *blk) {
    uint16_t dh;
    memcpy(&dh, blk, 2);
    return _cvtsh_ss(dh);
}

TTS_AVX512 static inline __m512 q8_half(const uint8_t *p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)p)));
}

// One token: 4 rows at a time (4 independent accumulator chains), x read once per block.
TTS_AVX512 static void matvec_q8_0(const uint8_t *w, const float *x, float *y, int64_t cols, int64_t r0, int64_t r1) {
    int64_t nb = cols / 32, row_bytes = nb * TTS_Q8_0_BLOCK_BYTES;
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) {
        const uint8_t *w0 = w + r * row_bytes, *w1 = w0 + row_bytes, *w2 = w1 + row_bytes, *w3 = w2 + row_bytes;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t b = 0; b < nb; b++) {
            int64_t o = b * TTS_Q8_0_BLOCK_BYTES;
            __m512 x0 = _mm512_loadu_ps(x + b * 32), x1 = _mm512_loadu_ps(x + b * 32 + 16);
            __m512 s0 = _mm512_fmadd_ps(q8_half(w0 + o + 18), x1, _mm512_mul_ps(q8_half(w0 + o + 2), x0));
            __m512 s1 = _mm512_fmadd_ps(q8_half(w1 + o + 18), x1, _mm512_mul_ps(q8_half(w1 + o + 2), x0));
            __m512 s2 = _mm512_fmadd_ps(q8_half(w2 + o + 18), x1, _mm512_mul_ps(q8_half(w2 + o + 2), x0));
            __m512 s3 = _mm512_fmadd_ps(q8_half(w3 + o + 18), x1, _mm512_mul_ps(q8_half(w3 + o + 2), x0));
            a0 = _mm512_fmadd_ps(_mm512_set1_ps(scale_f16c(w0 + o)), s0, a0);
            a1 = _mm512_fmadd_ps(_mm512_set1_ps(scale_f16c(w1 + o)), s1, a1);
            a2 = _mm512_fmadd_ps(_mm512_set1_ps(scale_f16c(w2 + o)), s2, a2);
            a3 = _mm512_fmadd_ps(_mm512_set1_ps(scale_f16c(w3 + o)), s3, a3);
        }
        y[r] = _mm512_reduce_add_ps(a0);
        y[r + 1] = _mm512_reduce_add_ps(a1);
        y[r + 2] = _mm512_reduce_add_ps(a2);
        y[r + 3] = _mm512_reduce_add_ps(a3);
    }
    for (; r < r1; r++) {
        const uint8_t *w0 = w + r * row_bytes;
        __m512 a0 = _mm512_setzero_ps();
        for (int64_t b = 0; b < nb; b++) {
            int64_t o = b * TTS_Q8_0_BLOCK_BYTES;
            __m512 s0 = _mm512_fmadd_ps(q8_half(w0 + o + 18), _mm512_loadu_ps(x + b * 32 + 16),
                                        _mm512_mul_ps(q8_half(w0 + o + 2), _mm512_loadu_ps(x + b * 32)));
            a0 = _mm512_fmadd_ps(_mm512_set1_ps(scale_f16c(w0 + o)), s0, a0);
        }
        y[r] = _mm512_reduce_add_ps(a0);
    }
}

// One row against up to 4 tokens; inlined with a constant nt = 4 for full blocks so the
// accumulators are registers.
__attribute__((always_inline)) TTS_AVX512 static inline void row_tokens(const uint8_t *wr, const float *x, float *y,
                                                                         int64_t rows, int64_t cols, int64_t r, int64_t t, int nt) {
    int64_t nb = cols / 32;
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    for (int64_t b = 0; b < nb; b++) {
        const uint8_t *blk = wr + b * TTS_Q8_0_BLOCK_BYTES;
        __m512 d = _mm512_set1_ps(scale_f16c(blk));
        __m512 w0 = q8_half(blk + 2), w1 = q8_half(blk + 18);
        for (int j = 0; j < nt; j++) {
            const float *xb = x + (t + j) * cols + b * 32;
            __m512 s = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xb + 16), _mm512_mul_ps(w0, _mm512_loadu_ps(xb)));
            acc[j] = _mm512_fmadd_ps(d, s, acc[j]);
        }
    }
    for (int j = 0; j < nt; j++) y[(t + j) * rows + r] = _mm512_reduce_add_ps(acc[j]);
}

TTS_AVX512 void tts_matmul_q8_0_avx512(const uint8_t *w, const float *x, float *y,
                                       int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    if (n == 1) { matvec_q8_0(w, x, y, cols, r0, r1); return; }
    int64_t row_bytes = cols / 32 * TTS_Q8_0_BLOCK_BYTES;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *wr = w + r * row_bytes;
        int64_t t = 0;
        for (; t + 4 <= n; t += 4) row_tokens(wr, x, y, rows, cols, r, t, 4);
        if (t < n) row_tokens(wr, x, y, rows, cols, r, t, (int)(n - t));
    }
}

TTS_AVX2 static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

TTS_AVX2 void tts_matmul_q8_0_avx2(const uint8_t *w, const float *x, float *y,
                                   int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    int64_t nb = cols / 32, row_bytes = nb * TTS_Q8_0_BLOCK_BYTES;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *wr = w + r * row_bytes;
        for (int64_t t = 0; t < n; t++) {
            const float *xt = x + t * cols;
            __m256 acc = _mm256_setzero_ps();
            for (int64_t b = 0; b < nb; b++) {
                const uint8_t *blk = wr + b * TTS_Q8_0_BLOCK_BYTES;
                __m256 d = _mm256_set1_ps(scale_of(blk));
                __m256 s = _mm256_setzero_ps();
                for (int k = 0; k < 4; k++) {
                    __m256 wv = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(blk + 2 + 8 * k))));
                    s = _mm256_fmadd_ps(wv, _mm256_loadu_ps(xt + b * 32 + 8 * k), s);
                }
                acc = _mm256_fmadd_ps(d, s, acc);
            }
            y[t * rows + r] = hsum(acc);
        }
    }
}
#endif
