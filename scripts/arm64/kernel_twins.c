// Twin tests for the NEON kernels, run under qemu-aarch64 by scripts/arm64/test-kernels.sh: every
// NEON kernel (and, where the CPU has it, every dotprod kernel) against its scalar `_ref` twin on
// odd shapes and tails, with the bounds of the Swift twin tests (CTTSKernelsTests). Prints each
// kernel's worst error and exits 1 if any bound is exceeded.
#include "tts_kernels.h"
#include "../../Sources/CTTSKernels/ref/conv_winograd_internal.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static float rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((double)(rng_state >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static float *randoms(int64_t n, float scale) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) p[i] = rnd() * scale;
    return p;
}

static float *filled(int64_t n, float v) {
    float *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) p[i] = v;
    return p;
}

// max |a - b| / max(1, |b|); infinity on a NaN in either (a NaN must never pass).
static double rel_error(const float *a, const float *b, int64_t n) {
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(a[i]) != isnan(b[i])) return INFINITY;
        if (isnan(a[i])) continue;
        double e = fabs((double)a[i] - b[i]) / fmax(1.0, fabs((double)b[i]));
        if (e > worst) worst = e;
    }
    return worst;
}

// |a - b| / |b| over the whole vector (the q4_k bound, as Q4KTests.normError).
static double norm_error(const float *a, const float *b, int64_t n) {
    double d = 0, r = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(a[i]) || isnan(b[i])) return INFINITY;
        d += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        r += (double)b[i] * b[i];
    }
    return sqrt(d) / fmax(sqrt(r), 1e-30);
}

static void check(const char *kernel, const char *shape, double error, double bound) {
    int ok = error <= bound;
    if (!ok) failures++;
    printf("%-5s %-34s %-26s error %.3g (bound %.0e)\n", ok ? "ok" : "FAIL", kernel, shape, error, bound);
}

typedef void (*matmul_fn)(const void *, const float *, float *, int64_t, int64_t, int64_t, int64_t, int64_t);

static void test_matmuls(void) {
    static const int64_t shapes[][3] = {{1, 1, 1}, {3, 5, 1}, {17, 31, 2}, {33, 129, 3}, {64, 1024, 1}, {5, 48, 7}, {130, 97, 5}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t rows = shapes[s][0], cols = shapes[s][1], n = shapes[s][2];
        char shape[64];
        snprintf(shape, sizeof shape, "%lldx%lld, %lld tokens", (long long)rows, (long long)cols, (long long)n);
        float *w = randoms(rows * cols, 1), *x = randoms(cols * n, 1), *ref = filled(rows * n, NAN), *y = filled(rows * n, NAN);
        uint16_t *wb = malloc((size_t)(rows * cols) * 2);
        for (int64_t i = 0; i < rows * cols; i++) wb[i] = tts_f32_to_bf16(w[i]);
        tts_matmul_f32_ref(w, x, ref, rows, cols, n, 0, rows);
        tts_matmul_f32_neon(w, x, y, rows, cols, n, 0, rows);
        check("matmul_f32_neon", shape, rel_error(y, ref, rows * n), 1e-5);
        tts_matmul_bf16_ref(wb, x, ref, rows, cols, n, 0, rows);
        for (int64_t i = 0; i < rows * n; i++) y[i] = NAN;
        // A row range that starts and ends inside the matrix writes only its rows.
        int64_t lo = rows > 2 ? 1 : 0, hi = rows > 2 ? rows - 1 : rows;
        tts_matmul_bf16_neon(wb, x, y, rows, cols, n, lo, hi);
        double outside = 0;
        for (int64_t t = 0; t < n; t++)
            for (int64_t r = 0; r < rows; r++) {
                float *v = &y[t * rows + r];
                if (r < lo || r >= hi) { if (!isnan(*v)) outside = INFINITY; *v = ref[t * rows + r]; }
            }
        check("matmul_bf16_neon (row range)", shape, fmax(rel_error(y, ref, rows * n), outside), 1e-5);
        if (cols % 32 == 0) {
            uint8_t *q = malloc((size_t)(rows * cols / 32 * TTS_Q8_0_BLOCK_BYTES));
            tts_quantize_q8_0(w, q, rows * cols);
            tts_matmul_q8_0_ref(q, x, ref, rows, cols, n, 0, rows);
            tts_matmul_q8_0_neon(q, x, y, rows, cols, n, 0, rows);
            check("matmul_q8_0_neon", shape, rel_error(y, ref, rows * n), 1e-5);
            free(q);
        }
        free(w); free(x); free(ref); free(y); free(wb);
    }
}

