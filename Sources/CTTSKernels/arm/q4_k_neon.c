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

// The eight sub-block sums of one block (32 nibbles each against their activations), in lanes.
#define Q4K_PARTS(part, blk, SUBBLOCK_SUM)                                                                     \
    _Pragma("GCC unroll 4") for (int p = 0; p < 4; p++) {                                                      \
        uint8x16_t q0 = vld1q_u8((blk) + 16 + 32 * p), q1 = vld1q_u8((blk) + 32 + 32 * p);                     \
        int8x16_t lo0 = vreinterpretq_s8_u8(vandq_u8(q0, nib)), lo1 = vreinterpretq_s8_u8(vandq_u8(q1, nib));  \
        int8x16_t hi0 = vreinterpretq_s8_u8(vshrq_n_u8(q0, 4)), hi1 = vreinterpretq_s8_u8(vshrq_n_u8(q1, 4));   \
        part[2 * p] = SUBBLOCK_SUM(lo0, lo1, x[2 * p]);                                                        \
        part[2 * p + 1] = SUBBLOCK_SUM(hi0, hi1, x[2 * p + 1]);                                                \
    }

// sum_j sc_j * part_j: the eight sums folded by pairwise adds into one lane per sub-block (no chain
// through one accumulator), weighted by the 6-bit scales in two vector multiplies. Exact in int32.
static inline int32_t q4k_weigh(const int32x4_t part[8], uint64_t sc) {
    int32x4_t s0123 = vpaddq_s32(vpaddq_s32(part[0], part[1]), vpaddq_s32(part[2], part[3]));
    int32x4_t s4567 = vpaddq_s32(vpaddq_s32(part[4], part[5]), vpaddq_s32(part[6], part[7]));
    uint16x8_t scales = vmovl_u8(vcreate_u8(sc));
    int32x4_t weighted = vmulq_s32(s0123, vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(scales))));
    return vaddvq_s32(vmlaq_s32(weighted, s4567, vreinterpretq_s32_u32(vmovl_high_u16(scales))));
}

// One block of two rows against the same activations (loaded once for both): each row's
// sum_j sc_j * (nibbles of sub-block j . its activations).
#define Q4K_BLOCK2(SUBBLOCK_SUM, NAME)                                                                         \
    TTS_MCA_BEGIN(NAME);                                                                                       \
    const uint8x16_t nib = vdupq_n_u8(0x0F);                                                                   \
    int8x16x2_t x[8];                                                                                          \
    for (int j = 0; j < 8; j++) x[j] = vld1q_s8_x2(xb + tts_q4_k_x_offset(j));                                \
    int32x4_t part0[8], part1[8];                                                                              \
    Q4K_PARTS(part0, blk0, SUBBLOCK_SUM)                                                                       \
    Q4K_PARTS(part1, blk1, SUBBLOCK_SUM)                                                                       \
    dots[0] = q4k_weigh(part0, sc0);                                                                           \
    dots[1] = q4k_weigh(part1, sc1);                                                                           \
    TTS_MCA_END();

// One block of one row (the odd row of a range).
#define Q4K_BLOCK1(SUBBLOCK_SUM)                                                                               \
    const uint8x16_t nib = vdupq_n_u8(0x0F);                                                                   \
    int8x16x2_t x[8];                                                                                          \
    for (int j = 0; j < 8; j++) x[j] = vld1q_s8_x2(xb + tts_q4_k_x_offset(j));                                \
    int32x4_t part[8];                                                                                         \
    Q4K_PARTS(part, blk0, SUBBLOCK_SUM)                                                                        \
    return q4k_weigh(part, sc0);

#define PLAIN_SUM(a, b, xx) q4k_mul_add(q4k_mul_add(vdupq_n_s32(0), a, (xx).val[0]), b, (xx).val[1])
#define DOT_SUM(a, b, xx) vdotq_s32(vdotq_s32(vdupq_n_s32(0), a, (xx).val[0]), b, (xx).val[1])

