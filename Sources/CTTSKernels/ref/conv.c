// Channel-major 1-D convolutions: valid grouped conv and full transposed conv.
#include "tts_kernels.h"

void tts_conv1d_f32(const float *x, const float *w, const float *bias, float *y,
                    int64_t c_in, int64_t t_in, int64_t c_out, int64_t k,
                    int64_t stride, int64_t dilation, int64_t groups,
                    int64_t co0, int64_t co1) {
    int64_t t_out = (t_in - dilation * (k - 1) - 1) / stride + 1;
    int64_t cin_g = c_in / groups, cout_g = c_out / groups;
    for (int64_t co = co0; co < co1; co++) {
        float *yc = y + co * t_out;
        float b = bias ? bias[co] : 0.0f;
        for (int64_t t = 0; t < t_out; t++) yc[t] = b;
        int64_t g = co / cout_g;
        for (int64_t ci = 0; ci < cin_g; ci++) {
            const float *xc = x + (g * cin_g + ci) * t_in;
            const float *wk = w + (co * cin_g + ci) * k;
            for (int64_t kk = 0; kk < k; kk++) {
                float wv = wk[kk];
                const float *xs = xc + kk * dilation;
                if (stride == 1) {
                    for (int64_t t = 0; t < t_out; t++) yc[t] += wv * xs[t];
                } else {
                    for (int64_t t = 0; t < t_out; t++) yc[t] += wv * xs[t * stride];
                }
            }
        }
    }
}

void tts_conv_transpose1d_f32(const float *x, const float *w, const float *bias, float *y,
                              int64_t c_in, int64_t t_in, int64_t c_out, int64_t k,
                              int64_t stride, int64_t co0, int64_t co1) {
    int64_t t_out = (t_in - 1) * stride + k;
    for (int64_t co = co0; co < co1; co++) {
        float *yc = y + co * t_out;
        float b = bias ? bias[co] : 0.0f;
        for (int64_t t = 0; t < t_out; t++) yc[t] = b;
        for (int64_t ci = 0; ci < c_in; ci++) {
            const float *xc = x + ci * t_in;
            const float *wk = w + (ci * c_out + co) * k;
            for (int64_t kk = 0; kk < k; kk++) {
                float wv = wk[kk];
                float *ys = yc + kk;
                for (int64_t t = 0; t < t_in; t++) ys[t * stride] += wv * xc[t];
            }
        }
    }
}
