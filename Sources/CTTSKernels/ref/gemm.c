// Scalar reference of the outer-product GEMM and token-major depthwise convolution.
#include "../include/tts_kernels.h"
#include <math.h>

void tts_gemm_f32_ref(const float *x, const float *wt, float *y, int64_t cin, int64_t cout,
                      int64_t ldy, int64_t t0, int64_t t1, int accumulate) {
    for (int64_t t = t0; t < t1; t++) {
        float *yt = y + t * ldy;
        if (!accumulate) for (int64_t o = 0; o < cout; o++) yt[o] = 0;
        const float *xt = x + t * cin;
        for (int64_t i = 0; i < cin; i++) {
            float xv = xt[i];
            const float *wr = wt + i * cout;
            for (int64_t o = 0; o < cout; o++) yt[o] += xv * wr[o];
        }
    }
}

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

void tts_conv_gemm_f32_ref(const float *x, const float *taps, const float *bias, float *y, int64_t cin, int64_t cout,
                           int64_t k, int64_t dilation, int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++) {
        float *yt = y + t * cout;
        for (int64_t o = 0; o < cout; o++) yt[o] = bias ? bias[o] : 0.0f;
        for (int64_t j = 0; j < k; j++) {
            const float *xt = x + (t + j * dilation) * cin;
            const float *wj = taps + j * cin * cout;
            for (int64_t i = 0; i < cin; i++) {
                float xv = xt[i];
                const float *wr = wj + i * cout;
                for (int64_t o = 0; o < cout; o++) yt[o] += xv * wr[o];
            }
        }
    }
}
