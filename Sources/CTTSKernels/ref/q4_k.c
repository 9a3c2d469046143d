// q4_k weights in ggml's block layout, the activation quantizer for the integer product, and the
// scalar reference product.
//
// One block = 256 values = 144 bytes: f16 d, f16 dmin, 12 bytes packing eight 6-bit scales and
// eight 6-bit mins, then 128 bytes of 4-bit quants. Values 64p..64p+63 (p = 0..3) live in bytes
// 32p..32p+31: low nibbles are sub-block 2p, high nibbles sub-block 2p+1. Value = d*sc_j*q - dmin*m_j.
#include "../include/tts_kernels.h"
#include "q4_k_internal.h"
#include <math.h>
#include <string.h>

static void pack_scales(const uint8_t *sc, const uint8_t *m, uint8_t *s) {
    for (int j = 0; j < 4; j++) {
        s[j] = (uint8_t)(sc[j] | ((sc[j + 4] >> 4) << 6));
        s[j + 4] = (uint8_t)(m[j] | ((m[j + 4] >> 4) << 6));
        s[j + 8] = (uint8_t)((sc[j + 4] & 0x0F) | ((m[j + 4] & 0x0F) << 4));
    }
}

// The block's eight sub-block scales and mins as floats (d*sc_j, dmin*m_j).
static void block_scales(const uint8_t *block, float *scale, float *min) {
    uint8_t sc[8], m[8];
    uint16_t d16, m16;
    memcpy(&d16, block, 2);
    memcpy(&m16, block + 2, 2);
    tts_q4_k_unpack(block + 4, sc, m);
    float d = tts_f16_to_f32(d16), dmin = tts_f16_to_f32(m16);
    for (int j = 0; j < 8; j++) {
        scale[j] = d * (float)sc[j];
        min[j] = dmin * (float)m[j];
    }
}

// Fits x[i] ~ scale * L[i] - offset with L in 0..15 and offset >= 0, weighted least squares over a
// few candidate grids; returns the scale and writes the offset.
static float fit_subblock(const float *x, const float *w, float *offset) {
    float lo = x[0], hi = x[0];
    for (int i = 1; i < 32; i++) {
        lo = fminf(lo, x[i]);
        hi = fmaxf(hi, x[i]);
    }
    if (lo > 0) lo = 0;
    if (hi <= lo) {
        *offset = -lo;
        return 0;
    }
    float best_scale = (hi - lo) / 15, best_min = lo, best_err = INFINITY;
    for (int step = 0; step <= 20; step++) {
        float iscale = (15.0f + 0.1f * (float)step - 1.0f) / (hi - lo);
        float sw = 0, sl = 0, sl2 = 0, sxl = 0, sx = 0;
        uint8_t L[32];
        for (int i = 0; i < 32; i++) {
            int l = (int)lrintf(iscale * (x[i] - lo));
            L[i] = (uint8_t)(l < 0 ? 0 : l > 15 ? 15 : l);
            sw += w[i];
            sl += w[i] * L[i];
            sl2 += w[i] * L[i] * L[i];
            sxl += w[i] * L[i] * x[i];
            sx += w[i] * x[i];
        }
        float det = sw * sl2 - sl * sl;
        if (det <= 0) continue;
        float scale = (sw * sxl - sx * sl) / det, mn = (sl2 * sx - sl * sxl) / det;
        if (mn > 0) {
            mn = 0;
            scale = sl2 > 0 ? sxl / sl2 : 0;
        }
        float err = 0;
        for (int i = 0; i < 32; i++) {
            float e = scale * L[i] + mn - x[i];
            err += w[i] * e * e;
        }
        if (err < best_err) {
            best_err = err;
            best_scale = scale;
            best_min = mn;
        }
    }
    *offset = -best_min;
    return best_scale;
}

