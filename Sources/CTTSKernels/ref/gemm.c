// Scalar references of the token-major convolutions (depthwise, SnakeBeta, the packed conv GEMM).
#include "../include/tts_kernels.h"
#include <math.h>

void tts_depthwise_conv_f32(const float *x, const float *w, const float *bias, float *y,
                            int64_t channels, int64_t k, int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++) {
        float *yt = y + t * channels;
        for (int64_t c = 0; c < channels; c++) yt[c] = bias ? bias[c] : 0.0f;
        for (int64_t j = 0; j < k; j++) {
            const float *xr = x + (t + j) * channels;
            const float *wj = w + j * channels;
            for (int64_t c = 0; c < channels; c++) yt[c] += wj[c] * xr[c];
        }
    }
}

void tts_snake_tm_f32_ref(const float *x, float *y, const float *a, const float *inv_b,
                      int64_t channels, int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++) {
        const float *xt = x + t * channels;
        float *yt = y + t * channels;
        for (int64_t c = 0; c < channels; c++) {
            float s = sinf(xt[c] * a[c]);
            yt[c] = xt[c] + s * s * inv_b[c];
        }
    }
}

int64_t tts_conv_packed_count(int64_t cin, int64_t cout, int64_t k) { return (cout + 31) / 32 * 32 * k * cin; }

void tts_conv_pack_f32(const float *w, float *packed, int64_t cin, int64_t cout, int64_t k) {
    for (int64_t ob = 0; ob < (cout + 31) / 32; ob++)
        for (int64_t j = 0; j < k; j++)
            for (int64_t i = 0; i < cin; i++) {
                float *dst = packed + ((ob * k + j) * cin + i) * 32;
                for (int64_t oo = 0; oo < 32; oo++) {
                    int64_t o = ob * 32 + oo;
                    dst[oo] = o < cout ? w[(o * cin + i) * k + j] : 0.0f;
                }
            }
}

void tts_conv_gemm_f32_ref(const float *x, const float *packed, const float *bias, float *y, int64_t cin, int64_t cout,
                           int64_t k, int64_t dilation, int64_t t0, int64_t t1, int64_t o0, int64_t o1, const float *add) {
    for (int64_t t = t0; t < t1; t++) {
        float *yt = y + t * cout;
        for (int64_t o = o0; o < o1; o++) yt[o] = (bias ? bias[o] : 0.0f) + (add ? add[t * cout + o] : 0.0f);
        for (int64_t ob = o0 / 32; ob < (o1 + 31) / 32; ob++) {
            int64_t n = cout - ob * 32 < 32 ? cout - ob * 32 : 32;
            float *yo = yt + ob * 32;
            for (int64_t j = 0; j < k; j++) {
                const float *xt = x + (t + j * dilation) * cin;
                const float *wj = packed + (ob * k + j) * cin * 32;
                for (int64_t i = 0; i < cin; i++) {
                    float xv = xt[i];
                    const float *wr = wj + i * 32;
                    for (int64_t oo = 0; oo < n; oo++) yo[oo] += xv * wr[oo];
                }
            }
        }
    }
}
