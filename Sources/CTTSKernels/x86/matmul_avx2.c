// AVX2 + FMA matrix products: 4 rows x up to 2 tokens per block, 8 lanes, scalar tails.
#if defined(__x86_64__)
#include "../include/tts_kernels.h"
#include <immintrin.h>

#define TTS_AVX2 __attribute__((target("avx2,fma")))

TTS_AVX2 static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

TTS_AVX2 static inline __m256 load_bf16(const uint16_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

#define BLOCK_BODY(WTYPE, W_LOAD, W_SCALAR)                                                      \
    __m256 acc[4][2];                                                                           \
    for (int i = 0; i < 4; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();                    \
    const WTYPE *wr[4];                                                                         \
    for (int i = 0; i < 4; i++) wr[i] = w + (r + (i < nr ? i : 0)) * cols;                      \
    const float *xt[2] = {x + t * cols, x + (t + (nt > 1 ? 1 : 0)) * cols};                     \
    int64_t c = 0;                                                                              \
    for (; c + 8 <= cols; c += 8) {                                                             \
        __m256 x0 = _mm256_loadu_ps(xt[0] + c);                                                 \
        __m256 x1 = _mm256_loadu_ps(xt[1] + c);                                                 \
        for (int i = 0; i < nr; i++) {                                                          \
            __m256 wv = W_LOAD(wr[i] + c);                                                      \
            acc[i][0] = _mm256_fmadd_ps(wv, x0, acc[i][0]);                                     \
            if (nt > 1) acc[i][1] = _mm256_fmadd_ps(wv, x1, acc[i][1]);                         \
        }                                                                                       \
    }                                                                                           \
    for (int i = 0; i < nr; i++)                                                                \
        for (int j = 0; j < nt; j++) {                                                          \
            float s = hsum256(acc[i][j]);                                                       \
            for (int64_t k = c; k < cols; k++) s += W_SCALAR(wr[i][k]) * xt[j][k];              \
            y[(t + j) * rows + r + i] = s;                                                      \
        }

#define F32_LOAD(p) _mm256_loadu_ps(p)
#define F32_SCALAR(v) (v)

TTS_AVX2 static void block_f32(const float *w, const float *x, float *y, int64_t rows, int64_t cols,
                               int64_t r, int nr, int64_t t, int nt) {
    BLOCK_BODY(float, F32_LOAD, F32_SCALAR)
}

TTS_AVX2 static void block_bf16(const uint16_t *w, const float *x, float *y, int64_t rows, int64_t cols,
                                int64_t r, int nr, int64_t t, int nt) {
    BLOCK_BODY(uint16_t, load_bf16, tts_bf16_to_f32)
}

TTS_AVX2 void tts_matmul_f32_avx2(const float *w, const float *x, float *y,
                                  int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r += 4) {
        int nr = (int)(r1 - r < 4 ? r1 - r : 4);
        for (int64_t t = 0; t < n; t += 2) block_f32(w, x, y, rows, cols, r, nr, t, (int)(n - t < 2 ? n - t : 2));
    }
}

TTS_AVX2 void tts_matmul_bf16_avx2(const uint16_t *w, const float *x, float *y,
                                   int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r += 4) {
        int nr = (int)(r1 - r < 4 ? r1 - r : 4);
        for (int64_t t = 0; t < n; t += 2) block_bf16(w, x, y, rows, cols, r, nr, t, (int)(n - t < 2 ? n - t : 2));
    }
}
#endif