TTS_BLOCK void q4k_block2_plain(const uint8_t *blk0, const uint8_t *blk1, const int8_t *xb, uint64_t sc0, uint64_t sc1,
                                int32_t dots[2]) {
    Q4K_BLOCK2(PLAIN_SUM, "q4_k-armv8.0")
}

TTS_BLOCK TTS_DOTPROD void q4k_block2_sdot(const uint8_t *blk0, const uint8_t *blk1, const int8_t *xb, uint64_t sc0,
                                           uint64_t sc1, int32_t dots[2]) {
    Q4K_BLOCK2(DOT_SUM, "q4_k-sdot")
}

static inline int32_t q4k_block1_plain(const uint8_t *blk0, const int8_t *xb, uint64_t sc0) { Q4K_BLOCK1(PLAIN_SUM) }

TTS_DOTPROD static inline int32_t q4k_block1_sdot(const uint8_t *blk0, const int8_t *xb, uint64_t sc0) { Q4K_BLOCK1(DOT_SUM) }

// Rows two at a time (the activations and the loop shared), then a last odd row; each row's
// blocks accumulate in f32 in block order, as the reference does.
#define Q4K_ROW_LOOP(BLOCK2, BLOCK1)                                                                       \
    int64_t nblocks = cols / 256, row_bytes = nblocks * TTS_Q4_K_BLOCK_BYTES;                              \
    int64_t r = r0;                                                                                        \
    for (; r + 2 <= r1; r += 2) {                                                                          \
        float total0 = 0, total1 = 0;                                                                      \
        for (int64_t b = 0; b < nblocks; b++) {                                                            \
            const uint8_t *blk0 = w + r * row_bytes + b * TTS_Q4_K_BLOCK_BYTES, *blk1 = blk0 + row_bytes;  \
            uint64_t sc0, m0, sc1, m1;                                                                     \
            uint16_t d0, dm0, d1, dm1;                                                                     \
            tts_q4_k_header(blk0, &d0, &dm0, &sc0, &m0);                                                   \
            tts_q4_k_header(blk1, &d1, &dm1, &sc1, &m1);                                                   \
            int32_t dots[2];                                                                               \
            BLOCK2(blk0, blk1, xq + b * 256, sc0, sc1, dots);                                              \
            total0 += xd[b] * (tts_neon_f16(d0) * (float)dots[0] - tts_neon_f16(dm0) * (float)q4k_mins(m0, xsum + b * 8)); \
            total1 += xd[b] * (tts_neon_f16(d1) * (float)dots[1] - tts_neon_f16(dm1) * (float)q4k_mins(m1, xsum + b * 8)); \
        }                                                                                                  \
        y[r] = total0;                                                                                     \
        y[r + 1] = total1;                                                                                 \
    }                                                                                                      \
    if (r < r1) {                                                                                          \
        float total = 0;                                                                                   \
        for (int64_t b = 0; b < nblocks; b++) {                                                            \
            const uint8_t *blk0 = w + r * row_bytes + b * TTS_Q4_K_BLOCK_BYTES;                            \
            uint64_t sc0, m0;                                                                              \
            uint16_t d0, dm0;                                                                              \
            tts_q4_k_header(blk0, &d0, &dm0, &sc0, &m0);                                                   \
            int32_t dots = BLOCK1(blk0, xq + b * 256, sc0);                                                \
            total += xd[b] * (tts_neon_f16(d0) * (float)dots - tts_neon_f16(dm0) * (float)q4k_mins(m0, xsum + b * 8)); \
        }                                                                                                  \
        y[r] = total;                                                                                      \
    }

void tts_q4_k_matvec_neon(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum, float *y,
                          int64_t cols, int64_t r0, int64_t r1) {
    Q4K_ROW_LOOP(q4k_block2_plain, q4k_block1_plain)
}

TTS_DOTPROD void tts_q4_k_matvec_neon_dotprod(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum,
                                              float *y, int64_t cols, int64_t r0, int64_t r1) {
    Q4K_ROW_LOOP(q4k_block2_sdot, q4k_block1_sdot)
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
