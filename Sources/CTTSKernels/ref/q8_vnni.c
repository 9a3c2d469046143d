// q8_0 weights repacked for integer dot products ("VNNI order"), and the scalar reference.
//
// Layout of one row of `cols` values (cols a multiple of 512): for each group of 16 blocks
// (512 values), 8 chunks of 64 bytes; chunk k holds, for blocks j = 0..15, the 4 quants
// 4k..4k+3 of block j, stored as q + 128 (unsigned). Scales: cols/32 f16 per row, block order.
// Activations are quantized per 32-block (xs = max|x|/127, xq = round(x/xs)) into the same
// interleaved order; xsum[b] = 128 * sum(xq in block b) removes the +128 bias:
//   y = sum_b ws_b * xs_b * (sum_i (wq_i + 128) * xq_i - xsum_b)
#include "../include/tts_kernels.h"
#include <math.h>
#include <string.h>

void tts_q8_vnni_repack(const uint8_t *q8, int64_t rows, int64_t cols, uint8_t *wq, uint16_t *ws) {
    int64_t nb = cols / 32, row_bytes = nb * TTS_Q8_0_BLOCK_BYTES;
    for (int64_t r = 0; r < rows; r++) {
        const uint8_t *src = q8 + r * row_bytes;
        uint8_t *dst = wq + r * cols;
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = src + b * TTS_Q8_0_BLOCK_BYTES;
            memcpy(ws + r * nb + b, blk, 2);
            uint8_t *g = dst + (b / 16) * 512 + (b % 16) * 4;
            for (int k = 0; k < 8; k++) {  // 4 quants at a time; q + 128 as a byte is q ^ 0x80
                uint32_t v;
                memcpy(&v, blk + 2 + 4 * k, 4);
                v ^= 0x80808080u;
                memcpy(g + k * 64, &v, 4);
            }
        }
    }
}

void tts_q8_vnni_dequantize_row(const uint8_t *wq, const uint16_t *ws, float *out, int64_t cols) {
    for (int64_t g = 0; g < cols / 512; g++)
        for (int k = 0; k < 8; k++)
            for (int j = 0; j < 16; j++)
                for (int e = 0; e < 4; e++) {
                    int64_t b = g * 16 + j;
                    out[b * 32 + 4 * k + e] = tts_f16_to_f32(ws[b]) * (float)((int)wq[g * 512 + k * 64 + j * 4 + e] - 128);
                }
}

void tts_q8_vnni_quantize_x(const float *x, int64_t cols, int8_t *xq, float *xs, int32_t *xsum) {
    int64_t nb = cols / 32;
    for (int64_t b = 0; b < nb; b++) {
        float amax = 0;
        for (int i = 0; i < 32; i++) amax = fmaxf(amax, fabsf(x[b * 32 + i]));
        float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
        xs[b] = d;
        int32_t sum = 0;
        int64_t g = b / 16, j = b % 16;
        for (int i = 0; i < 32; i++) {
            int8_t q = (int8_t)roundf(x[b * 32 + i] * id);
            sum += q;
            xq[g * 512 + (i / 4) * 64 + j * 4 + (i % 4)] = q;
        }
        xsum[b] = 128 * sum;
    }
}

void tts_q8_vnni_matvec_ref(const uint8_t *wq, const uint16_t *ws, const int8_t *xq, const float *xs,
                            const int32_t *xsum, float *y, int64_t cols, int64_t r0, int64_t r1) {
    int64_t nb = cols / 32;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *w = wq + r * cols;
        float total = 0;
        for (int64_t b = 0; b < nb; b++) {
            int64_t g = b / 16, j = b % 16;
            int32_t s = 0;
            for (int k = 0; k < 8; k++)
                for (int e = 0; e < 4; e++) {
                    int64_t o = g * 512 + k * 64 + j * 4 + e;
                    s += (int32_t)w[o] * (int32_t)xq[o];
                }
            total += tts_f16_to_f32(ws[r * nb + b]) * xs[b] * (float)(s - xsum[b]);
        }
        y[r] = total;
    }
}
