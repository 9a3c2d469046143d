// q4_k products on int8 activations (ref/q4_k.c) and q4_k dequantization, for NEON.
// Per block, each sub-block's 32 nibble x activation products are summed exactly in int32 lanes
// (ARMv8.0: widening multiplies and pairwise accumulation; with dotprod: sdot, 4 products per
// lane per instruction), weighted by the sub-block's 6-bit scale in integers, and converted to f32
// once per block, as the reference does: the integer sums are equal, only f32 rounding differs.
#if defined(__aarch64__)
#include "../include/tts_kernels.h"
#include "../ref/q4_k_internal.h"
#include "neon_common.h"

// The block's min term: sum_j m_j * xsum_j (exact in int32).
static inline int32_t q4k_mins(uint64_t packed_m, const int32_t *xsum) {
    int32_t mins = 0;
    for (int j = 0; j < 8; j++) mins += (int32_t)((packed_m >> (8 * j)) & 0xFF) * xsum[j];
    return mins;
}

// Sum of 16 products of nibbles (as int8) and activations, accumulated pairwise into 4 lanes.
static inline int32x4_t q4k_mul_add(int32x4_t acc, int8x16_t q, int8x16_t x) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(q), vget_low_s8(x)));
    return vpadalq_s16(acc, vmull_high_s8(q, x));
}

#define Q4K_ROW_LOOP(SUBBLOCK_SUM)                                                                         \
    int64_t nblocks = cols / 256;                                                                          \
    const uint8x16_t nib = vdupq_n_u8(0x0F);                                                               \
    for (int64_t r = r0; r < r1; r++) {                                                                    \
        const uint8_t *row = w + r * nblocks * TTS_Q4_K_BLOCK_BYTES;                                       \
        float total = 0;                                                                                   \
        for (int64_t b = 0; b < nblocks; b++) {                                                            \
            const uint8_t *blk = row + b * TTS_Q4_K_BLOCK_BYTES;                                           \
            uint64_t sc, m;                                                                                \
            uint16_t d16, m16;                                                                             \
            tts_q4_k_header(blk, &d16, &m16, &sc, &m);                                                     \
            const int8_t *xb = xq + b * 256;                                                               \
            int32x4_t isum = vdupq_n_s32(0);                                                               \
            for (int p = 0; p < 4; p++) {                                                                  \
                uint8x16_t q0 = vld1q_u8(blk + 16 + 32 * p), q1 = vld1q_u8(blk + 32 + 32 * p);             \
                int8x16_t lo0 = vreinterpretq_s8_u8(vandq_u8(q0, nib)), lo1 = vreinterpretq_s8_u8(vandq_u8(q1, nib)); \
                int8x16_t hi0 = vreinterpretq_s8_u8(vshrq_n_u8(q0, 4)), hi1 = vreinterpretq_s8_u8(vshrq_n_u8(q1, 4));  \
                const int8_t *xl = xb + tts_q4_k_x_offset(2 * p), *xh = xb + tts_q4_k_x_offset(2 * p + 1);   \
                int32x4_t slo = SUBBLOCK_SUM(lo0, lo1, xl), shi = SUBBLOCK_SUM(hi0, hi1, xh);             \
                isum = vmlaq_n_s32(isum, slo, (int32_t)((sc >> (16 * p)) & 0xFF));                         \
                isum = vmlaq_n_s32(isum, shi, (int32_t)((sc >> (16 * p + 8)) & 0xFF));                     \
            }                                                                                              \
            int32_t dots = vaddvq_s32(isum), mins = q4k_mins(m, xsum + b * 8);                             \
            total += xd[b] * (tts_neon_f16(d16) * (float)dots - tts_neon_f16(m16) * (float)mins);          \
        }                                                                                                  \
        y[r] = total;                                                                                      \
    }

#define PLAIN_SUM(a, b, x) q4k_mul_add(q4k_mul_add(vdupq_n_s32(0), a, vld1q_s8(x)), b, vld1q_s8((x) + 16))
#define DOT_SUM(a, b, x) vdotq_s32(vdotq_s32(vdupq_n_s32(0), a, vld1q_s8(x)), b, vld1q_s8((x) + 16))

void tts_q4_k_matvec_neon(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum, float *y,
                          int64_t cols, int64_t r0, int64_t r1) {
    Q4K_ROW_LOOP(PLAIN_SUM)
}

TTS_DOTPROD void tts_q4_k_matvec_neon_dotprod(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum,
                                              float *y, int64_t cols, int64_t r0, int64_t r1) {
    Q4K_ROW_LOOP(DOT_SUM)
}

// Dequantization for the many-token product: value = d*sc_j*q - dmin*m_j, 4 values per step.
void tts_dequantize_q4_k_neon(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t b = 0; b < n / 256; b++) {
        const uint8_t *blk = src + b * TTS_Q4_K_BLOCK_BYTES;
        uint64_t sc, m;
        uint16_t d16, m16;
        tts_q4_k_header(blk, &d16, &m16, &sc, &m);
        float d = tts_neon_f16(d16), dmin = tts_neon_f16(m16);
        float *y = dst + b * 256;
        for (int p = 0; p < 4; p++) {
            uint8x16_t q[2] = {vld1q_u8(blk + 16 + 32 * p), vld1q_u8(blk + 32 + 32 * p)};
            for (int half = 0; half < 2; half++) {  // low nibbles: sub-block 2p; high: 2p+1
                int j = 2 * p + half;
                float scale = d * (float)((sc >> (8 * j)) & 0xFF), offset = dmin * (float)((m >> (8 * j)) & 0xFF);
                float *out = y + 64 * p + 32 * half;
                for (int k = 0; k < 2; k++) {
                    uint8x16_t v = half ? vshrq_n_u8(q[k], 4) : vandq_u8(q[k], vdupq_n_u8(0x0F));
                    uint16x8_t h[2] = {vmovl_u8(vget_low_u8(v)), vmovl_high_u8(v)};
                    for (int e = 0; e < 2; e++) {
                        float32x4_t f0 = vcvtq_f32_u32(vmovl_u16(vget_low_u16(h[e])));
                        float32x4_t f1 = vcvtq_f32_u32(vmovl_high_u16(h[e]));
                        vst1q_f32(out + 16 * k + 8 * e, vsubq_f32(vmulq_n_f32(f0, scale), vdupq_n_f32(offset)));
                        vst1q_f32(out + 16 * k + 8 * e + 4, vsubq_f32(vmulq_n_f32(f1, scale), vdupq_n_f32(offset)));
                    }
                }
            }
        }
    }
}
#endif
