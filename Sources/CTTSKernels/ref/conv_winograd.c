// Winograd F(4,4) kernel-7 convolution: weight transform, the driver every ISA shares, and the
// scalar twin. See conv_winograd_internal.h for the algorithm and its matrices.
#include "../include/tts_kernels.h"
#include "conv_winograd_internal.h"

// Rows of G, each times its B^T row's scale (exact fractions, evaluated in double).
static const double wino_g[TTS_WINO_POINTS][4] = {
    {1.0 / 2, 0, 0, 0},
    {1.0 / 6, 1.0 / 6, 1.0 / 6, 1.0 / 6},
    {1.0 / 18, -1.0 / 18, 1.0 / 18, -1.0 / 18},
    {8.0 / 9, 4.0 / 9, 2.0 / 9, 1.0 / 9},
    {8.0 / 15, -4.0 / 15, 2.0 / 15, -1.0 / 15},
    {1.0 / 90, 2.0 / 90, 4.0 / 90, 8.0 / 90},
    {0, 0, 0, 1.0 / 4},
};

// Point infinity's row of G reads only the last tap of a group, and group 1's last tap is the
// kernel's zero eighth tap: that point is a 1-tap conv (group 0 only), 13 tap products per tile
// instead of 14, the rest of the points 2-tap convs.
#define TTS_WINO_INF (TTS_WINO_POINTS - 1)

int64_t tts_conv7_wino_packed_count(int64_t cin, int64_t cout) {
    return TTS_WINO_INF * tts_conv_packed_count(cin, cout, 2) + tts_conv_packed_count(cin, cout, 1);
}

void tts_conv7_wino_pack_f32(const float *w, float *packed, int64_t cin, int64_t cout) {
    const int64_t per_point = tts_conv_packed_count(cin, cout, 2);
    // Layout of each point as tts_conv_pack_f32 with k = 2: [cout/32][2][cin][32] (point infinity
    // with k = 1: [cout/32][cin][32]). For each
    // (block, input channel), the 32 lanes' taps are gathered once, then every point's groups
    // are computed across lanes (contiguous stores).
    double tap[8][32];
    for (int64_t ob = 0; ob < (cout + 31) / 32; ob++) {
        for (int64_t i = 0; i < cin; i++) {
            for (int64_t lane = 0; lane < 32; lane++) {
                int64_t o = ob * 32 + lane;
                for (int j = 0; j < 8; j++) tap[j][lane] = o < cout && j < 7 ? w[(o * cin + i) * 7 + j] : 0.0;
            }
            for (int p = 0; p < TTS_WINO_POINTS; p++) {
                const double *g = wino_g[p];
                int taps = p == TTS_WINO_INF ? 1 : 2;
                float *d0 = packed + p * per_point + (ob * taps * cin + i) * 32, *d1 = d0 + cin * 32;
                for (int64_t lane = 0; lane < 32; lane++) {
                    d0[lane] = (float)(g[0] * tap[0][lane] + g[1] * tap[1][lane] + g[2] * tap[2][lane] + g[3] * tap[3][lane]);
                    if (taps == 2)
                        d1[lane] = (float)(g[0] * tap[4][lane] + g[1] * tap[5][lane] + g[2] * tap[6][lane] + g[3] * tap[7][lane]);
                }
            }
        }
    }
}

int64_t tts_conv7_wino_blocks(int64_t frames, int64_t dilation) {
    int64_t span = TTS_WINO_TILE * dilation;
    return (frames + span - 1) / span;
}

// Tile blocks transformed at a time (at most `blocks`). 256 slots per step read each point's
// weights once per 1024 output frames, which wide convs need; below 192 input channels the
// weights are small and 128 slots keep the transformed rows in L2 (scripts/bench/conv_gemm_shapes.c).
static int64_t wino_inner_blocks(int64_t cin, int64_t dilation, int64_t blocks) {
    int64_t slots = cin < 192 ? 128 : 256;
    int64_t nb = slots / dilation;
    if (nb > blocks) nb = blocks;
    return nb < 1 ? 1 : nb;
}

// Slot s = block * d + class holds the tile whose first output frame is block * 4d + class.
static inline int64_t wino_tile_start(int64_t slot, int64_t d) { return (slot / d) * TTS_WINO_TILE * d + slot % d; }