static void test_q4_k(void) {
    static const int64_t shapes[][2] = {{1, 256}, {5, 512}, {17, 768}, {33, 3072}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t rows = shapes[s][0], cols = shapes[s][1];
        char shape[64];
        snprintf(shape, sizeof shape, "%lldx%lld", (long long)rows, (long long)cols);
        float *w = randoms(rows * cols, 1), *x = randoms(cols, 3);
        for (int64_t i = 0; i < rows * cols; i++) w[i] *= (float)((i / 32) % 7 + 1);  // scales differ per sub-block
        uint8_t *q = malloc((size_t)(rows * cols / 256 * TTS_Q4_K_BLOCK_BYTES));
        tts_quantize_q4_k(w, q, rows * cols);
        int8_t *xq = malloc((size_t)cols);
        float *xd = malloc((size_t)(cols / 256) * sizeof(float));
        int32_t *xsum = malloc((size_t)(cols / 32) * sizeof(int32_t));
        tts_q4_k_quantize_x(x, cols, xq, xd, xsum);
        float *ref = filled(rows, NAN), *y = filled(rows, NAN);
        tts_q4_k_matvec_ref(q, xq, xd, xsum, ref, cols, 0, rows);
        int64_t lo = rows > 2 ? 1 : 0, hi = rows > 2 ? rows - 1 : rows;
        void (*paths[2])(const uint8_t *, const int8_t *, const float *, const int32_t *, float *, int64_t, int64_t, int64_t) = {
            tts_q4_k_matvec_neon, tts_q4_k_matvec_neon_dotprod};
        const char *names[2] = {"q4_k_matvec_neon", "q4_k_matvec_neon_dotprod"};
        for (int p = 0; p < 2; p++) {
            if (p == 1 && !tts_cpu_has(TTS_FEATURE_DOTPROD)) { printf("skip  %s (this CPU has no dotprod)\n", names[p]); continue; }
            for (int64_t i = 0; i < rows; i++) y[i] = NAN;
            paths[p](q, xq, xd, xsum, y, cols, lo, hi);
            double outside = 0;
            for (int64_t r = 0; r < rows; r++)
                if (r < lo || r >= hi) { if (!isnan(y[r])) outside = INFINITY; y[r] = ref[r]; }
            check(names[p], shape, fmax(norm_error(y, ref, rows), outside), 1e-6);
        }
        float *dq = filled(rows * cols, NAN), *dref = filled(rows * cols, NAN);
        tts_dequantize_q4_k_ref(q, dref, rows * cols);
        tts_dequantize_q4_k_neon(q, dq, rows * cols);
        check("dequantize_q4_k_neon", shape, rel_error(dq, dref, rows * cols), 1e-6);
        free(w); free(x); free(q); free(xq); free(xd); free(xsum); free(ref); free(y); free(dq); free(dref);
    }
}

