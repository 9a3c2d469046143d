// bf16 causal convolution, scalar (see tts_kernels.h for the layouts).
#include "../include/tts_kernels.h"

int64_t tts_conv_packed_count_bf16(int64_t cin, int64_t cout, int64_t k) { return (cout + 31) / 32 * 32 * k * ((cin + 1) / 2) * 2; }

void tts_conv_pack_bf16(const float *w, uint16_t *packed, int64_t cin, int64_t cout, int64_t k) {
    int64_t pairs = (cin + 1) / 2;
    for (int64_t ob = 0; ob < (cout + 31) / 32; ob++)
        for (int64_t j = 0; j < k; j++)
            for (int64_t p = 0; p < pairs; p++) {
                uint16_t *dst = packed + ((ob * k + j) * pairs + p) * 64;
                for (int64_t oo = 0; oo < 32; oo++)
                    for (int64_t e = 0; e < 2; e++) {
                        int64_t o = ob * 32 + oo, i = 2 * p + e;
                        dst[2 * oo + e] = (o < cout && i < cin) ? tts_f32_to_bf16(w[(o * cin + i) * k + j]) : 0;
                    }
            }
}

void tts_bf16_pairs(const float *x, uint32_t *xb, int64_t rows, int64_t cin) {
    int64_t pairs = (cin + 1) / 2;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t p = 0; p < pairs; p++) {
            uint32_t lo = tts_f32_to_bf16(x[r * cin + 2 * p]);
            uint32_t hi = 2 * p + 1 < cin ? tts_f32_to_bf16(x[r * cin + 2 * p + 1]) : 0;
            xb[r * pairs + p] = lo | (hi << 16);
        }
}

void tts_conv_gemm_bf16_ref(const uint32_t *xb, const uint16_t *packed, const float *bias, float *y, int64_t cin,
                            int64_t cout, int64_t k, int64_t dilation, int64_t t0, int64_t t1) {
    int64_t pairs = (cin + 1) / 2;
    for (int64_t t = t0; t < t1; t++) {
        float *yt = y + t * cout;
        for (int64_t ob = 0; ob < (cout + 31) / 32; ob++) {
            int64_t n = cout - ob * 32 < 32 ? cout - ob * 32 : 32;
            for (int64_t oo = 0; oo < n; oo++) {
                float acc = bias ? bias[ob * 32 + oo] : 0.0f;
                for (int64_t j = 0; j < k; j++) {
                    const uint32_t *xr = xb + (t + j * dilation) * pairs;
                    const uint16_t *wj = packed + (ob * k + j) * pairs * 64 + 2 * oo;
                    for (int64_t p = 0; p < pairs; p++) {
                        float x0 = tts_bf16_to_f32((uint16_t)(xr[p] & 0xFFFF)), x1 = tts_bf16_to_f32((uint16_t)(xr[p] >> 16));
                        acc += x0 * tts_bf16_to_f32(wj[p * 64]) + x1 * tts_bf16_to_f32(wj[p * 64 + 1]);
                    }
                }
                yt[ob * 32 + oo] = acc;
            }
        }
    }
}
