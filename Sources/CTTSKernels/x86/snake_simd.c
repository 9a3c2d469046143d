// SnakeBeta (token-major) with a vectorized sine: x = k*(pi/2) + r, |r| <= pi/4, r from a
// three-part Cody-Waite reduction with FMA, minimax sin/cos polynomials on r, quadrant select.
// Accurate to a few ulp for |x| < 1e4 (the decoder's activations stay far below).
#if defined(__x86_64__)
#include "../include/tts_kernels.h"
#include <immintrin.h>
#include <math.h>

#define TTS_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))
#define TTS_AVX2 __attribute__((target("avx2,fma")))

#define TWO_OVER_PI 0.636619772367581343f
#define P1 1.5703125f
#define P2 4.837512969970703125e-4f
#define P3 7.54978995489188216e-8f
#define S1 -1.6666654611e-1f
#define S2 8.3321608736e-3f
#define S3 -1.9515295891e-4f
#define C1 4.166664568298827e-2f
#define C2 -1.388731625493765e-3f
#define C3 2.443315711809948e-5f

TTS_AVX512 static inline __m512 sin512(__m512 x) {
    __m512 k = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(TWO_OVER_PI)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(P1), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(P2), r);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(P3), r);
    __m512 r2 = _mm512_mul_ps(r, r);
    __m512 ps = _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(S3), r2, _mm512_set1_ps(S2)), r2, _mm512_set1_ps(S1));
    __m512 s = _mm512_fmadd_ps(_mm512_mul_ps(ps, r2), r, r);
    __m512 pc = _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(C3), r2, _mm512_set1_ps(C2)), r2, _mm512_set1_ps(C1));
    __m512 c = _mm512_fmadd_ps(_mm512_mul_ps(pc, r2), r2, _mm512_fnmadd_ps(_mm512_set1_ps(0.5f), r2, _mm512_set1_ps(1.0f)));
    __m512i q = _mm512_cvtps_epi32(k);
    __mmask16 odd = _mm512_test_epi32_mask(q, _mm512_set1_epi32(1));
    __mmask16 neg = _mm512_test_epi32_mask(q, _mm512_set1_epi32(2));
    __m512 v = _mm512_mask_blend_ps(odd, s, c);
    return _mm512_mask_sub_ps(v, neg, _mm512_setzero_ps(), v);
}

TTS_AVX512 void tts_snake_tm_f32_avx512(const float *x, float *y, const float *a, const float *inv_b,
                                        int64_t channels, int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++) {
        const float *xt = x + t * channels;
        float *yt = y + t * channels;
        for (int64_t c = 0; c < channels; c += 16) {
            __mmask16 m = channels - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (channels - c)) - 1);
            __m512 xv = _mm512_maskz_loadu_ps(m, xt + c);
            __m512 s = sin512(_mm512_mul_ps(xv, _mm512_maskz_loadu_ps(m, a + c)));
            _mm512_mask_storeu_ps(yt + c, m, _mm512_fmadd_ps(_mm512_mul_ps(s, s), _mm512_maskz_loadu_ps(m, inv_b + c), xv));
        }
    }
}

TTS_AVX2 static inline __m256 sin256(__m256 x) {
    __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(TWO_OVER_PI)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(P1), x);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(P2), r);
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(P3), r);
    __m256 r2 = _mm256_mul_ps(r, r);
    __m256 ps = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(S3), r2, _mm256_set1_ps(S2)), r2, _mm256_set1_ps(S1));
    __m256 s = _mm256_fmadd_ps(_mm256_mul_ps(ps, r2), r, r);
    __m256 pc = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(C3), r2, _mm256_set1_ps(C2)), r2, _mm256_set1_ps(C1));
    __m256 c = _mm256_fmadd_ps(_mm256_mul_ps(pc, r2), r2, _mm256_fnmadd_ps(_mm256_set1_ps(0.5f), r2, _mm256_set1_ps(1.0f)));
    __m256i q = _mm256_cvtps_epi32(k);
    __m256 odd = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(q, _mm256_set1_epi32(1)), _mm256_set1_epi32(1)));
    __m256 neg = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_and_si256(q, _mm256_set1_epi32(2)), 30));
    __m256 v = _mm256_blendv_ps(s, c, odd);
    return _mm256_xor_ps(v, neg);
}

TTS_AVX2 void tts_snake_tm_f32_avx2(const float *x, float *y, const float *a, const float *inv_b,
                                    int64_t channels, int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++) {
        const float *xt = x + t * channels;
        float *yt = y + t * channels;
        int64_t c = 0;
        for (; c + 8 <= channels; c += 8) {
            __m256 xv = _mm256_loadu_ps(xt + c);
            __m256 s = sin256(_mm256_mul_ps(xv, _mm256_loadu_ps(a + c)));
            _mm256_storeu_ps(yt + c, _mm256_fmadd_ps(_mm256_mul_ps(s, s), _mm256_loadu_ps(inv_b + c), xv));
        }
        for (; c < channels; c++) {
            float s = sinf(xt[c] * a[c]);
            yt[c] = xt[c] + s * s * inv_b[c];
        }
    }
}
#endif
