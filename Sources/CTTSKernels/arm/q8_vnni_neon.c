// q8_0 in "VNNI order" (ref/q8_vnni.c) with sdot: the layout the x86 integer kernels read, so the
// same repacked matrix and quantized activations serve here. A group's 64-byte chunk k is four
// 16-byte vectors; vector v holds 4 quants of each of blocks 4v..4v+3, so sdot leaves each
// block's dot product in one lane of accumulator v after the 8 chunks. The quants are stored as
// q + 128 (for vpdpbusd's unsigned operand); flipping the top bit gives q back, and the signed
// product needs no bias correction: the integer sums equal the reference's, only the f32 order
// differs.
#if defined(__aarch64__)
#include "../include/tts_kernels.h"
#include "neon_common.h"

// One group (16 blocks, 512 weights) of two rows: each row's 16 block dots, signed.
TTS_BLOCK TTS_DOTPROD void q8v_group2(const uint8_t *w0, const uint8_t *w1, const int8_t *xg, int32x4_t d0[4],
                                      int32x4_t d1[4]) {
    TTS_MCA_BEGIN("q8_0-sdot");
    const uint8x16_t bias = vdupq_n_u8(0x80);
    // Accumulators in locals, stored once at the end: stores through d0/d1 inside the loop would
    // have to stay ordered with the byte loads (char pointers may alias anything).
    int32x4_t a0[4], a1[4];
    for (int v = 0; v < 4; v++) a0[v] = a1[v] = vdupq_n_s32(0);
    _Pragma("GCC unroll 8") for (int k = 0; k < 8; k++) {
        _Pragma("GCC unroll 4") for (int v = 0; v < 4; v++) {
            int8x16_t x = vld1q_s8(xg + 64 * k + 16 * v);
            a0[v] = vdotq_s32(a0[v], vreinterpretq_s8_u8(veorq_u8(vld1q_u8(w0 + 64 * k + 16 * v), bias)), x);
            a1[v] = vdotq_s32(a1[v], vreinterpretq_s8_u8(veorq_u8(vld1q_u8(w1 + 64 * k + 16 * v), bias)), x);
        }
    }
    for (int v = 0; v < 4; v++) {
        d0[v] = a0[v];
        d1[v] = a1[v];
    }
    TTS_MCA_END();
}

// total += sum over the group's blocks of (scale_b * xs_b) * dot_b, four blocks per vector.
static inline float32x4_t q8v_scale(float32x4_t total, const int32x4_t d[4], const uint16_t *ws, const float *xs) {
    for (int v = 0; v < 4; v++) {
        float32x4_t s = vmulq_f32(vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(ws + 4 * v))), vld1q_f32(xs + 4 * v));
        total = vfmaq_f32(total, vcvtq_f32_s32(d[v]), s);
    }
    return total;
}

TTS_DOTPROD void tts_q8_vnni_matvec_neon_dotprod(const uint8_t *wq, const uint16_t *ws, const int8_t *xq, const float *xs,
                                                 const int32_t *xsum, float *y, int64_t cols, int64_t r0, int64_t r1) {
    int64_t groups = cols / 512, nb = cols / 32;
    int64_t r = r0;
    for (; r + 2 <= r1; r += 2) {  // two rows share every activation load
        const uint8_t *w0 = wq + r * cols, *w1 = w0 + cols;
        float32x4_t t0 = vdupq_n_f32(0), t1 = vdupq_n_f32(0);
        for (int64_t g = 0; g < groups; g++) {
            int32x4_t d0[4], d1[4];
            q8v_group2(w0 + g * 512, w1 + g * 512, xq + g * 512, d0, d1);
            t0 = q8v_scale(t0, d0, ws + r * nb + g * 16, xs + g * 16);
            t1 = q8v_scale(t1, d1, ws + (r + 1) * nb + g * 16, xs + g * 16);
        }
        y[r] = vaddvq_f32(t0);
        y[r + 1] = vaddvq_f32(t1);
    }
    if (r < r1) tts_q8_vnni_matvec_ref(wq, ws, xq, xs, xsum, y, cols, r, r1);
}
#endif
