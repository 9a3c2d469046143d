// Norms, activations, softmax, RoPE, attention and transposes (scalar, f32).
#include "tts_kernels.h"
#include <math.h>

void tts_rmsnorm_f32_ref(const float *x, const float *w, float *y, int64_t n, float eps) {
    double ss = 0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float inv = 1.0f / sqrtf((float)(ss / (double)n) + eps);
    for (int64_t i = 0; i < n; i++) y[i] = w[i] * (x[i] * inv);
}

void tts_layernorm_f32(const float *x, const float *w, const float *b, float *y, int64_t n, float eps) {
    double mean = 0;
    for (int64_t i = 0; i < n; i++) mean += x[i];
    mean /= (double)n;
    double var = 0;
    for (int64_t i = 0; i < n; i++) { double d = x[i] - mean; var += d * d; }
    var /= (double)n;
    float inv = 1.0f / sqrtf((float)var + eps);
    float m = (float)mean;
    for (int64_t i = 0; i < n; i++) y[i] = (x[i] - m) * inv * w[i] + b[i];
}

void tts_silu_mul_f32_ref(const float *gate, const float *up, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void tts_silu_f32(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = x[i] / (1.0f + expf(-x[i]));
}

void tts_gelu_erf_f32(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

void tts_elu_f32(float *x, int64_t n, float alpha) {
    for (int64_t i = 0; i < n; i++) if (x[i] <= 0) x[i] = alpha * expm1f(x[i]);
}

void tts_softmax_f32_ref(float *x, int64_t n) {
    float mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) if (x[i] > mx) mx = x[i];
    double sum = 0;
    for (int64_t i = 0; i < n; i++) { x[i] = expf(x[i] - mx); sum += x[i]; }
    float inv = (float)(1.0 / sum);
    for (int64_t i = 0; i < n; i++) x[i] *= inv;
}

void tts_snake_beta_f32(const float *x, float *y, const float *log_alpha, const float *log_beta,
                        int64_t channels, int64_t t) {
    for (int64_t c = 0; c < channels; c++) {
        float a = expf(log_alpha[c]);
        float inv_b = 1.0f / (expf(log_beta[c]) + 1e-9f);
        const float *xc = x + c * t;
        float *yc = y + c * t;
        for (int64_t i = 0; i < t; i++) {
            float s = sinf(xc[i] * a);
            yc[i] = xc[i] + s * s * inv_b;
        }
    }
}

void tts_rope_rotate_half_f32(float *x, const float *cos_t, const float *sin_t, int64_t dim) {
    int64_t half = dim / 2;
    for (int64_t i = 0; i < half; i++) {
        float a = x[i], b = x[i + half];
        x[i] = a * cos_t[i] - b * sin_t[i];
        x[i + half] = b * cos_t[i] + a * sin_t[i];
    }
}

// One body for an f32 cache and a bf16 one (KV: the stored type, WIDEN: one value as f32), so
// the bf16 twin is exactly the f32 twin on the widened values.
#define ATTENTION_REF_BODY(KV, WIDEN)                                               \
    for (int64_t j = 0; j < n_keys; j++) {                                          \
        const KV *kj = k + j * kv_stride;                                           \
        float s = 0;                                                                \
        for (int64_t d = 0; d < head_dim; d++) s += q[d] * WIDEN(kj[d]);            \
        scores[j] = s * scale;                                                      \
    }                                                                               \
    tts_softmax_f32_ref(scores, n_keys);                                            \
    for (int64_t d = 0; d < head_dim; d++) out[d] = 0;                              \
    for (int64_t j = 0; j < n_keys; j++) {                                          \
        const KV *vj = v + j * kv_stride;                                           \
        float p = scores[j];                                                        \
        for (int64_t d = 0; d < head_dim; d++) out[d] += p * WIDEN(vj[d]);          \
    }

#define AS_IS(x) (x)

void tts_attention_head_f32_ref(const float *q, const float *k, const float *v, float *out,
                            float *scores, int64_t n_keys, int64_t head_dim,
                            int64_t kv_stride, float scale) {
    ATTENTION_REF_BODY(float, AS_IS)
}

void tts_attention_head_bf16kv_ref(const float *q, const uint16_t *k, const uint16_t *v, float *out,
                            float *scores, int64_t n_keys, int64_t head_dim,
                            int64_t kv_stride, float scale) {
    ATTENTION_REF_BODY(uint16_t, tts_bf16_to_f32)
}

void tts_transpose_f32(const float *src, float *dst, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
}
