// Causal conv as one GEMM over all taps (AVX2), on weights packed in blocks of 32 output channels
// (tts_conv_pack_f32): 3 tokens x 32 channels in 12 registers, the block's weights streamed in
// order; a partial last channel block is computed in full (its packed weights are zero) and
// stored through a buffer.
#if defined(__x86_64__)
#include "../include/tts_kernels.h"
#include "../ref/conv_gemm_tiles.h"
#include <immintrin.h>
#include <string.h>

#define TTS_AVX2 __attribute__((target("avx2,fma")))

TTS_AVX2 static inline __attribute__((always_inline)) void conv_tile(const float *x, const float *wb, const float *bias, float *y, int64_t cin,
                                      int64_t cout, int64_t k, int64_t dil, int64_t t, int nt, int64_t o, const float *add) {
    int64_t width = cout - o < 32 ? cout - o : 32;
    float b[32] = {0};
    if (bias) memcpy(b, bias + o, (size_t)width * sizeof(float));
    __m256 a[3][4];
    for (int n = 0; n < 3; n++)
        for (int q = 0; q < 4; q++) a[n][q] = _mm256_loadu_ps(b + 8 * q);
    for (int n = 0; add && n < nt; n++) {
        float r[32] = {0};
        memcpy(r, add + (t + n) * cout + o, (size_t)width * sizeof(float));
        for (int q = 0; q < 4; q++) a[n][q] = _mm256_add_ps(a[n][q], _mm256_loadu_ps(r + 8 * q));
    }
    const float *wp = wb;
    for (int64_t j = 0; j < k; j++) {
        const float *x0 = x + (t + j * dil) * cin;
        for (int64_t i = 0; i < cin; i++, wp += 32) {
            // 12 accumulators + 3 broadcasts + 1 weight vector: the 16 ymm registers exactly
            // (holding all four weight vectors at once would spill).
            __m256 v[3];
            for (int n = 0; n < nt; n++) v[n] = _mm256_broadcast_ss(x0 + n * cin + i);
            for (int q = 0; q < 4; q++) {
                __m256 w = _mm256_loadu_ps(wp + 8 * q);
                for (int n = 0; n < nt; n++) a[n][q] = _mm256_fmadd_ps(v[n], w, a[n][q]);
            }
        }
    }
    for (int n = 0; n < nt; n++) {
        float *yr = y + (t + n) * cout + o;
        if (width == 32) {
            for (int q = 0; q < 4; q++) _mm256_storeu_ps(yr + 8 * q, a[n][q]);
        } else {
            float out[32];
            for (int q = 0; q < 4; q++) _mm256_storeu_ps(out + 8 * q, a[n][q]);
            memcpy(yr, out, (size_t)width * sizeof(float));
        }
    }
}

TTS_AVX2 void tts_conv_gemm_f32_avx2(const float *x, const float *packed, const float *bias, float *y, int64_t cin,
                                     int64_t cout, int64_t k, int64_t dilation, int64_t t0, int64_t t1, int64_t o0,
                                     int64_t o1, const float *add) {
#define TILE(t, nt, o, wb) conv_tile(x, wb, bias, y, cin, cout, k, dilation, t, nt, o, add)
    TTS_CONV_GEMM_TILES(192, 3, TILE)
#undef TILE
}
#endif