void tts_quantize_q4_k(const float *src, uint8_t *dst, int64_t n) {
    for (int64_t b = 0; b < n / 256; b++) {
        const float *x = src + b * 256;
        uint8_t *out = dst + b * TTS_Q4_K_BLOCK_BYTES;
        float scales[8], offsets[8], w[32];
        for (int j = 0; j < 8; j++) {
            const float *xs = x + 32 * j;
            float s2 = 0;
            for (int i = 0; i < 32; i++) s2 += xs[i] * xs[i];
            float av = sqrtf(s2 / 32);
            for (int i = 0; i < 32; i++) w[i] = av + fabsf(xs[i]);  // favour the larger values
            scales[j] = fit_subblock(xs, w, &offsets[j]);
        }
        float max_scale = 0, max_offset = 0;
        for (int j = 0; j < 8; j++) {
            max_scale = fmaxf(max_scale, scales[j]);
            max_offset = fmaxf(max_offset, offsets[j]);
        }
        float d = max_scale / 63, dmin = max_offset / 63;
        uint16_t d16 = tts_f32_to_f16(d), m16 = tts_f32_to_f16(dmin);
        float dq = tts_f16_to_f32(d16), mq = tts_f16_to_f32(m16);
        uint8_t sc[8], m[8];
        for (int j = 0; j < 8; j++) {
            int a = dq > 0 ? (int)lrintf(scales[j] / dq) : 0, o = mq > 0 ? (int)lrintf(offsets[j] / mq) : 0;
            sc[j] = (uint8_t)(a < 0 ? 0 : a > 63 ? 63 : a);
            m[j] = (uint8_t)(o < 0 ? 0 : o > 63 ? 63 : o);
        }
        memcpy(out, &d16, 2);
        memcpy(out + 2, &m16, 2);
        pack_scales(sc, m, out + 4);
        uint8_t L[256];
        for (int j = 0; j < 8; j++) {
            float step = dq * sc[j], off = mq * m[j];
            for (int i = 0; i < 32; i++) {
                int l = step > 0 ? (int)lrintf((x[32 * j + i] + off) / step) : 0;
                L[32 * j + i] = (uint8_t)(l < 0 ? 0 : l > 15 ? 15 : l);
            }
        }
        for (int p = 0; p < 4; p++)
            for (int i = 0; i < 32; i++) out[16 + 32 * p + i] = (uint8_t)(L[64 * p + i] | (L[64 * p + 32 + i] << 4));
    }
}

void tts_dequantize_q4_k_ref(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t b = 0; b < n / 256; b++) {
        const uint8_t *blk = src + b * TTS_Q4_K_BLOCK_BYTES;
        float scale[8], min[8];
        block_scales(blk, scale, min);
        float *y = dst + b * 256;
        for (int p = 0; p < 4; p++)
            for (int i = 0; i < 32; i++) {
                uint8_t q = blk[16 + 32 * p + i];
                y[64 * p + i] = scale[2 * p] * (float)(q & 0x0F) - min[2 * p];
                y[64 * p + 32 + i] = scale[2 * p + 1] * (float)(q >> 4) - min[2 * p + 1];
            }
    }
}

// Activations: one scale per 256 values (xd = max|x|/127), so that the 6-bit sub-block scales can
// be applied in integer arithmetic; xsum holds the sum of xq per 32 values (sub-block order) for
// the min terms. Within a block xq is stored in the order of tts_q4_k_x_offset.
void tts_q4_k_quantize_x(const float *x, int64_t cols, int8_t *xq, float *xd, int32_t *xsum) {
    for (int64_t b = 0; b < cols / 256; b++) {
        int8_t q[256];
        xd[b] = tts_q4_k_quantize_block(x + b * 256, q, xsum + b * 8);
        for (int j = 0; j < 8; j++) memcpy(xq + b * 256 + tts_q4_k_x_offset(j), q + 32 * j, 32);
    }
}


// y[r] = sum over blocks of d*xd * sum_j sc_j * dot_j  -  dmin*xd * sum_j m_j * xsum_j, with the
// inner sums in exact integer arithmetic.
void tts_q4_k_matvec_ref(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum,
                         float *y, int64_t cols, int64_t r0, int64_t r1) {
    int64_t nblocks = cols / 256;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = w + r * nblocks * TTS_Q4_K_BLOCK_BYTES;
        float total = 0;
        for (int64_t b = 0; b < nblocks; b++) {
            const uint8_t *blk = row + b * TTS_Q4_K_BLOCK_BYTES;
            uint8_t sc[8], m[8];
            uint16_t d16, m16;
            memcpy(&d16, blk, 2);
            memcpy(&m16, blk + 2, 2);
            tts_q4_k_unpack(blk + 4, sc, m);
            const int8_t *xb = xq + b * 256;
            int32_t dots = 0, mins = 0;
            for (int p = 0; p < 4; p++) {
                int32_t lo = 0, hi = 0;
                for (int i = 0; i < 32; i++) {
                    uint8_t q = blk[16 + 32 * p + i];
                    lo += (int32_t)(q & 0x0F) * xb[tts_q4_k_x_offset(2 * p) + i];
                    hi += (int32_t)(q >> 4) * xb[tts_q4_k_x_offset(2 * p + 1) + i];
                }
                dots += sc[2 * p] * lo + sc[2 * p + 1] * hi;
            }
            for (int j = 0; j < 8; j++) mins += m[j] * xsum[b * 8 + j];
            total += xd[b] * (tts_f16_to_f32(d16) * (float)dots - tts_f16_to_f32(m16) * (float)mins);
        }
        y[r] = total;
    }
}
