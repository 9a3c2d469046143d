// The decoder's convolutions on NEON: the causal conv as one GEMM over all taps on weights packed
// in blocks of 32 output channels (tts_conv_pack_f32), 2 tokens x 32 channels in 16 of the 32
// vector registers (3 tokens spilled: with the 8 weight vectors in flight they need 35), 4 input
// channels per activation load (fused multiply-adds by lane); and the
// Winograd F(4,4) transforms of the kernel-7 convs (ref/conv_winograd_internal.h's tile code,
// vectorized by the compiler for NEON).
#if defined(__aarch64__)
#include "../include/tts_kernels.h"
#include "../ref/conv_gemm_tiles.h"
#include "../ref/conv_winograd_internal.h"
#include "neon_common.h"

static inline __attribute__((always_inline)) void conv_tile(const float *x, const float *wb, const float *bias, float *y,
                                                            int64_t cin, int64_t cout, int64_t k, int64_t dil, int64_t t, int nt,
                                                            int64_t o, const float *add) {
    int64_t width = cout - o < 32 ? cout - o : 32;
    float start[2][32];
    for (int n = 0; n < 2; n++)
        for (int c = 0; c < 32; c++)
            start[n][c] = (c < width && bias ? bias[o + c] : 0.0f) + (c < width && add && n < nt ? add[(t + n) * cout + o + c] : 0.0f);
    float32x4_t a[2][8];
    for (int n = 0; n < 2; n++)
        for (int q = 0; q < 8; q++) a[n][q] = vld1q_f32(start[n] + 4 * q);
    const float *wp = wb;
    for (int64_t j = 0; j < k; j++) {
        const float *x0 = x + (t + j * dil) * cin;
        int64_t i = 0;
        for (; i + 4 <= cin; i += 4) {
            TTS_MCA_BEGIN("conv-gemm");
            float32x4_t v[2];
            for (int n = 0; n < nt; n++) v[n] = vld1q_f32(x0 + n * cin + i);
#define LANE(L)                                                                               \
    for (int q = 0; q < 8; q++) {                                                            \
        float32x4_t w = vld1q_f32(wp + 32 * (L) + 4 * q);                                    \
        for (int n = 0; n < nt; n++) a[n][q] = vfmaq_laneq_f32(a[n][q], w, v[n], L);        \
    }
            LANE(0) LANE(1) LANE(2) LANE(3)
#undef LANE
            wp += 128;
            TTS_MCA_END();
        }
        for (; i < cin; i++, wp += 32)
            for (int q = 0; q < 8; q++) {
                float32x4_t w = vld1q_f32(wp + 4 * q);
                for (int n = 0; n < nt; n++) a[n][q] = vfmaq_n_f32(a[n][q], w, x0[n * cin + i]);
            }
    }
    for (int n = 0; n < nt; n++) {
        float *yr = y + (t + n) * cout + o;
        if (width == 32) {
            for (int q = 0; q < 8; q++) vst1q_f32(yr + 4 * q, a[n][q]);
        } else {
            float out[32];
            for (int q = 0; q < 8; q++) vst1q_f32(out + 4 * q, a[n][q]);
            for (int64_t c = 0; c < width; c++) yr[c] = out[c];
        }
    }
}

void tts_conv_gemm_f32_neon(const float *x, const float *packed, const float *bias, float *y, int64_t cin, int64_t cout,
                            int64_t k, int64_t dilation, int64_t t0, int64_t t1, int64_t o0, int64_t o1, const float *add) {
#define TILE(t, nt, o, wb) conv_tile(x, wb, bias, y, cin, cout, k, dilation, t, nt, o, add)
    TTS_CONV_GEMM_TILES(192, 2, TILE)
#undef TILE
}

void tts_wino_input_neon(const float *const x[TTS_WINO_POINTS], float *const u[TTS_WINO_POINTS], int64_t n) {
    tts_wino_input_tile(x[0], x[1], x[2], x[3], x[4], x[5], x[6], u[0], u[1], u[2], u[3], u[4], u[5], u[6], n);
}

void tts_wino_output_neon(const float *const m[TTS_WINO_POINTS], const float *bias, float *const y[TTS_WINO_TILE], int64_t n) {
    tts_wino_output_tile(m[0], m[1], m[2], m[3], m[4], m[5], m[6], bias, y[0], y[1], y[2], y[3], n);
}
#endif
