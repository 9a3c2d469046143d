// q4_k weights repacked for integer dot products ("VNNI order"), and the scalar reference.
//
// The same quants, scales and mins as q4_k (repacking is lossless), arranged so that a 32-bit
// lane of a dot-product accumulator only ever meets values of one sub-block, and its sub-block
// scale can be applied once per 512 values instead of once per 32.
//
// A row of `cols` values (a multiple of 512) is cols/512 groups; a group is two q4_k blocks
// (s = 0, 1) of eight 32-value sub-blocks each.
//   Nibbles, cols/2 bytes per row, 256 per group: four 64-byte loads k = 0..3 of sixteen 32-bit
//   lanes l = 0..15. Lane l of load k is the 4-byte word 4*w of block s's quant chunk p, with
//   s = l/8, p = (l/2)%4, w = (l%2)*4 + k. Its low nibbles are values 4w..4w+3 of sub-block
//   8s+2p and its high nibbles the same values of sub-block 8s+2p+1 (ggml's chunk rule), so over
//   the four loads lane l meets 16 values of sub-block l&~1 (low) and 16 of (l&~1)+1 (high).
//   Meta, 40 bytes per group: f16 d of blocks 0 and 1, f16 dmin of blocks 0 and 1, the 16
//   sub-block scales (6-bit, one byte each, natural order), the 16 mins.
// Activations: per 256 values one scale xd = max|x|/127 and xq = round(x/xd), as q4_k; xsum per
// 32 values (natural order). xq is arranged per group as eight 64-byte chunks, chunk 2k+h
// holding for lane l the four values that meet lane l of nibble load k, low (h = 0) or high
// (h = 1) nibbles.
#include "../include/tts_kernels.h"
#include "q4_k_internal.h"
#include <math.h>
#include <string.h>

void tts_q4_k_vnni_repack(const uint8_t *q4, int64_t rows, int64_t cols, uint8_t *nib, uint8_t *meta) {
    int64_t groups = cols / 512, blocks = cols / 256;
    for (int64_t r = 0; r < rows; r++) {
        const uint8_t *row = q4 + r * blocks * TTS_Q4_K_BLOCK_BYTES;
        for (int64_t g = 0; g < groups; g++) {
            uint8_t *out = nib + r * (cols / 2) + g * 256, *m = meta + (r * groups + g) * TTS_Q4_K_VNNI_META_BYTES;
            for (int s = 0; s < 2; s++) {
                const uint8_t *blk = row + (2 * g + s) * TTS_Q4_K_BLOCK_BYTES;
                memcpy(m + 2 * s, blk, 2);      // d
                memcpy(m + 4 + 2 * s, blk + 2, 2);  // dmin
                tts_q4_k_unpack(blk + 4, m + 8 + 8 * s, m + 24 + 8 * s);
            }
            for (int k = 0; k < 4; k++)
                for (int l = 0; l < 16; l++) {
                    int s = l / 8, p = (l / 2) % 4, w = (l % 2) * 4 + k;
                    const uint8_t *blk = row + (2 * g + s) * TTS_Q4_K_BLOCK_BYTES;
                    memcpy(out + 64 * k + 4 * l, blk + 16 + 32 * p + 4 * w, 4);
                }
        }
    }
}

void tts_q4_k_vnni_dequantize_row(const uint8_t *nib, const uint8_t *meta, float *out, int64_t cols) {
    for (int64_t g = 0; g < cols / 512; g++) {
        const uint8_t *q = nib + g * 256, *m = meta + g * TTS_Q4_K_VNNI_META_BYTES;
        float *y = out + g * 512;
        for (int k = 0; k < 4; k++)
            for (int l = 0; l < 16; l++)
                for (int h = 0; h < 2; h++)
                    for (int e = 0; e < 4; e++) {
                        int v = tts_q4_k_vnni_lane_value(k, l, h) + e, s = v / 256, j = v / 32;
                        uint16_t d16, m16;
                        memcpy(&d16, m + 2 * s, 2);
                        memcpy(&m16, m + 4 + 2 * s, 2);
                        int qv = h ? q[64 * k + 4 * l + e] >> 4 : q[64 * k + 4 * l + e] & 0x0F;
                        // As tts_dequantize_q4_k_ref rounds: scale and min first, then scale*q - min.
                        float scale = tts_f16_to_f32(d16) * (float)m[8 + j], min = tts_f16_to_f32(m16) * (float)m[24 + j];
                        y[v] = scale * (float)qv - min;
                    }
    }
}

void tts_q4_k_vnni_quantize_x_ref(const float *x, int64_t cols, int8_t *xq, float *xd, int32_t *xsum) {
    for (int64_t b = 0; b < cols / 256; b++) {
        int8_t q[256];
        xd[b] = tts_q4_k_quantize_block(x + b * 256, q, xsum + b * 8);
        // Natural word w of this block is word 64*(b%2) + w of its group.
        for (int w = 0; w < 64; w++) memcpy(xq + (b / 2) * 512 + 4 * tts_q4_k_vnni_x_word(64 * (int)(b % 2) + w), q + 4 * w, 4);
    }
}

// y[r] = sum over blocks of d*xd * sum_j sc_j * dot_j  -  dmin*xd * sum_j m_j * xsum_j, the inner
// sums in exact integer arithmetic (as tts_q4_k_matvec_ref).
void tts_q4_k_vnni_matvec_ref(const uint8_t *nib, const uint8_t *meta, const int8_t *xq, const float *xd,
                              const int32_t *xsum, float *y, int64_t cols, int64_t r0, int64_t r1) {
    int64_t groups = cols / 512;
    for (int64_t r = r0; r < r1; r++) {
        float total = 0;
        for (int64_t g = 0; g < groups; g++) {
            const uint8_t *q = nib + r * (cols / 2) + g * 256, *m = meta + (r * groups + g) * TTS_Q4_K_VNNI_META_BYTES;
            const int8_t *xg = xq + g * 512;
            int32_t dot[16] = {0};  // per sub-block
            for (int k = 0; k < 4; k++)
                for (int l = 0; l < 16; l++)
                    for (int e = 0; e < 4; e++) {
                        int byte = q[64 * k + 4 * l + e];
                        dot[l & ~1] += (byte & 0x0F) * xg[64 * (2 * k) + 4 * l + e];
                        dot[(l & ~1) + 1] += (byte >> 4) * xg[64 * (2 * k + 1) + 4 * l + e];
                    }
            for (int s = 0; s < 2; s++) {
                int32_t isum = 0, msum = 0;
                for (int j = 8 * s; j < 8 * s + 8; j++) {
                    isum += (int32_t)m[8 + j] * dot[j];
                    msum += (int32_t)m[24 + j] * xsum[g * 16 + j];
                }
                uint16_t d16, m16;
                memcpy(&d16, m + 2 * s, 2);
                memcpy(&m16, m + 4 + 2 * s, 2);
                float xdb = xd[2 * g + s];
                total += tts_f16_to_f32(d16) * xdb * (float)isum - tts_f16_to_f32(m16) * xdb * (float)msum;
            }
        }
        y[r] = total;
    }
}
