// Causal conv as one GEMM over all taps (AVX-512), on weights packed in blocks of 32 output
// channels (tts_conv_pack_f32): 8 tokens x 32 channels stay in 16 registers across every tap and
// input channel while the block's weights stream in order; bias (and a residual) added once, output
// written once.
#if defined(__x86_64__)
#include "../include/tts_kernels.h"
#include <immintrin.h>
#include "channel_masks.h"

#define TTS_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))

TTS_AVX512 static inline void conv_tile8(const float *x, const float *wb, const float *bias, float *y, int64_t cin,
                                         int64_t cout, int64_t k, int64_t dil, int64_t t, int64_t o,
                                         __mmask16 m0, __mmask16 m1, const float *add) {
    __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias + o) : _mm512_setzero_ps();
    __m512 b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + o + 16) : _mm512_setzero_ps();
    __m512 a0 = b0, a1 = b1, a2 = b0, a3 = b1, a4 = b0, a5 = b1, a6 = b0, a7 = b1;
    __m512 a8 = b0, a9 = b1, a10 = b0, a11 = b1, a12 = b0, a13 = b1, a14 = b0, a15 = b1;
    if (add) {
        const float *r = add + t * cout + o;
#define TTS_ADD_ROW(n, lo, hi)                                                      \
    lo = _mm512_add_ps(lo, _mm512_maskz_loadu_ps(m0, r + (n) * cout));              \
    hi = _mm512_add_ps(hi, _mm512_maskz_loadu_ps(m1, r + (n) * cout + 16));
        TTS_ADD_ROW(0, a0, a1) TTS_ADD_ROW(1, a2, a3) TTS_ADD_ROW(2, a4, a5) TTS_ADD_ROW(3, a6, a7)
        TTS_ADD_ROW(4, a8, a9) TTS_ADD_ROW(5, a10, a11) TTS_ADD_ROW(6, a12, a13) TTS_ADD_ROW(7, a14, a15)
#undef TTS_ADD_ROW
    }
    const float *wp = wb;
    for (int64_t j = 0; j < k; j++) {
        const float *x0 = x + (t + j * dil) * cin;
        for (int64_t i = 0; i < cin; i++, wp += 32) {
            __m512 w0 = _mm512_loadu_ps(wp), w1 = _mm512_loadu_ps(wp + 16);
            const float *xi = x0 + i;
            __m512 v;
            v = _mm512_set1_ps(xi[0]);       a0 = _mm512_fmadd_ps(v, w0, a0);   a1 = _mm512_fmadd_ps(v, w1, a1);
            v = _mm512_set1_ps(xi[cin]);     a2 = _mm512_fmadd_ps(v, w0, a2);   a3 = _mm512_fmadd_ps(v, w1, a3);
            v = _mm512_set1_ps(xi[2 * cin]); a4 = _mm512_fmadd_ps(v, w0, a4);   a5 = _mm512_fmadd_ps(v, w1, a5);
            v = _mm512_set1_ps(xi[3 * cin]); a6 = _mm512_fmadd_ps(v, w0, a6);   a7 = _mm512_fmadd_ps(v, w1, a7);
            v = _mm512_set1_ps(xi[4 * cin]); a8 = _mm512_fmadd_ps(v, w0, a8);   a9 = _mm512_fmadd_ps(v, w1, a9);
            v = _mm512_set1_ps(xi[5 * cin]); a10 = _mm512_fmadd_ps(v, w0, a10); a11 = _mm512_fmadd_ps(v, w1, a11);
            v = _mm512_set1_ps(xi[6 * cin]); a12 = _mm512_fmadd_ps(v, w0, a12); a13 = _mm512_fmadd_ps(v, w1, a13);
            v = _mm512_set1_ps(xi[7 * cin]); a14 = _mm512_fmadd_ps(v, w0, a14); a15 = _mm512_fmadd_ps(v, w1, a15);
        }
    }
    float *yr = y + t * cout + o;
    _mm512_mask_storeu_ps(yr, m0, a0);                 _mm512_mask_storeu_ps(yr + 16, m1, a1);
    _mm512_mask_storeu_ps(yr + cout, m0, a2);          _mm512_mask_storeu_ps(yr + cout + 16, m1, a3);
    _mm512_mask_storeu_ps(yr + 2 * cout, m0, a4);      _mm512_mask_storeu_ps(yr + 2 * cout + 16, m1, a5);
    _mm512_mask_storeu_ps(yr + 3 * cout, m0, a6);      _mm512_mask_storeu_ps(yr + 3 * cout + 16, m1, a7);
    _mm512_mask_storeu_ps(yr + 4 * cout, m0, a8);      _mm512_mask_storeu_ps(yr + 4 * cout + 16, m1, a9);
    _mm512_mask_storeu_ps(yr + 5 * cout, m0, a10);     _mm512_mask_storeu_ps(yr + 5 * cout + 16, m1, a11);
    _mm512_mask_storeu_ps(yr + 6 * cout, m0, a12);     _mm512_mask_storeu_ps(yr + 6 * cout + 16, m1, a13);
    _mm512_mask_storeu_ps(yr + 7 * cout, m0, a14);     _mm512_mask_storeu_ps(yr + 7 * cout + 16, m1, a15);
}

