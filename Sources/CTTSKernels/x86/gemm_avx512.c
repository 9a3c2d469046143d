// AVX-512 outer-product GEMM: 4 tokens x 32 output channels in registers, inputs broadcast.
#if defined(__x86_64__)
#include "../include/tts_kernels.h"
#include <immintrin.h>
#include "channel_masks.h"

#define TTS_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))

// Tokens t..t+nt (nt <= 4), channels o..o+32 with masks m0/m1 for the two 16-lane halves.
TTS_AVX512 static inline void tile(const float *x, const float *wt, float *y, int64_t cin, int64_t cout,
                                   int64_t ldy, int64_t t, int nt, int64_t o, __mmask16 m0, __mmask16 m1, int accumulate) {
    __m512 a[4][2];
    for (int j = 0; j < 4; j++) {
        if (accumulate && j < nt) {
            a[j][0] = _mm512_maskz_loadu_ps(m0, y + (t + j) * ldy + o);
            a[j][1] = _mm512_maskz_loadu_ps(m1, y + (t + j) * ldy + o + 16);
        } else {
            a[j][0] = a[j][1] = _mm512_setzero_ps();
        }
    }
    const float *xs[4];
    for (int j = 0; j < 4; j++) xs[j] = x + (t + (j < nt ? j : 0)) * cin;
    for (int64_t i = 0; i < cin; i++) {
        __m512 w0 = _mm512_maskz_loadu_ps(m0, wt + i * cout + o);
        __m512 w1 = _mm512_maskz_loadu_ps(m1, wt + i * cout + o + 16);
        for (int j = 0; j < nt; j++) {
            __m512 xv = _mm512_set1_ps(xs[j][i]);
            a[j][0] = _mm512_fmadd_ps(xv, w0, a[j][0]);
            a[j][1] = _mm512_fmadd_ps(xv, w1, a[j][1]);
        }
    }
    for (int j = 0; j < nt; j++) {
        _mm512_mask_storeu_ps(y + (t + j) * ldy + o, m0, a[j][0]);
        _mm512_mask_storeu_ps(y + (t + j) * ldy + o + 16, m1, a[j][1]);
    }
}

// Full tile: exactly 4 tokens, so the 8 accumulators are registers.
TTS_AVX512 static inline void tile4(const float *x, const float *wt, float *y, int64_t cin, int64_t cout,
                                    int64_t ldy, int64_t t, int64_t o, __mmask16 m0, __mmask16 m1, int accumulate) {
    float *y0 = y + t * ldy + o, *y1 = y0 + ldy, *y2 = y1 + ldy, *y3 = y2 + ldy;
    __m512 a00, a01, a10, a11, a20, a21, a30, a31;
    if (accumulate) {
        a00 = _mm512_maskz_loadu_ps(m0, y0); a01 = _mm512_maskz_loadu_ps(m1, y0 + 16);
        a10 = _mm512_maskz_loadu_ps(m0, y1); a11 = _mm512_maskz_loadu_ps(m1, y1 + 16);
        a20 = _mm512_maskz_loadu_ps(m0, y2); a21 = _mm512_maskz_loadu_ps(m1, y2 + 16);
        a30 = _mm512_maskz_loadu_ps(m0, y3); a31 = _mm512_maskz_loadu_ps(m1, y3 + 16);
    } else {
        a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = _mm512_setzero_ps();
    }
    const float *x0 = x + t * cin, *x1 = x0 + cin, *x2 = x1 + cin, *x3 = x2 + cin;
    const float *wp = wt + o;
    for (int64_t i = 0; i < cin; i++, wp += cout) {
        __m512 w0 = _mm512_maskz_loadu_ps(m0, wp), w1 = _mm512_maskz_loadu_ps(m1, wp + 16);
        __m512 v;
        v = _mm512_set1_ps(x0[i]); a00 = _mm512_fmadd_ps(v, w0, a00); a01 = _mm512_fmadd_ps(v, w1, a01);
        v = _mm512_set1_ps(x1[i]); a10 = _mm512_fmadd_ps(v, w0, a10); a11 = _mm512_fmadd_ps(v, w1, a11);
        v = _mm512_set1_ps(x2[i]); a20 = _mm512_fmadd_ps(v, w0, a20); a21 = _mm512_fmadd_ps(v, w1, a21);
        v = _mm512_set1_ps(x3[i]); a30 = _mm512_fmadd_ps(v, w0, a30); a31 = _mm512_fmadd_ps(v, w1, a31);
    }
    _mm512_mask_storeu_ps(y0, m0, a00); _mm512_mask_storeu_ps(y0 + 16, m1, a01);
    _mm512_mask_storeu_ps(y1, m0, a10); _mm512_mask_storeu_ps(y1 + 16, m1, a11);
    _mm512_mask_storeu_ps(y2, m0, a20); _mm512_mask_storeu_ps(y2 + 16, m1, a21);
    _mm512_mask_storeu_ps(y3, m0, a30); _mm512_mask_storeu_ps(y3 + 16, m1, a31);
}

TTS_AVX512 void tts_gemm_f32_avx512(const float *x, const float *wt, float *y, int64_t cin, int64_t cout,
                                    int64_t ldy, int64_t t0, int64_t t1, int accumulate) {
    for (int64_t o = 0; o < cout; o += 32) {
        __mmask16 m0, m1;
        tts_channel_masks(cout - o, &m0, &m1);
        int64_t t = t0;
        for (; t + 4 <= t1; t += 4) tile4(x, wt, y, cin, cout, ldy, t, o, m0, m1, accumulate);
        if (t < t1) tile(x, wt, y, cin, cout, ldy, t, (int)(t1 - t), o, m0, m1, accumulate);
    }
}
#endif