// q8_0 in VNNI order with sdot (the layout of the x86 integer kernels), against its reference.
static void test_q8_vnni(void) {
    static const int64_t shapes[][2] = {{1, 512}, {5, 1024}, {16, 1536}, {33, 3072}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t rows = shapes[s][0], cols = shapes[s][1], nb = cols / 32;
        char shape[64];
        snprintf(shape, sizeof shape, "%lldx%lld", (long long)rows, (long long)cols);
        if (!tts_cpu_has(TTS_FEATURE_DOTPROD)) { printf("skip  q8_vnni_matvec_neon_dotprod (this CPU has no dotprod)\n"); continue; }
        float *w = randoms(rows * cols, 1), *x = randoms(cols, 3);
        uint8_t *q = malloc((size_t)(rows * nb * TTS_Q8_0_BLOCK_BYTES)), *wq = malloc((size_t)(rows * cols));
        uint16_t *ws = malloc((size_t)(rows * nb) * 2);
        tts_quantize_q8_0(w, q, rows * cols);
        tts_q8_vnni_repack(q, rows, cols, wq, ws);
        int8_t *xq = malloc((size_t)cols);
        float *xs = malloc((size_t)nb * sizeof(float));
        int32_t *xsum = malloc((size_t)nb * sizeof(int32_t));
        tts_q8_vnni_quantize_x(x, cols, xq, xs, xsum);
        float *ref = filled(rows, NAN), *y = filled(rows, NAN);
        tts_q8_vnni_matvec_ref(wq, ws, xq, xs, xsum, ref, cols, 0, rows);
        int64_t lo = rows > 2 ? 1 : 0, hi = rows > 2 ? rows - 1 : rows;
        tts_q8_vnni_matvec_neon_dotprod(wq, ws, xq, xs, xsum, y, cols, lo, hi);
        double outside = 0;
        for (int64_t r = 0; r < rows; r++)
            if (r < lo || r >= hi) { if (!isnan(y[r])) outside = INFINITY; y[r] = ref[r]; }
        check("q8_vnni_matvec_neon_dotprod", shape, fmax(rel_error(y, ref, rows), outside), 1e-5);
        free(w); free(x); free(q); free(wq); free(ws); free(xq); free(xs); free(xsum); free(ref); free(y);
    }
}

static void test_elementwise(void) {
    static const int64_t sizes[] = {1, 3, 4, 5, 16, 17, 63, 200, 1024, 2048 + 13, 3077};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int64_t n = sizes[s];
        char shape[64];
        snprintf(shape, sizeof shape, "n = %lld", (long long)n);
        float *g = randoms(n, 12), *u = randoms(n, 2), *ref = filled(n, NAN), *y = filled(n, NAN);
        tts_silu_mul_f32_ref(g, u, ref, n);
        tts_silu_mul_f32_neon(g, u, y, n);
        check("silu_mul_f32_neon", shape, rel_error(y, ref, n), 1e-6);
        float *w = randoms(n, 1);
        tts_rmsnorm_f32_ref(g, w, ref, n, 1e-6f);
        tts_rmsnorm_f32_neon(g, w, y, n, 1e-6f);
        check("rmsnorm_f32_neon", shape, rel_error(y, ref, n), 1e-6);
        // Softmax over logits with a masked (-inf) entry, which must come out exactly 0.
        float *a = randoms(n, 20), *b = malloc((size_t)n * sizeof(float));
        if (n > 2) a[n / 2] = -INFINITY;
        memcpy(b, a, (size_t)n * sizeof(float));
        tts_softmax_f32_ref(a, n);
        tts_softmax_f32_neon(b, n);
        double masked = (n > 2 && b[n / 2] != 0.0f) ? INFINITY : 0;
        check("softmax_f32_neon", shape, fmax(rel_error(b, a, n), masked), 1e-6);
        free(g); free(u); free(ref); free(y); free(w); free(a); free(b);
    }
}

