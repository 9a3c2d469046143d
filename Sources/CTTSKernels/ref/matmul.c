// Scalar reference matrix products against f32 and bf16 weights (the `_ref` twins).
#include "tts_kernels.h"

static inline float dot_f32(const float *a, const float *b, int64_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

static inline float dot_bf16(const uint16_t *a, const float *b, int64_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += tts_bf16_to_f32(a[i]) * b[i];
        s1 += tts_bf16_to_f32(a[i + 1]) * b[i + 1];
        s2 += tts_bf16_to_f32(a[i + 2]) * b[i + 2];
        s3 += tts_bf16_to_f32(a[i + 3]) * b[i + 3];
    }
    for (; i < n; i++) s0 += tts_bf16_to_f32(a[i]) * b[i];
    return (s0 + s1) + (s2 + s3);
}

void tts_matmul_f32_ref(const float *w, const float *x, float *y,
                    int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
        const float *wr = w + r * cols;
        for (int64_t t = 0; t < n; t++) y[t * rows + r] = dot_f32(wr, x + t * cols, cols);
    }
}

void tts_matmul_bf16_ref(const uint16_t *w, const float *x, float *y,
                     int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
        const uint16_t *wr = w + r * cols;
        for (int64_t t = 0; t < n; t++) y[t * rows + r] = dot_bf16(wr, x + t * cols, cols);
    }
}
