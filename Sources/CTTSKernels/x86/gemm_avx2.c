// AVX2 outer-product GEMM: 4 tokens x 16 output channels in registers, scalar channel tail.
#if defined(__x86_64__)
#include "../include/tts_kernels.h"
#include <immintrin.h>

#define TTS_AVX2 __attribute__((target("avx2,fma")))

TTS_AVX2 static inline void tile(const float *x, const float *wt, float *y, int64_t cin, int64_t cout,
                                 int64_t ldy, int64_t t, int nt, int64_t o, int accumulate) {
    __m256 a[4][2];
    for (int j = 0; j < 4; j++) {
        if (accumulate && j < nt) {
            a[j][0] = _mm256_loadu_ps(y + (t + j) * ldy + o);
            a[j][1] = _mm256_loadu_ps(y + (t + j) * ldy + o + 8);
        } else {
            a[j][0] = a[j][1] = _mm256_setzero_ps();
        }
    }
    const float *xs[4];
    for (int j = 0; j < 4; j++) xs[j] = x + (t + (j < nt ? j : 0)) * cin;
    for (int64_t i = 0; i < cin; i++) {
        __m256 w0 = _mm256_loadu_ps(wt + i * cout + o);
        __m256 w1 = _mm256_loadu_ps(wt + i * cout + o + 8);
        for (int j = 0; j < nt; j++) {
            __m256 xv = _mm256_broadcast_ss(xs[j] + i);
            a[j][0] = _mm256_fmadd_ps(xv, w0, a[j][0]);
            a[j][1] = _mm256_fmadd_ps(xv, w1, a[j][1]);
        }
    }
    for (int j = 0; j < nt; j++) {
        _mm256_storeu_ps(y + (t + j) * ldy + o, a[j][0]);
        _mm256_storeu_ps(y + (t + j) * ldy + o + 8, a[j][1]);
    }
}

TTS_AVX2 void tts_gemm_f32_avx2(const float *x, const float *wt, float *y, int64_t cin, int64_t cout,
                                int64_t ldy, int64_t t0, int64_t t1, int accumulate) {
    int64_t full = cout / 16 * 16;
    for (int64_t o = 0; o < full; o += 16)
        for (int64_t t = t0; t < t1; t += 4) tile(x, wt, y, cin, cout, ldy, t, (int)(t1 - t < 4 ? t1 - t : 4), o, accumulate);
    if (full < cout) {  // channel tail
        for (int64_t t = t0; t < t1; t++) {
            float *yt = y + t * ldy;
            if (!accumulate) for (int64_t o = full; o < cout; o++) yt[o] = 0;
            for (int64_t i = 0; i < cin; i++) {
                float xv = x[t * cin + i];
                for (int64_t o = full; o < cout; o++) yt[o] += xv * wt[i * cout + o];
            }
        }
    }
}
#endif