static void test_attention_and_snake(void) {
    static const int64_t shapes[][2] = {{1, 8}, {7, 64}, {73, 128}, {150, 128}, {5, 20}, {3, 6}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t keys = shapes[s][0], dim = shapes[s][1], stride = dim + 3;
        char shape[64];
        snprintf(shape, sizeof shape, "%lld keys, dim %lld", (long long)keys, (long long)dim);
        float *q = randoms(dim, 1), *k = randoms(keys * stride, 1), *v = randoms(keys * stride, 1);
        float *ref = filled(dim, NAN), *y = filled(dim, NAN), *sr = filled(keys, 0), *sy = filled(keys, 0);
        tts_attention_head_f32_ref(q, k, v, ref, sr, keys, dim, stride, 0.125f);
        tts_attention_head_f32_neon(q, k, v, y, sy, keys, dim, stride, 0.125f);
        check("attention_head_f32_neon", shape, rel_error(y, ref, dim), 1e-5);
        // A bf16 cache: exactly the f32 kernel on the widened values.
        uint16_t *kb = malloc(keys * stride * sizeof(uint16_t)), *vb = malloc(keys * stride * sizeof(uint16_t));
        float *kw = malloc(keys * stride * sizeof(float)), *vw = malloc(keys * stride * sizeof(float));
        tts_convert_f32_bf16(k, kb, keys * stride);
        tts_convert_f32_bf16(v, vb, keys * stride);
        tts_convert_bf16_f32(kb, kw, keys * stride);
        tts_convert_bf16_f32(vb, vw, keys * stride);
        tts_attention_head_f32_neon(q, kw, vw, ref, sr, keys, dim, stride, 0.125f);
        tts_attention_head_bf16kv_neon(q, kb, vb, y, sy, keys, dim, stride, 0.125f);
        check("attention_head_bf16kv_neon", shape, memcmp(y, ref, dim * sizeof(float)) ? 1 : 0, 0);
        free(kb); free(vb); free(kw); free(vw);
        free(q); free(k); free(v); free(ref); free(y); free(sr); free(sy);
    }
    // A q8_0 cache through dispatch on the NEON path (its q8_0 product for the scores): the f32
    // attention on the dequantized keys and values, within float rounding.
    tts_select_isa(TTS_ISA_NEON);
    static const int64_t q8[][3] = {{1, 1, 32}, {2, 7, 128}, {2, 73, 128}, {3, 40, 64}};
    for (size_t s = 0; s < sizeof q8 / sizeof q8[0]; s++) {
        int64_t heads = q8[s][0], keys = q8[s][1], dim = q8[s][2], row = dim / 32 * TTS_Q8_0_BLOCK_BYTES;
        char shape[64];
        snprintf(shape, sizeof shape, "%lld heads, %lld keys, dim %lld", (long long)heads, (long long)keys, (long long)dim);
        float *q = randoms(heads * dim, 1), *k = randoms(keys * dim, 1), *v = randoms(keys * dim, 1);
        uint8_t *kq = malloc(keys * row), *vq = malloc(keys * row);
        tts_quantize_q8_0(k, kq, keys * dim);
        tts_quantize_q8_0(v, vq, keys * dim);
        tts_dequantize_q8_0(kq, k, keys * dim);
        tts_dequantize_q8_0(vq, v, keys * dim);
        float *ref = filled(heads * dim, NAN), *y = filled(heads * dim, NAN), *sc = filled(heads * keys, 0);
        for (int64_t h = 0; h < heads; h++) tts_attention_head_f32_ref(q + h * dim, k, v, ref + h * dim, sc, keys, dim, dim, 0.11f);
        tts_attention_group_q8kv(q, heads, kq, vq, y, sc, keys, dim, 0.11f);
        check("attention_group_q8kv (neon dispatch)", shape, rel_error(y, ref, heads * dim), 1e-5);
        free(q); free(k); free(v); free(kq); free(vq); free(ref); free(y); free(sc);
    }
    tts_select_isa(TTS_ISA_SCALAR);
    static const int64_t snake[][2] = {{1, 1}, {3, 5}, {7, 33}, {40, 64}, {2, 1536}};
    for (size_t s = 0; s < sizeof snake / sizeof snake[0]; s++) {
        int64_t t = snake[s][0], c = snake[s][1];
        char shape[64];
        snprintf(shape, sizeof shape, "%lld tokens x %lld", (long long)t, (long long)c);
        float *x = randoms(t * c, 30), *a = randoms(c, 4), *ib = randoms(c, 2);
        float *ref = filled(t * c, NAN), *y = filled(t * c, NAN);
        tts_snake_tm_f32_ref(x, ref, a, ib, c, 0, t);
        tts_snake_tm_f32_neon(x, y, a, ib, c, 0, t);
        check("snake_tm_f32_neon", shape, rel_error(y, ref, t * c), 1e-5);
        free(x); free(a); free(ib); free(ref); free(y);
    }
}