// Fewer than 8 tokens (a range's tail): the same arithmetic, accumulators in an array.
TTS_AVX512 static inline void conv_tile_n(const float *x, const float *wb, const float *bias, float *y, int64_t cin,
                                          int64_t cout, int64_t k, int64_t dil, int64_t t, int nt, int64_t o,
                                          __mmask16 m0, __mmask16 m1, const float *add) {
    __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias + o) : _mm512_setzero_ps();
    __m512 b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + o + 16) : _mm512_setzero_ps();
    __m512 a[7][2];
    for (int n = 0; n < nt; n++) {
        a[n][0] = b0;
        a[n][1] = b1;
        if (add) {
            a[n][0] = _mm512_add_ps(b0, _mm512_maskz_loadu_ps(m0, add + (t + n) * cout + o));
            a[n][1] = _mm512_add_ps(b1, _mm512_maskz_loadu_ps(m1, add + (t + n) * cout + o + 16));
        }
    }
    const float *wp = wb;
    for (int64_t j = 0; j < k; j++) {
        const float *x0 = x + (t + j * dil) * cin;
        for (int64_t i = 0; i < cin; i++, wp += 32) {
            __m512 w0 = _mm512_loadu_ps(wp), w1 = _mm512_loadu_ps(wp + 16);
            for (int n = 0; n < nt; n++) {
                __m512 v = _mm512_set1_ps(x0[n * cin + i]);
                a[n][0] = _mm512_fmadd_ps(v, w0, a[n][0]);
                a[n][1] = _mm512_fmadd_ps(v, w1, a[n][1]);
            }
        }
    }
    for (int n = 0; n < nt; n++) {
        _mm512_mask_storeu_ps(y + (t + n) * cout + o, m0, a[n][0]);
        _mm512_mask_storeu_ps(y + (t + n) * cout + o + 16, m1, a[n][1]);
    }
}

TTS_AVX512 void tts_conv_gemm_f32_avx512(const float *x, const float *packed, const float *bias, float *y, int64_t cin,
                                         int64_t cout, int64_t k, int64_t dilation, int64_t t0, int64_t t1, int64_t o0,
                                         int64_t o1, const float *add) {
    // Blocks of 256 tokens; inside, one 32-channel weight block (k*cin*32 floats, contiguous)
    // serves all of the block's tokens while their input rows stay in cache.
    const int64_t TB = 256;
    for (int64_t tb = t0; tb < t1; tb += TB) {
        int64_t te = tb + TB < t1 ? tb + TB : t1;
        for (int64_t o = o0; o < o1; o += 32) {
            __mmask16 m0, m1;
            tts_channel_masks(cout - o, &m0, &m1);
            const float *wb = packed + (o / 32) * k * cin * 32;
            int64_t t = tb;
            for (; t + 8 <= te; t += 8) conv_tile8(x, wb, bias, y, cin, cout, k, dilation, t, o, m0, m1, add);
            if (t < te) conv_tile_n(x, wb, bias, y, cin, cout, k, dilation, t, (int)(te - t), o, m0, m1, add);
        }
    }
}
#endif
