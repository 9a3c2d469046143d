// NEON matrix products against f32, bf16 and q8_0 weights (f32 activations): blocks of 4 rows x
// up to 2 tokens, 8 columns per step in two 4-lane accumulators each, scalar tails. The sums are
// those of the `_ref` twins in another order (bound: 1e-5 relative, CTTSKernelsTests and the
// qemu twin driver).
#if defined(__aarch64__)
#include "../include/tts_kernels.h"
#include "neon_common.h"

// One block: rows r..r+nr-1 (nr <= 4) against tokens t..t+nt-1 (nt <= 2); WLOAD(p) gives 4 f32
// weights at p, WSCALAR(p) one.
#define NEON_BLOCK(WTYPE, WLOAD, WSCALAR)                                                          \
    float32x4_t acc[4][2][2];                                                                      \
    for (int i = 0; i < 4; i++)                                                                    \
        for (int j = 0; j < 2; j++) acc[i][j][0] = acc[i][j][1] = vdupq_n_f32(0);                  \
    const WTYPE *wr[4];                                                                            \
    for (int i = 0; i < 4; i++) wr[i] = w + (r + (i < nr ? i : 0)) * cols;                         \
    const float *xt[2] = {x + t * cols, x + (t + (nt > 1 ? 1 : 0)) * cols};                        \
    int64_t c = 0;                                                                                 \
    for (; c + 8 <= cols; c += 8) {                                                                \
        float32x4_t x00 = vld1q_f32(xt[0] + c), x01 = vld1q_f32(xt[0] + c + 4);                    \
        float32x4_t x10 = vld1q_f32(xt[1] + c), x11 = vld1q_f32(xt[1] + c + 4);                    \
        for (int i = 0; i < nr; i++) {                                                             \
            float32x4_t w0 = WLOAD(wr[i] + c), w1 = WLOAD(wr[i] + c + 4);                          \
            acc[i][0][0] = vfmaq_f32(acc[i][0][0], w0, x00);                                       \
            acc[i][0][1] = vfmaq_f32(acc[i][0][1], w1, x01);                                       \
            acc[i][1][0] = vfmaq_f32(acc[i][1][0], w0, x10);                                       \
            acc[i][1][1] = vfmaq_f32(acc[i][1][1], w1, x11);                                       \
        }                                                                                          \
    }                                                                                              \
    for (int i = 0; i < nr; i++)                                                                   \
        for (int j = 0; j < nt; j++) {                                                             \
            float s = vaddvq_f32(vaddq_f32(acc[i][j][0], acc[i][j][1]));                           \
            for (int64_t k = c; k < cols; k++) s += WSCALAR(wr[i] + k) * xt[j][k];                 \
            y[(t + j) * rows + r + i] = s;                                                         \
        }

#define F32_LOAD(p) vld1q_f32(p)
#define F32_SCALAR(p) (*(p))
#define BF16_LOAD(p) tts_neon_bf16x4(p)
#define BF16_SCALAR(p) tts_bf16_to_f32(*(p))

// The product over rows [r0, r1) and all n tokens, in blocks of 4 rows x 2 tokens.
#define NEON_MATMUL(NAME, WTYPE, WLOAD, WSCALAR)                                                       \
    void NAME(const WTYPE *w, const float *x, float *y, int64_t rows, int64_t cols, int64_t n, int64_t r0, \
              int64_t r1) {                                                                             \
        for (int64_t r = r0; r < r1; r += 4) {                                                          \
            int nr = r1 - r < 4 ? (int)(r1 - r) : 4;                                                    \
            for (int64_t t = 0; t < n; t += 2) {                                                        \
                int nt = n - t < 2 ? (int)(n - t) : 2;                                                  \
                NEON_BLOCK(WTYPE, WLOAD, WSCALAR)                                                       \
            }                                                                                           \
        }                                                                                               \
    }

NEON_MATMUL(tts_matmul_f32_neon, float, F32_LOAD, F32_SCALAR)
NEON_MATMUL(tts_matmul_bf16_neon, uint16_t, BF16_LOAD, BF16_SCALAR)

// One q8_0 block (32 int8 quants, widened to f32) against 32 activations, in 4 lanes; the caller
// scales the sum by the block's f16 scale, as the reference does.
TTS_BLOCK float32x4_t q8_0_block(const uint8_t *blk, const float *xb) {
    TTS_MCA_BEGIN("q8_0");
    int8x16_t q0 = vld1q_s8((const int8_t *)blk + 2), q1 = vld1q_s8((const int8_t *)blk + 18);
    int16x8_t h[4] = {vmovl_s8(vget_low_s8(q0)), vmovl_high_s8(q0), vmovl_s8(vget_low_s8(q1)), vmovl_high_s8(q1)};
    float32x4_t s0 = vdupq_n_f32(0), s1 = s0;
    _Pragma("GCC unroll 4") for (int k = 0; k < 4; k++) {
        s0 = vfmaq_f32(s0, vcvtq_f32_s32(vmovl_s16(vget_low_s16(h[k]))), vld1q_f32(xb + 8 * k));
        s1 = vfmaq_f32(s1, vcvtq_f32_s32(vmovl_high_s16(h[k])), vld1q_f32(xb + 8 * k + 4));
    }
    float32x4_t s = vaddq_f32(s0, s1);
    TTS_MCA_END();
    return s;
}

// q8_0 against f32 activations: each 32-value block's products summed and scaled by its f16
// scale (as the reference does), one row and up to 2 tokens at a time.
void tts_matmul_q8_0_neon(const uint8_t *w, const float *x, float *y, int64_t rows, int64_t cols, int64_t n,
                          int64_t r0, int64_t r1) {
    int64_t nb = cols / 32, row_bytes = nb * TTS_Q8_0_BLOCK_BYTES;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *wr = w + r * row_bytes;
        for (int64_t t = 0; t < n; t++) {
            const float *xt = x + t * cols;
            float32x4_t total = vdupq_n_f32(0);
            for (int64_t b = 0; b < nb; b++) {
                const uint8_t *blk = wr + b * TTS_Q8_0_BLOCK_BYTES;
                total = vfmaq_n_f32(total, q8_0_block(blk, xt + b * 32), tts_neon_f16((uint16_t)(blk[0] | (blk[1] << 8))));
            }
            y[t * rows + r] = vaddvq_f32(total);
        }
    }
}
#endif