static void test_convs(void) {
    static const int64_t shapes[][5] = {{3, 5, 1, 1, 9}, {16, 40, 7, 3, 70}, {33, 96, 7, 9, 131}, {96, 32, 1, 1, 17},
                                        {7, 70, 3, 2, 2}, {64, 33, 5, 1, 1}, {24, 64, 4, 1, 13}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t cin = shapes[s][0], cout = shapes[s][1], k = shapes[s][2], d = shapes[s][3], t = shapes[s][4];
        char shape[64];
        snprintf(shape, sizeof shape, "%lld->%lld k%lld d%lld t%lld", (long long)cin, (long long)cout, (long long)k, (long long)d,
                 (long long)t);
        float *x = randoms((t + (k - 1) * d) * cin, 1), *w = randoms(cout * cin * k, 1), *b = randoms(cout, 1);
        float *add = randoms(t * cout, 1);
        float *packed = malloc((size_t)tts_conv_packed_count(cin, cout, k) * sizeof(float));
        tts_conv_pack_f32(w, packed, cin, cout, k);
        float *ref = filled(t * cout, NAN), *y = filled(t * cout, NAN);
        tts_conv_gemm_f32_ref(x, packed, b, ref, cin, cout, k, d, 0, t, 0, cout, add);
        tts_conv_gemm_f32_neon(x, packed, b, y, cin, cout, k, d, 0, t, 0, cout, add);
        check("conv_gemm_f32_neon (bias, residual)", shape, rel_error(y, ref, t * cout), 1e-5);
        if (t >= 3 && cout > 32) {  // a token range and the second channel block only
            for (int64_t i = 0; i < t * cout; i++) y[i] = NAN;
            tts_conv_gemm_f32_ref(x, packed, NULL, ref, cin, cout, k, d, 0, t, 0, cout, NULL);
            tts_conv_gemm_f32_neon(x, packed, NULL, y, cin, cout, k, d, 1, t - 1, 32, cout, NULL);
            double outside = 0;
            for (int64_t tt = 0; tt < t; tt++)
                for (int64_t o = 0; o < cout; o++) {
                    float *v = &y[tt * cout + o];
                    if (tt < 1 || tt >= t - 1 || o < 32) { if (!isnan(*v)) outside = INFINITY; *v = ref[tt * cout + o]; }
                }
            check("conv_gemm_f32_neon (ranges)", shape, fmax(rel_error(y, ref, t * cout), outside), 1e-5);
        }
        free(x); free(w); free(b); free(add); free(packed); free(ref); free(y);
    }
    static const int64_t wino[][4] = {{5, 37, 1, 1}, {16, 40, 3, 70}, {33, 96, 9, 131}, {64, 64, 1, 4}, {7, 70, 2, 23}, {40, 64, 3, 600}};
    for (size_t s = 0; s < sizeof wino / sizeof wino[0]; s++) {
        int64_t cin = wino[s][0], cout = wino[s][1], d = wino[s][2], t = wino[s][3];
        char shape[64];
        snprintf(shape, sizeof shape, "%lld->%lld d%lld t%lld", (long long)cin, (long long)cout, (long long)d, (long long)t);
        float *x = randoms((t + 6 * d) * cin, 1), *w = randoms(cout * cin * 7, 1), *b = randoms(cout, 1);
        float *packed = malloc((size_t)tts_conv7_wino_packed_count(cin, cout) * sizeof(float));
        tts_conv7_wino_pack_f32(w, packed, cin, cout);
        int64_t blocks = tts_conv7_wino_blocks(t, d);
        float *scratch = malloc((size_t)tts_conv7_wino_scratch_count(cin, cout, d, blocks) * sizeof(float));
        float *ref = filled(t * cout, NAN), *y = filled(t * cout, NAN);
        tts_conv7_wino_f32_ref(x, packed, b, ref, cin, cout, d, t, 0, blocks, 0, cout, scratch);
        int ran = tts_conv7_wino_f32_isa(TTS_ISA_NEON, x, packed, b, y, cin, cout, d, t, 0, blocks, 0, cout, scratch);
        check("conv7_wino_f32 (neon)", shape, ran ? rel_error(y, ref, t * cout) : INFINITY, 1e-4);
        free(x); free(w); free(b); free(packed); free(scratch); free(ref); free(y);
    }
}

