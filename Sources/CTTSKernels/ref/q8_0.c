// q8_0 weights, ggml's block layout: per 32 values an f16 scale d and 32 int8 q (34 bytes),
// value = d * q. Quantisation as ggml: d = max|x| / 127, q = round(x / d).
#include "../include/tts_kernels.h"
#include <math.h>
#include <string.h>

uint16_t tts_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t mant = x & 0x7fffffu;
    int32_t exp = (int32_t)((x >> 23) & 0xff);
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));  // inf / nan
    int32_t e = exp - 127 + 15;
    if (e >= 0x1f) return (uint16_t)(sign | 0x7c00u);  // overflow -> inf
    if (e <= 0) {  // subnormal or zero
        if (e < -10) return (uint16_t)sign;
        mant |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = mant >> shift;
        uint32_t rest = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rest > mid || (rest == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1))) half++;  // may carry into the exponent: correct
    return (uint16_t)half;
}

// roundf (halves away from zero) for |v| < 2^23 without the library call, so the loop below
// vectorizes: the talker's q8_0 KV cache quantizes 16 rows of every layer at every step.
static inline int round_half_away(float v) {
    int i = (int)v;          // toward zero
    float r = v - (float)i;  // exact
    return i + (r >= 0.5f) - (r <= -0.5f);
}

void tts_quantize_q8_0(const float *src, uint8_t *dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++) {
        const float *x = src + b * 32;
        uint8_t *blk = dst + b * TTS_Q8_0_BLOCK_BYTES;
        float amax = 0;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(x[i]));
        float d = amax / 127.0f;
        float id = d != 0 ? 1.0f / d : 0.0f;
        uint16_t dh = tts_f32_to_f16(d);
        memcpy(blk, &dh, 2);
        for (int i = 0; i < 32; i++) blk[2 + i] = (uint8_t)(int8_t)round_half_away(x[i] * id);
    }
}

void tts_dequantize_q8_0(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t b = 0; b < n / 32; b++) {
        const uint8_t *blk = src + b * TTS_Q8_0_BLOCK_BYTES;
        uint16_t dh;
        memcpy(&dh, blk, 2);
        float d = tts_f16_to_f32(dh);
        for (int i = 0; i < 32; i++) dst[b * 32 + i] = d * (float)(int8_t)blk[2 + i];
    }
}

void tts_matmul_q8_0_ref(const uint8_t *w, const float *x, float *y,
                         int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    int64_t nb = cols / 32, row_bytes = nb * TTS_Q8_0_BLOCK_BYTES;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *wr = w + r * row_bytes;
        for (int64_t t = 0; t < n; t++) {
            const float *xt = x + t * cols;
            float sum = 0;
            for (int64_t b = 0; b < nb; b++) {
                const uint8_t *blk = wr + b * TTS_Q8_0_BLOCK_BYTES;
                uint16_t dh;
                memcpy(&dh, blk, 2);
                float s = 0;
                for (int i = 0; i < 32; i++) s += (float)(int8_t)blk[2 + i] * xt[b * 32 + i];
                sum += tts_f16_to_f32(dh) * s;
            }
            y[t * rows + r] = sum;
        }
    }
}