int64_t tts_conv7_wino_scratch_count(int64_t cin, int64_t cout, int64_t dilation, int64_t blocks) {
    int64_t nb = wino_inner_blocks(cin, dilation, blocks);
    int64_t wide = cin > cout ? cin : cout;
    return TTS_WINO_POINTS * ((nb + 1) * dilation * cin + nb * dilation * cout) + wide + cout;
}

void tts_conv7_wino_run(const float *x, const float *packed, const float *bias, float *y, int64_t cin, int64_t cout,
                        int64_t dilation, int64_t frames, int64_t b0, int64_t b1, int64_t o0, int64_t o1, float *scratch,
                        tts_wino_input_fn input, tts_wino_output_fn output, tts_wino_gemm_fn gemm) {
    const int64_t d = dilation, nb = wino_inner_blocks(cin, d, b1 - b0), rows = frames + 6 * d;
    const int64_t xs = (nb + 1) * d * cin, ys = nb * d * cout, per_point = tts_conv_packed_count(cin, cout, 2);
    const int64_t wide = cin > cout ? cin : cout;
    float *tx = scratch, *ty = tx + TTS_WINO_POINTS * xs, *zero = ty + TTS_WINO_POINTS * ys, *sink = zero + wide;
    for (int64_t i = 0; i < wide; i++) zero[i] = 0.0f;
    const float *b = bias ? bias + o0 : zero;
    for (int64_t bb = b0; bb < b1; bb += nb) {
        int64_t be = bb + nb < b1 ? bb + nb : b1;
        int64_t slots = (be - bb) * d;
        // The extra d slots are the next tiles, read by the last tiles' second tap group.
        for (int64_t ls = 0; ls < slots + d; ls++) {
            int64_t t0 = wino_tile_start(bb * d + ls, d);
            const float *xr[TTS_WINO_POINTS];
            float *u[TTS_WINO_POINTS];
            for (int q = 0; q < TTS_WINO_POINTS; q++) {
                int64_t r = t0 + q * d;
                xr[q] = r < rows ? x + r * cin : zero;
                u[q] = tx + q * xs + ls * cin;
            }
            input(xr, u, cin);
        }
        for (int p = 0; p < TTS_WINO_POINTS; p++)
            gemm(tx + p * xs, packed + p * per_point, 0, ty + p * ys, cin, cout, p == TTS_WINO_INF ? 1 : 2, d, 0, slots, o0,
                 o1, 0);
        for (int64_t ls = 0; ls < slots; ls++) {
            int64_t t0 = wino_tile_start(bb * d + ls, d);
            const float *m[TTS_WINO_POINTS];
            float *yr[TTS_WINO_TILE];
            for (int p = 0; p < TTS_WINO_POINTS; p++) m[p] = ty + p * ys + ls * cout + o0;
            for (int i = 0; i < TTS_WINO_TILE; i++) {
                int64_t t = t0 + i * d;
                yr[i] = t < frames ? y + t * cout + o0 : sink;
            }
            output(m, b, yr, o1 - o0);
        }
    }
}

static void wino_input_ref(const float *const x[TTS_WINO_POINTS], float *const u[TTS_WINO_POINTS], int64_t n) {
    tts_wino_input_tile(x[0], x[1], x[2], x[3], x[4], x[5], x[6], u[0], u[1], u[2], u[3], u[4], u[5], u[6], n);
}

static void wino_output_ref(const float *const m[TTS_WINO_POINTS], const float *bias, float *const y[TTS_WINO_TILE], int64_t n) {
    tts_wino_output_tile(m[0], m[1], m[2], m[3], m[4], m[5], m[6], bias, y[0], y[1], y[2], y[3], n);
}

void tts_conv7_wino_f32_ref(const float *x, const float *packed, const float *bias, float *y, int64_t cin, int64_t cout,
                            int64_t dilation, int64_t frames, int64_t b0, int64_t b1, int64_t o0, int64_t o1, float *scratch) {
    tts_conv7_wino_run(x, packed, bias, y, cin, cout, dilation, frames, b0, b1, o0, o1, scratch, wino_input_ref,
                       wino_output_ref, tts_conv_gemm_f32_ref);
}