// Batch invariance (issue 18): through dispatch, each token of an n-token product equals that
// token multiplied alone, bit for bit (as RowInvarianceTests checks on x86), so a request's
// codes do not depend on the batch it runs in. The q4_k and sdot q8_0 products run token by
// token through one matrix-vector kernel and are invariant by construction.
static void test_row_invariance(void) {
    const int64_t rows = 13, cols = 96, max_n = 9;
    float *w = randoms(rows * cols, 1), *x = randoms(max_n * cols, 2);
    uint16_t *wb = malloc(rows * cols * sizeof(uint16_t));
    for (int64_t i = 0; i < rows * cols; i++) wb[i] = tts_f32_to_bf16(w[i]);
    uint8_t *q = malloc(rows * (cols / 32) * TTS_Q8_0_BLOCK_BYTES);
    for (int64_t r = 0; r < rows; r++) tts_quantize_q8_0(w + r * cols, q + r * (cols / 32) * TTS_Q8_0_BLOCK_BYTES, cols);
    float *alone = malloc(max_n * rows * sizeof(float)), *together = malloc(max_n * rows * sizeof(float));
    for (int kind = 0; kind < 3; kind++) {
        static const char *names[] = {"matmul_f32 batch invariance", "matmul_bf16 batch invariance", "matmul_q8_0 batch invariance"};
        for (int64_t n = 2; n <= max_n; n++) {
            for (int64_t t = 0; t < n; t++) {
                if (kind == 0) tts_matmul_f32(w, x + t * cols, alone + t * rows, rows, cols, 1, 0, rows);
                if (kind == 1) tts_matmul_bf16(wb, x + t * cols, alone + t * rows, rows, cols, 1, 0, rows);
                if (kind == 2) tts_matmul_q8_0(q, x + t * cols, alone + t * rows, rows, cols, 1, 0, rows);
            }
            if (kind == 0) tts_matmul_f32(w, x, together, rows, cols, n, 0, rows);
            if (kind == 1) tts_matmul_bf16(wb, x, together, rows, cols, n, 0, rows);
            if (kind == 2) tts_matmul_q8_0(q, x, together, rows, cols, n, 0, rows);
            char shape[64];
            snprintf(shape, sizeof shape, "%lldx%lld, %lld tokens", (long long)rows, (long long)cols, (long long)n);
            check(names[kind], shape, memcmp(alone, together, n * rows * sizeof(float)) ? 1 : 0, 0);
        }
    }
    free(w); free(x); free(wb); free(q); free(alone); free(together);
}

int main(void) {
    printf("kernel path: %s; dotprod %s, i8mm %s\n", tts_kernels_describe(), tts_cpu_has(TTS_FEATURE_DOTPROD) ? "yes" : "no",
           tts_cpu_has(TTS_FEATURE_I8MM) ? "yes" : "no");
    const char *forced = getenv("TTS_KERNELS");
    if (tts_kernels_forced_error()) { printf("FAIL  %s\n", tts_kernels_forced_error()); failures++; }
    if (forced && *forced && strcmp(forced, tts_isa_name(tts_active_isa()))) { printf("FAIL  dispatch is not on the forced path\n"); failures++; }
    int expected = tts_cpu_has(TTS_FEATURE_DOTPROD) ? TTS_ISA_NEON_DOTPROD : TTS_ISA_NEON;
    if (!(forced && *forced) && tts_active_isa() != expected) { printf("FAIL  dispatch chose %s\n", tts_isa_name(tts_active_isa())); failures++; }
    test_matmuls();
    test_row_invariance();
    test_q4_k();
    test_q8_vnni();
    test_elementwise();
    test_attention_and_snake();
    test_convs();
    printf("%s: %d failure%s\n", failures ? "FAILED" : "passed", failures, failures == 1 ? "" : "s");
    return failures ? 1 : 0;
}
