// The weighted-values half of q8_0-cache attention for AVX-512 and AVX2: each value row's blocks
// widened once and added into every head of the group.
#if defined(__x86_64__)
#include "../include/tts_kernels.h"
#include <immintrin.h>
#include <string.h>

#define TTS_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma,f16c")))
#define TTS_AVX2 __attribute__((target("avx2,fma,f16c")))

static inline uint16_t scale_bits(const uint8_t *blk) {
    uint16_t dh;
    memcpy(&dh, blk, 2);
    return dh;
}

// Up to 4 blocks (128 values) of up to 2 heads kept in registers across all keys.
TTS_AVX512 void tts_attention_values_q8_0_avx512(const uint8_t *v, const float *p, float *out, int64_t n_heads,
                                                 int64_t n_keys, int64_t head_dim) {
    const int64_t nb = head_dim / 32, row_bytes = nb * TTS_Q8_0_BLOCK_BYTES;
    for (int64_t h0 = 0; h0 < n_heads; h0 += 2) {
        const int nh = n_heads - h0 >= 2 ? 2 : 1;
        for (int64_t b0 = 0; b0 < nb; b0 += 4) {
            const int blocks = nb - b0 >= 4 ? 4 : (int)(nb - b0);
            __m512 acc[2][8];
            for (int h = 0; h < 2; h++)
                for (int i = 0; i < 8; i++) acc[h][i] = _mm512_setzero_ps();
            for (int64_t j = 0; j < n_keys; j++) {
                const uint8_t *row = v + j * row_bytes + b0 * TTS_Q8_0_BLOCK_BYTES;
                const float p0 = p[h0 * n_keys + j], p1 = nh == 2 ? p[(h0 + 1) * n_keys + j] : 0;
                for (int b = 0; b < blocks; b++) {
                    const uint8_t *blk = row + b * TTS_Q8_0_BLOCK_BYTES;
                    const float d = _cvtsh_ss(scale_bits(blk));
                    __m512 lo = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(blk + 2))));
                    __m512 hi = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(blk + 18))));
                    __m512 w0 = _mm512_set1_ps(p0 * d);
                    acc[0][2 * b] = _mm512_fmadd_ps(w0, lo, acc[0][2 * b]);
                    acc[0][2 * b + 1] = _mm512_fmadd_ps(w0, hi, acc[0][2 * b + 1]);
                    if (nh == 2) {
                        __m512 w1 = _mm512_set1_ps(p1 * d);
                        acc[1][2 * b] = _mm512_fmadd_ps(w1, lo, acc[1][2 * b]);
                        acc[1][2 * b + 1] = _mm512_fmadd_ps(w1, hi, acc[1][2 * b + 1]);
                    }
                }
            }
            for (int h = 0; h < nh; h++)
                for (int i = 0; i < 2 * blocks; i++) _mm512_storeu_ps(out + (h0 + h) * head_dim + b0 * 32 + 16 * i, acc[h][i]);
        }
    }
}

// AVX2 has too few registers to hold a head: the outputs (in L1) are read and written per block.
TTS_AVX2 void tts_attention_values_q8_0_avx2(const uint8_t *v, const float *p, float *out, int64_t n_heads,
                                             int64_t n_keys, int64_t head_dim) {
    const int64_t nb = head_dim / 32, row_bytes = nb * TTS_Q8_0_BLOCK_BYTES;
    memset(out, 0, (size_t)(n_heads * head_dim) * sizeof(float));
    for (int64_t j = 0; j < n_keys; j++) {
        const uint8_t *row = v + j * row_bytes;
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = row + b * TTS_Q8_0_BLOCK_BYTES;
            const float d = _cvtsh_ss(scale_bits(blk));
            __m256 x[4];
            for (int k = 0; k < 4; k++) x[k] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(blk + 2 + 8 * k))));
            for (int64_t h = 0; h < n_heads; h++) {
                __m256 w = _mm256_set1_ps(p[h * n_keys + j] * d);
                float *o = out + h * head_dim + b * 32;
                for (int k = 0; k < 4; k++) _mm256_storeu_ps(o + 8 * k, _mm256_fmadd_ps(w, x[k], _mm256_loadu_ps(o + 8 * k)));
            }
        }
    }
}
#endif
