// AVX-512 matrix products: 4 rows x up to 4 tokens per block, 16 lanes, masked tails.
#if defined(__x86_64__)
#include "../include/tts_kernels.h"
#include <immintrin.h>

#define TTS_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))

TTS_AVX512 static inline __m512 load_bf16(const uint16_t *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}

TTS_AVX512 static inline __m512 load_bf16_masked(const uint16_t *p, __mmask16 m) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}

// One block: rows r..r+nr (nr <= 4), tokens t..t+nt (nt <= 4). W_LOAD(row_ptr, c) / W_LOADM(...)
// produce 16 f32 weights.
#define BLOCK_BODY(WTYPE, W_LOAD, W_LOADM)                                                      \
    __m512 acc[4][4];                                                                           \
    for (int i = 0; i < 4; i++)                                                                 \
        for (int j = 0; j < 4; j++) acc[i][j] = _mm512_setzero_ps();                            \
    const WTYPE *wr[4];                                                                         \
    for (int i = 0; i < 4; i++) wr[i] = w + (r + (i < nr ? i : 0)) * cols;                      \
    const float *xt[4];                                                                         \
    for (int j = 0; j < 4; j++) xt[j] = x + (t + (j < nt ? j : 0)) * cols;                      \
    int64_t c = 0;                                                                              \
    for (; c + 16 <= cols; c += 16) {                                                           \
        __m512 xv[4];                                                                           \
        for (int j = 0; j < nt; j++) xv[j] = _mm512_loadu_ps(xt[j] + c);                        \
        for (int i = 0; i < nr; i++) {                                                          \
            __m512 wv = W_LOAD(wr[i] + c);                                                      \
            for (int j = 0; j < nt; j++) acc[i][j] = _mm512_fmadd_ps(wv, xv[j], acc[i][j]);     \
        }                                                                                       \
    }                                                                                           \
    if (c < cols) {                                                                             \
        __mmask16 m = (__mmask16)((1u << (cols - c)) - 1);                                      \
        __m512 xv[4];                                                                           \
        for (int j = 0; j < nt; j++) xv[j] = _mm512_maskz_loadu_ps(m, xt[j] + c);               \
        for (int i = 0; i < nr; i++) {                                                          \
            __m512 wv = W_LOADM(wr[i] + c, m);                                                  \
            for (int j = 0; j < nt; j++) acc[i][j] = _mm512_fmadd_ps(wv, xv[j], acc[i][j]);     \
        }                                                                                       \
    }                                                                                           \
    for (int i = 0; i < nr; i++)                                                                \
        for (int j = 0; j < nt; j++) y[(t + j) * rows + r + i] = _mm512_reduce_add_ps(acc[i][j]);

#define F32_LOAD(p) _mm512_loadu_ps(p)
#define F32_LOADM(p, m) _mm512_maskz_loadu_ps(m, p)

TTS_AVX512 static void block_f32(const float *w, const float *x, float *y, int64_t rows, int64_t cols,
                                 int64_t r, int nr, int64_t t, int nt) {
    BLOCK_BODY(float, F32_LOAD, F32_LOADM)
}

TTS_AVX512 static void block_bf16(const uint16_t *w, const float *x, float *y, int64_t rows, int64_t cols,
                                  int64_t r, int nr, int64_t t, int nt) {
    BLOCK_BODY(uint16_t, load_bf16, load_bf16_masked)
}

TTS_AVX512 void tts_matmul_f32_avx512(const float *w, const float *x, float *y,
                                      int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r += 4) {
        int nr = (int)(r1 - r < 4 ? r1 - r : 4);
        for (int64_t t = 0; t < n; t += 4) block_f32(w, x, y, rows, cols, r, nr, t, (int)(n - t < 4 ? n - t : 4));
    }
}

TTS_AVX512 void tts_matmul_bf16_avx512(const uint16_t *w, const float *x, float *y,
                                       int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r += 4) {
        int nr = (int)(r1 - r < 4 ? r1 - r : 4);
        for (int64_t t = 0; t < n; t += 4) block_bf16(w, x, y, rows, cols, r, nr, t, (int)(n - t < 4 ? n - t : 4));
    }
}
#endif
