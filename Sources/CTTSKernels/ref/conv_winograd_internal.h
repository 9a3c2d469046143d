// Winograd F(4,4) for the decoder's kernel-7 convolutions (internal to CTTSKernels).
//
// A kernel-7 causal conv y[t] = sum_j W_j x[t + j d] (context coordinates) is read as two
// 4-tap groups, taps 0-3 and 4-7 (tap 7 zero). Each group over a tile of 4 outputs
// y[t0], y[t0+d], y[t0+2d], y[t0+3d] is the correlation F(4,4): 7 input rows
// x[t0 + q d] (q = 0..6), 7 products per channel pair instead of 16, evaluated at the points
// 0, 1, -1, 1/2, -1/2, 2 and infinity. Tile t0 + 4d is the next tile of the same dilation class,
// so group 1 of a tile is group 0's transformed input of the next tile: per point, the whole
// conv is a 2-tap conv with dilation d over transformed rows, which the conv GEMM runs as is.
// Products per output: 3.25 cin*cout instead of 7 (the point at infinity reads only a group's last
// tap, which is zero for group 1, so that point is a 1-tap conv).
//
// The input transform B^T has integer rows; each row's scale is folded into the weight
// transform G (done in double at load), so only the output transform's powers of two remain:
//   B^T (x 1/2, 1/6, 1/18, 8/9, 8/15, 1/90, 1/4 per row)   G (rows times the same scales)
//   [2 -1 -10  5  8 -4 0]                                  [1  0    0    0  ]
//   [0 -2  -1  9  4 -4 0]                                  [1  1    1    1  ]
//   [0  2  -3 -7 12 -4 0]                                  [1 -1    1   -1  ]
//   [0  2   3 -4 -3  2 0]                                  [1  1/2  1/4  1/8]
//   [0 -2   5  0 -5  2 0]                                  [1 -1/2  1/4 -1/8]
//   [0  1   0 -5  0  4 0]                                  [1  2    4    8  ]
//   [0 -2   1 10 -5 -8 4]                                  [0  0    0    1  ]
//   A^T: [1 1  1 1    1    1 0] [0 1 -1 1/2 -1/2 2 0] [0 1 1 1/4 1/4 4 0] [0 1 -1 1/8 -1/8 8 1]
#ifndef TTS_CONV_WINOGRAD_INTERNAL_H
#define TTS_CONV_WINOGRAD_INTERNAL_H
#include <stdint.h>

#define TTS_WINO_POINTS 7
#define TTS_WINO_TILE 4

// One tile's input rows x[0..6] (cin channels each) -> the 7 transformed rows u[0..6].
// Written out so that every ISA's build vectorizes it over channels (inlined into callers
// compiled for that ISA).
static inline __attribute__((always_inline)) void tts_wino_input_tile(
    const float *restrict x0, const float *restrict x1, const float *restrict x2, const float *restrict x3,
    const float *restrict x4, const float *restrict x5, const float *restrict x6, float *restrict u0,
    float *restrict u1, float *restrict u2, float *restrict u3, float *restrict u4, float *restrict u5,
    float *restrict u6, int64_t n) {
    for (int64_t c = 0; c < n; c++) {
        float v0 = x0[c], v1 = x1[c], v2 = x2[c], v3 = x3[c], v4 = x4[c], v5 = x5[c], v6 = x6[c];
        u0[c] = 2.0f * v0 - v1 - 10.0f * v2 + 5.0f * v3 + 8.0f * v4 - 4.0f * v5;
        u1[c] = -2.0f * v1 - v2 + 9.0f * v3 + 4.0f * v4 - 4.0f * v5;
        u2[c] = 2.0f * v1 - 3.0f * v2 - 7.0f * v3 + 12.0f * v4 - 4.0f * v5;
        u3[c] = 2.0f * v1 + 3.0f * v2 - 4.0f * v3 - 3.0f * v4 + 2.0f * v5;
        u4[c] = -2.0f * v1 + 5.0f * v2 - 5.0f * v4 + 2.0f * v5;
        u5[c] = v1 - 5.0f * v3 + 4.0f * v5;
        u6[c] = -2.0f * v1 + v2 + 10.0f * v3 - 5.0f * v4 - 8.0f * v5 + 4.0f * v6;
    }
}

// One tile's 7 products m[0..6] (n output channels each) + bias -> the 4 output rows y[0..3].
static inline __attribute__((always_inline)) void tts_wino_output_tile(
    const float *restrict m0, const float *restrict m1, const float *restrict m2, const float *restrict m3,
    const float *restrict m4, const float *restrict m5, const float *restrict m6, const float *restrict bias,
    float *restrict y0, float *restrict y1, float *restrict y2, float *restrict y3, int64_t n) {
    for (int64_t c = 0; c < n; c++) {
        float s12 = m1[c] + m2[c], d12 = m1[c] - m2[c], s34 = m3[c] + m4[c], d34 = m3[c] - m4[c], m = m5[c], b = bias[c];
        y0[c] = b + m0[c] + s12 + s34 + m;
        y1[c] = b + d12 + 0.5f * d34 + 2.0f * m;
        y2[c] = b + s12 + 0.25f * s34 + 4.0f * m;
        y3[c] = b + d12 + 0.125f * d34 + 8.0f * m + m6[c];
    }
}

typedef void (*tts_wino_input_fn)(const float *const x[TTS_WINO_POINTS], float *const u[TTS_WINO_POINTS], int64_t n);
typedef void (*tts_wino_output_fn)(const float *const m[TTS_WINO_POINTS], const float *bias,
                                   float *const y[TTS_WINO_TILE], int64_t n);
typedef void (*tts_wino_gemm_fn)(const float *, const float *, const float *, float *, int64_t, int64_t, int64_t, int64_t,
                                 int64_t, int64_t, int64_t, int64_t, const float *);

// The driver shared by every ISA: transforms and GEMM passed in.
void tts_conv7_wino_run(const float *x, const float *packed, const float *bias, float *y, int64_t cin, int64_t cout,
                        int64_t dilation, int64_t frames, int64_t b0, int64_t b1, int64_t o0, int64_t o1, float *scratch,
                        tts_wino_input_fn input, tts_wino_output_fn output, tts_wino_gemm_fn gemm);

#if defined(__aarch64__)
void tts_wino_input_neon(const float *const x[TTS_WINO_POINTS], float *const u[TTS_WINO_POINTS], int64_t n);
void tts_wino_output_neon(const float *const m[TTS_WINO_POINTS], const float *bias, float *const y[TTS_WINO_TILE], int64_t n);
#endif
#if defined(__x86_64__)
void tts_wino_input_avx2(const float *const x[TTS_WINO_POINTS], float *const u[TTS_WINO_POINTS], int64_t n);
void tts_wino_output_avx2(const float *const m[TTS_WINO_POINTS], const float *bias, float *const y[TTS_WINO_TILE], int64_t n);
void tts_wino_input_avx512(const float *const x[TTS_WINO_POINTS], float *const u[TTS_WINO_POINTS], int64_t n);
void tts_wino_output_avx512(const float *const m[TTS_WINO_POINTS], const float *bias, float *const y[TTS_WINO_TILE], int64_t n);
#endif
#endif
