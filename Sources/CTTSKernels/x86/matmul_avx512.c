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

// Full 4x4 blocks with compile-time bounds, so the 16 accumulators are registers (prefill).
TTS_AVX512 static void block_f32_44(const float *w, const float *x, float *y, int64_t rows, int64_t cols, int64_t r, int64_t t) {
    const int nr = 4, nt = 4;
    BLOCK_BODY(float, F32_LOAD, F32_LOADM)
}

TTS_AVX512 static void block_bf16_44(const uint16_t *w, const float *x, float *y, int64_t rows, int64_t cols, int64_t r, int64_t t) {
    const int nr = 4, nt = 4;
    BLOCK_BODY(uint16_t, load_bf16, load_bf16_masked)
}

// Matrix-vector fast path (one token): 4 rows at a time with fixed shape, so the accumulators stay
// in registers. Each row's sum is formed exactly as BLOCK_BODY forms it (one accumulator, 16-lane
// chunks in order, the masked tail last, one reduction), so a token's result does not depend on
// how many tokens share the product (batch invariance, RowInvarianceTests). One chain per row is
// enough: at one token the product is bound by reading the weights, not by FMA latency.
#define MATVEC_BODY(WTYPE, W_LOAD, W_LOADM)                                                      \
    int64_t r = r0;                                                                             \
    for (; r + 4 <= r1; r += 4) {                                                               \
        const WTYPE *w0 = w + r * cols, *w1 = w0 + cols, *w2 = w1 + cols, *w3 = w2 + cols;       \
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                             \
        int64_t c = 0;                                                                          \
        for (; c + 16 <= cols; c += 16) {                                                       \
            __m512 x0 = _mm512_loadu_ps(x + c);                                                 \
            a0 = _mm512_fmadd_ps(W_LOAD(w0 + c), x0, a0);                                       \
            a1 = _mm512_fmadd_ps(W_LOAD(w1 + c), x0, a1);                                       \
            a2 = _mm512_fmadd_ps(W_LOAD(w2 + c), x0, a2);                                       \
            a3 = _mm512_fmadd_ps(W_LOAD(w3 + c), x0, a3);                                       \
        }                                                                                       \
        if (c < cols) {                                                                         \
            __mmask16 m = (__mmask16)((1u << (cols - c)) - 1);                                  \
            __m512 x0 = _mm512_maskz_loadu_ps(m, x + c);                                        \
            a0 = _mm512_fmadd_ps(W_LOADM(w0 + c, m), x0, a0);                                   \
            a1 = _mm512_fmadd_ps(W_LOADM(w1 + c, m), x0, a1);                                   \
            a2 = _mm512_fmadd_ps(W_LOADM(w2 + c, m), x0, a2);                                   \
            a3 = _mm512_fmadd_ps(W_LOADM(w3 + c, m), x0, a3);                                   \
        }                                                                                       \
        y[r] = _mm512_reduce_add_ps(a0);                                                        \
        y[r + 1] = _mm512_reduce_add_ps(a1);                                                    \
        y[r + 2] = _mm512_reduce_add_ps(a2);                                                    \
        y[r + 3] = _mm512_reduce_add_ps(a3);                                                    \
    }                                                                                           \
    for (; r < r1; r++) {                                                                       \
        const WTYPE *w0 = w + r * cols;                                                         \
        __m512 a0 = _mm512_setzero_ps();                                                        \
        for (int64_t c = 0; c < cols; c += 16) {                                                \
            __mmask16 m = cols - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (cols - c)) - 1); \
            a0 = _mm512_fmadd_ps(W_LOADM(w0 + c, m), _mm512_maskz_loadu_ps(m, x + c), a0);      \
        }                                                                                       \
        y[r] = _mm512_reduce_add_ps(a0);                                                        \
    }

TTS_AVX512 static void matvec_f32(const float *w, const float *x, float *y, int64_t cols, int64_t r0, int64_t r1) {
    MATVEC_BODY(float, F32_LOAD, F32_LOADM)
}

TTS_AVX512 static void matvec_bf16(const uint16_t *w, const float *x, float *y, int64_t cols, int64_t r0, int64_t r1) {
    MATVEC_BODY(uint16_t, load_bf16, load_bf16_masked)
}

TTS_AVX512 void tts_matmul_f32_avx512(const float *w, const float *x, float *y,
                                      int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    if (n == 1) { matvec_f32(w, x, y, cols, r0, r1); return; }
    for (int64_t r = r0; r < r1; r += 4) {
        int nr = (int)(r1 - r < 4 ? r1 - r : 4);
        for (int64_t t = 0; t < n; t += 4) {
            int nt = (int)(n - t < 4 ? n - t : 4);
            if (nr == 4 && nt == 4) block_f32_44(w, x, y, rows, cols, r, t);
            else block_f32(w, x, y, rows, cols, r, nr, t, nt);
        }
    }
}

TTS_AVX512 void tts_matmul_bf16_avx512(const uint16_t *w, const float *x, float *y,
                                       int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    if (n == 1) { matvec_bf16(w, x, y, cols, r0, r1); return; }
    for (int64_t r = r0; r < r1; r += 4) {
        int nr = (int)(r1 - r < 4 ? r1 - r : 4);
        for (int64_t t = 0; t < n; t += 4) {
            int nt = (int)(n - t < 4 ? n - t : 4);
            if (nr == 4 && nt == 4) block_bf16_44(w, x, y, rows, cols, r, t);
            else block_bf16(w, x, y, rows, cols, r, nr, t, nt);
        }
    }
}
#endif
