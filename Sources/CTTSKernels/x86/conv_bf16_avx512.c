// bf16 causal convolution with AVX-512 BF16 dot products: 8 tokens x 32 output channels in 16
// registers; each dpbf16ps adds two input channels' products per output lane.
#if defined(__x86_64__)
#include "../include/tts_kernels.h"
#include <immintrin.h>
#include "channel_masks.h"

#define TTS_BF16 __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,fma")))

TTS_BF16 static inline __attribute__((always_inline)) void tile(const uint32_t *xb, const uint16_t *wb, const float *bias, float *y, int64_t pairs,
                                 int64_t cout, int64_t k, int64_t dil, int64_t t, int nt, int64_t o,
                                 __mmask16 m0, __mmask16 m1) {
    __m512 b0 = bias ? _mm512_maskz_loadu_ps(m0, bias + o) : _mm512_setzero_ps();
    __m512 b1 = bias ? _mm512_maskz_loadu_ps(m1, bias + o + 16) : _mm512_setzero_ps();
    __m512 a[8][2];
    for (int n = 0; n < 8; n++) { a[n][0] = b0; a[n][1] = b1; }
    const uint16_t *wp = wb;
    for (int64_t j = 0; j < k; j++) {
        const uint32_t *x0 = xb + (t + j * dil) * pairs;
        for (int64_t p = 0; p < pairs; p++, wp += 64) {
            __m512bh w0 = (__m512bh)_mm512_loadu_si512((const void *)wp);
            __m512bh w1 = (__m512bh)_mm512_loadu_si512((const void *)(wp + 32));
            for (int n = 0; n < nt; n++) {
                __m512bh v = (__m512bh)_mm512_set1_epi32((int)x0[n * pairs + p]);
                a[n][0] = _mm512_dpbf16_ps(a[n][0], w0, v);
                a[n][1] = _mm512_dpbf16_ps(a[n][1], w1, v);
            }
        }
    }
    for (int n = 0; n < nt; n++) {
        _mm512_mask_storeu_ps(y + (t + n) * cout + o, m0, a[n][0]);
        _mm512_mask_storeu_ps(y + (t + n) * cout + o + 16, m1, a[n][1]);
    }
}

TTS_BF16 static void tile8(const uint32_t *xb, const uint16_t *wb, const float *bias, float *y, int64_t pairs,
                           int64_t cout, int64_t k, int64_t dil, int64_t t, int64_t o, __mmask16 m0, __mmask16 m1) {
    tile(xb, wb, bias, y, pairs, cout, k, dil, t, 8, o, m0, m1);  // nt constant: accumulators in registers
}

TTS_BF16 void tts_conv_gemm_bf16_avx512(const uint32_t *xb, const uint16_t *packed, const float *bias, float *y, int64_t cin,
                                        int64_t cout, int64_t k, int64_t dilation, int64_t t0, int64_t t1) {
    const int64_t TB = 256, pairs = (cin + 1) / 2;
    for (int64_t tb = t0; tb < t1; tb += TB) {
        int64_t te = tb + TB < t1 ? tb + TB : t1;
        for (int64_t o = 0; o < cout; o += 32) {
            __mmask16 m0, m1;
            tts_channel_masks(cout - o, &m0, &m1);
            const uint16_t *wb = packed + (o / 32) * k * pairs * 64;
            int64_t t = tb;
            for (; t + 8 <= te; t += 8) tile8(xb, wb, bias, y, pairs, cout, k, dilation, t, o, m0, m1);
            if (t < te) tile(xb, wb, bias, y, pairs, cout, k, dilation, t, (int)(te - t), o, m0, m1);
        }
    }
}
#endif
