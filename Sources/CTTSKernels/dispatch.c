// Runtime selection of kernel implementations (CPU features, TTS_KERNELS override).
#include "include/tts_kernels.h"
#include "ref/conv_winograd_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif
#if defined(__aarch64__) && defined(__APPLE__)
#include <sys/sysctl.h>
#endif

typedef void (*matmul_f32_fn)(const float *, const float *, float *, int64_t, int64_t, int64_t, int64_t, int64_t);
typedef void (*matmul_bf16_fn)(const uint16_t *, const float *, float *, int64_t, int64_t, int64_t, int64_t, int64_t);

static matmul_f32_fn g_matmul_f32 = tts_matmul_f32_ref;
static matmul_bf16_fn g_matmul_bf16 = tts_matmul_bf16_ref;
typedef void (*matmul_q8_fn)(const uint8_t *, const float *, float *, int64_t, int64_t, int64_t, int64_t, int64_t);
static matmul_q8_fn g_matmul_q8_0 = tts_matmul_q8_0_ref;
typedef void (*attention_fn)(const float *, const float *, const float *, float *, float *, int64_t, int64_t, int64_t, float);
static attention_fn g_attention = tts_attention_head_f32_ref;
typedef void (*attention_bf16kv_fn)(const float *, const uint16_t *, const uint16_t *, float *, float *, int64_t, int64_t, int64_t, float);
static attention_bf16kv_fn g_attention_bf16kv = tts_attention_head_bf16kv_ref;
// Grouped attention where a path has its own kernel (NULL: each head by the single-head kernel).
typedef void (*attention_group_fn)(const float *, int64_t, const float *, const float *, float *, float *, int64_t, int64_t,
                                   int64_t, float);
typedef void (*attention_group_bf16kv_fn)(const float *, int64_t, const uint16_t *, const uint16_t *, float *, float *, int64_t,
                                          int64_t, int64_t, float);
static attention_group_fn g_attention_group = NULL;
static tts_attention_values_q8_0_fn g_attention_values_q8_0 = tts_attention_values_q8_0_ref;
static attention_group_bf16kv_fn g_attention_group_bf16kv = NULL;
typedef void (*snake_fn)(const float *, float *, const float *, const float *, int64_t, int64_t, int64_t);
static snake_fn g_snake = tts_snake_tm_f32_ref;
typedef void (*conv_gemm_fn)(const float *, const float *, const float *, float *, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t,
                             int64_t, int64_t, const float *);
static conv_gemm_fn g_conv_gemm = tts_conv_gemm_f32_ref;
typedef void (*rmsnorm_fn)(const float *, const float *, float *, int64_t, float);
static rmsnorm_fn g_rmsnorm = tts_rmsnorm_f32_ref;
typedef void (*silu_mul_fn)(const float *, const float *, float *, int64_t);
static silu_mul_fn g_silu_mul = tts_silu_mul_f32_ref;
typedef void (*softmax_fn)(float *, int64_t);
static softmax_fn g_softmax = tts_softmax_f32_ref;
static int g_isa = TTS_ISA_SCALAR;

#if defined(__aarch64__) && defined(__APPLE__)
static int apple_feature(const char *name) {
    int value = 0;
    size_t size = sizeof value;
    return sysctlbyname(name, &value, &size, NULL, 0) == 0 && value != 0;
}
#endif

int tts_cpu_supports(int isa) {
    switch (isa) {
    case TTS_ISA_SCALAR: return 1;
#if defined(__aarch64__)
    case TTS_ISA_NEON: return 1;  // Advanced SIMD is part of ARMv8-A
    case TTS_ISA_NEON_DOTPROD: return tts_cpu_has(TTS_FEATURE_DOTPROD);
#endif
#if defined(__x86_64__)
    case TTS_ISA_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case TTS_ISA_AVX_VNNI:
        return tts_cpu_supports(TTS_ISA_AVX2) && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avxvnni");
    case TTS_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
#endif
    default: return 0;
    }
}

int tts_cpu_has(int feature) {
    switch (feature) {
#if defined(__x86_64__)
    case TTS_FEATURE_AVX512_VNNI:
        return tts_cpu_supports(TTS_ISA_AVX512) && __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("f16c");
    case TTS_FEATURE_AVX512_BF16: return tts_cpu_supports(TTS_ISA_AVX512) && __builtin_cpu_supports("avx512bf16");
    case TTS_FEATURE_AVX_VNNI: return tts_cpu_supports(TTS_ISA_AVX_VNNI);
#endif
#if defined(__aarch64__) && defined(__linux__)
    case TTS_FEATURE_DOTPROD: return (getauxval(AT_HWCAP) & (1UL << 20)) != 0;   // HWCAP_ASIMDDP
    case TTS_FEATURE_I8MM: return (getauxval(AT_HWCAP2) & (1UL << 13)) != 0;     // HWCAP2_I8MM
#elif defined(__aarch64__) && defined(__APPLE__)
    case TTS_FEATURE_DOTPROD: return apple_feature("hw.optional.arm.FEAT_DotProd");
    case TTS_FEATURE_I8MM: return apple_feature("hw.optional.arm.FEAT_I8MM");
#endif
    default: return 0;
    }
}

// Points every dispatched kernel at one instruction set's versions (named tts_<kernel>_<suffix>).
#define USE_KERNELS(S)                                                                       \
    do {                                                                                     \
        g_matmul_f32 = tts_matmul_f32_##S; g_matmul_bf16 = tts_matmul_bf16_##S;             \
        g_matmul_q8_0 = tts_matmul_q8_0_##S; g_attention = tts_attention_head_f32_##S;      \
        g_snake = tts_snake_tm_f32_##S; g_conv_gemm = tts_conv_gemm_f32_##S;                \
        g_rmsnorm = tts_rmsnorm_f32_##S; g_silu_mul = tts_silu_mul_f32_##S;                 \
        g_softmax = tts_softmax_f32_##S; g_attention_bf16kv = tts_attention_head_bf16kv_##S; \
        g_attention_group = NULL; g_attention_group_bf16kv = NULL;                           \
        g_attention_values_q8_0 = tts_attention_values_q8_0_ref;                             \
    } while (0)

int tts_select_isa(int isa) {
    if (!tts_cpu_supports(isa)) return 0;
    g_isa = isa;
    switch (isa) {
#if defined(__x86_64__)
    case TTS_ISA_AVX512:
        USE_KERNELS(avx512);
        g_attention_group = tts_attention_group_f32_avx512;
        g_attention_group_bf16kv = tts_attention_group_bf16kv_avx512;
        g_attention_values_q8_0 = tts_attention_values_q8_0_avx512;
        break;
    case TTS_ISA_AVX2:
    case TTS_ISA_AVX_VNNI:
        USE_KERNELS(avx2);
        g_attention_values_q8_0 = tts_attention_values_q8_0_avx2;
        break;  // avx-vnni: 256-bit vpdpbusd for the int8 products too
#endif
#if defined(__aarch64__)
    case TTS_ISA_NEON:
    case TTS_ISA_NEON_DOTPROD: USE_KERNELS(neon); break;
#endif
    default:
        USE_KERNELS(ref);
        g_isa = TTS_ISA_SCALAR;
        break;
    }
    return 1;
}

int tts_active_isa(void) { return g_isa; }

const char *tts_isa_name(int isa) {
    switch (isa) {
    case TTS_ISA_AVX2: return "avx2";
    case TTS_ISA_AVX_VNNI: return "avx-vnni";
    case TTS_ISA_AVX512: return "avx512";
    case TTS_ISA_NEON: return "neon";
    case TTS_ISA_NEON_DOTPROD: return "neon-dotprod";
    default: return "scalar";
    }
}

// A TTS_KERNELS value that names no path, or a path this CPU lacks, is an error the host reports
// (tts_kernels_forced_error) instead of a silent fallback: whoever forces a path is measuring or
// testing it, and a run on another path would mislead them. Until reported, scalar runs.
static char g_forced_error[192];

static int isa_named(const char *name) {
    for (int i = TTS_ISA_SCALAR; i < TTS_ISA_COUNT; i++)
        if (!strcmp(name, tts_isa_name(i))) return i;
    return -1;
}

int tts_kernels_resolve(const char *name, char *error, size_t size) {
    int isa = isa_named(name);
    if (isa >= 0 && tts_cpu_supports(isa)) return isa;
    char supported[64] = "";
    for (int i = TTS_ISA_SCALAR; i < TTS_ISA_COUNT; i++) {
        if (!tts_cpu_supports(i)) continue;
        if (supported[0]) strncat(supported, ", ", sizeof supported - strlen(supported) - 1);
        strncat(supported, tts_isa_name(i), sizeof supported - strlen(supported) - 1);
    }
    if (error && size)
        snprintf(error, size, "TTS_KERNELS=%.40s: %s (this CPU runs: %s)", name,
                 isa < 0 ? "no such kernel path" : "this CPU lacks that path", supported);
    return -1;
}

const char *tts_kernels_forced_error(void) { return g_forced_error[0] ? g_forced_error : NULL; }

__attribute__((constructor)) static void tts_kernels_init(void) {
    const char *forced = getenv("TTS_KERNELS");
    if (forced && *forced) {
        int isa = tts_kernels_resolve(forced, g_forced_error, sizeof g_forced_error);
        tts_select_isa(isa >= 0 ? isa : TTS_ISA_SCALAR);
        return;
    }
    static const int fastest_first[] = {TTS_ISA_AVX512, TTS_ISA_AVX_VNNI, TTS_ISA_AVX2, TTS_ISA_NEON_DOTPROD, TTS_ISA_NEON};
    for (size_t i = 0; i < sizeof fastest_first / sizeof fastest_first[0]; i++)
        if (tts_select_isa(fastest_first[i])) return;
    tts_select_isa(TTS_ISA_SCALAR);
}

const char *tts_kernels_describe(void) {
    static _Thread_local char text[192];
    const char *int8 = g_isa == TTS_ISA_AVX_VNNI ? "avx-vnni (256-bit)" : tts_q8_vnni_supported() ? "avx512-vnni" : g_isa == TTS_ISA_NEON_DOTPROD ? "sdot (q4_k, q8_0)" : "none (f32 or q4_k/q8_0 dot products)";
    snprintf(text, sizeof text, "%s; int8 products: %s; decoder bf16 convs: %s", tts_isa_name(g_isa), int8,
             tts_conv_bf16_fast() ? "avx512-bf16" : "scalar twin");
    return text;
}

void tts_matmul_f32(const float *w, const float *x, float *y, int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    g_matmul_f32(w, x, y, rows, cols, n, r0, r1);
}

void tts_matmul_bf16(const uint16_t *w, const float *x, float *y, int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    g_matmul_bf16(w, x, y, rows, cols, n, r0, r1);
}

// Many tokens (prefill): dequantize 4 rows at a time into a per-thread buffer and run the f32
// product on them, so each weight block is converted once instead of once per 4 tokens.
#define DQ_ROWS 4
#define DQ_MAX_COLS 8192
#define DQ_TOKENS 256
static _Thread_local float dequant_rows[DQ_ROWS * DQ_MAX_COLS];
static _Thread_local float dequant_out[DQ_ROWS * DQ_TOKENS];

// Dequantizes rows [r0, r1) a few at a time with `dequant` and multiplies them with n tokens.
static void matmul_by_dequantized_rows(void (*dequant)(const uint8_t *, float *, int64_t), const uint8_t *w, int64_t row_bytes,
                                       const float *x, float *y, int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r += DQ_ROWS) {
        int64_t nr = r1 - r < DQ_ROWS ? r1 - r : DQ_ROWS;
        for (int64_t i = 0; i < nr; i++) dequant(w + (r + i) * row_bytes, dequant_rows + i * cols, cols);
        for (int64_t t = 0; t < n; t += DQ_TOKENS) {
            int64_t nt = n - t < DQ_TOKENS ? n - t : DQ_TOKENS;
            g_matmul_f32(dequant_rows, x + t * cols, dequant_out, nr, cols, nt, 0, nr);
            for (int64_t j = 0; j < nt; j++)
                for (int64_t i = 0; i < nr; i++) y[(t + j) * rows + r + i] = dequant_out[j * nr + i];
        }
    }
}

// q8_0 without integer dot products (no VNNI/sdot repack): the per-token kernel for any number of
// tokens. Dequantizing rows for 4 or more tokens read the weights fewer times but summed in
// another order, so a token's result depended on how many tokens shared the product; a batch of
// requests must give each one the bytes it gets alone (RowInvarianceTests). The integer kernels
// that serve q8_0 where the CPU has them read the weights once for all tokens and are invariant.
void tts_matmul_q8_0(const uint8_t *w, const float *x, float *y, int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    g_matmul_q8_0(w, x, y, rows, cols, n, r0, r1);
}

void tts_matmul_q4_k(const uint8_t *w, const float *x, float *y, int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    int64_t row_bytes = cols / 256 * TTS_Q4_K_BLOCK_BYTES;
    if (cols <= DQ_MAX_COLS) {
        matmul_by_dequantized_rows(tts_dequantize_q4_k, w, row_bytes, x, y, rows, cols, n, r0, r1);
        return;
    }
    float *row = dequant_rows;  // rows wider than the buffer: dequantized in pieces
    for (int64_t r = r0; r < r1; r++)
        for (int64_t t = 0; t < n; t++) {
            float acc = 0;
            for (int64_t c0 = 0; c0 < cols; c0 += DQ_MAX_COLS) {
                int64_t nc = cols - c0 < DQ_MAX_COLS ? cols - c0 : DQ_MAX_COLS;
                tts_dequantize_q4_k(w + r * row_bytes + c0 / 256 * TTS_Q4_K_BLOCK_BYTES, row, nc);
                for (int64_t c = 0; c < nc; c++) acc += row[c] * x[t * cols + c0 + c];
            }
            y[t * rows + r] = acc;
        }
}

void tts_attention_head_bf16kv(const float *q, const uint16_t *k, const uint16_t *v, float *out, float *scores,
                               int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale) {
    g_attention_bf16kv(q, k, v, out, scores, n_keys, head_dim, kv_stride, scale);
}

void tts_attention_head_f32(const float *q, const float *k, const float *v, float *out, float *scores,
                            int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale) {
    g_attention(q, k, v, out, scores, n_keys, head_dim, kv_stride, scale);
}

void tts_attention_group_f32(const float *q, int64_t n_heads, const float *k, const float *v, float *out, float *scores,
                             int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale) {
    if (g_attention_group) {
        g_attention_group(q, n_heads, k, v, out, scores, n_keys, head_dim, kv_stride, scale);
        return;
    }
    for (int64_t h = 0; h < n_heads; h++)
        g_attention(q + h * head_dim, k, v, out + h * head_dim, scores, n_keys, head_dim, kv_stride, scale);
}

void tts_attention_group_q8kv(const float *q, int64_t n_heads, const uint8_t *k, const uint8_t *v, float *out, float *scores,
                              int64_t n_keys, int64_t head_dim, float scale) {
    tts_attention_group_q8kv_with(g_attention_values_q8_0, q, n_heads, k, v, out, scores, n_keys, head_dim, scale);
}

void tts_attention_group_bf16kv(const float *q, int64_t n_heads, const uint16_t *k, const uint16_t *v, float *out,
                                float *scores, int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale) {
    if (g_attention_group_bf16kv) {
        g_attention_group_bf16kv(q, n_heads, k, v, out, scores, n_keys, head_dim, kv_stride, scale);
        return;
    }
    for (int64_t h = 0; h < n_heads; h++)
        g_attention_bf16kv(q + h * head_dim, k, v, out + h * head_dim, scores, n_keys, head_dim, kv_stride, scale);
}


void tts_snake_tm_f32(const float *x, float *y, const float *a, const float *inv_b, int64_t channels, int64_t t0, int64_t t1) {
    g_snake(x, y, a, inv_b, channels, t0, t1);
}

void tts_rmsnorm_f32(const float *x, const float *w, float *y, int64_t n, float eps) { g_rmsnorm(x, w, y, n, eps); }

void tts_silu_mul_f32(const float *gate, const float *up, float *out, int64_t n) { g_silu_mul(gate, up, out, n); }

void tts_softmax_f32(float *x, int64_t n) { g_softmax(x, n); }

void tts_conv_gemm_f32(const float *x, const float *taps, const float *bias, float *y, int64_t cin, int64_t cout,
                       int64_t k, int64_t dilation, int64_t t0, int64_t t1, int64_t o0, int64_t o1, const float *add) {
    g_conv_gemm(x, taps, bias, y, cin, cout, k, dilation, t0, t1, o0, o1, add);
}

int tts_conv7_wino_f32_isa(int isa, const float *x, const float *packed, const float *bias, float *y, int64_t cin,
                           int64_t cout, int64_t dilation, int64_t frames, int64_t b0, int64_t b1, int64_t o0, int64_t o1,
                           float *scratch) {
    if (!tts_cpu_supports(isa)) return 0;
    // The shared driver with one instruction set's transforms and conv GEMM.
#define WINO_WITH(S)                                                                                                    \
    tts_conv7_wino_run(x, packed, bias, y, cin, cout, dilation, frames, b0, b1, o0, o1, scratch, tts_wino_input_##S,   \
                       tts_wino_output_##S, tts_conv_gemm_f32_##S)
    switch (isa) {
#if defined(__x86_64__)
    case TTS_ISA_AVX512: WINO_WITH(avx512); return 1;
    case TTS_ISA_AVX2:
    case TTS_ISA_AVX_VNNI: WINO_WITH(avx2); return 1;
#endif
#if defined(__aarch64__)
    case TTS_ISA_NEON:
    case TTS_ISA_NEON_DOTPROD: WINO_WITH(neon); return 1;
#endif
#undef WINO_WITH
    case TTS_ISA_SCALAR:
        tts_conv7_wino_f32_ref(x, packed, bias, y, cin, cout, dilation, frames, b0, b1, o0, o1, scratch);
        return 1;
    default: return 0;
    }
}

void tts_conv7_wino_f32(const float *x, const float *packed, const float *bias, float *y, int64_t cin, int64_t cout,
                        int64_t dilation, int64_t frames, int64_t b0, int64_t b1, int64_t o0, int64_t o1, float *scratch) {
    if (!tts_conv7_wino_f32_isa(g_isa, x, packed, bias, y, cin, cout, dilation, frames, b0, b1, o0, o1, scratch))
        tts_conv7_wino_f32_ref(x, packed, bias, y, cin, cout, dilation, frames, b0, b1, o0, o1, scratch);
}

// x86: AVX-512 VNNI or AVX-VNNI; arm64: sdot reads the same layout (q4_k keeps its own, below).
int tts_q8_vnni_supported(void) {
    return (g_isa == TTS_ISA_AVX512 && tts_cpu_has(TTS_FEATURE_AVX512_VNNI)) || g_isa == TTS_ISA_AVX_VNNI ||
           g_isa == TTS_ISA_NEON_DOTPROD;
}

void tts_dequantize_q4_k(const uint8_t *src, float *dst, int64_t n) {
#if defined(__x86_64__)
    if (g_isa == TTS_ISA_AVX2 || g_isa == TTS_ISA_AVX_VNNI || g_isa == TTS_ISA_AVX512) { tts_dequantize_q4_k_avx2(src, dst, n); return; }
#endif
#if defined(__aarch64__)
    if (g_isa == TTS_ISA_NEON || g_isa == TTS_ISA_NEON_DOTPROD) { tts_dequantize_q4_k_neon(src, dst, n); return; }
#endif
    tts_dequantize_q4_k_ref(src, dst, n);
}

void tts_q4_k_matvec(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum,
                     float *y, int64_t cols, int64_t r0, int64_t r1) {
#if defined(__x86_64__)
    if (g_isa == TTS_ISA_AVX512) { tts_q4_k_matvec_avx512(w, xq, xd, xsum, y, cols, r0, r1); return; }
    if (g_isa == TTS_ISA_AVX2 || g_isa == TTS_ISA_AVX_VNNI) { tts_q4_k_matvec_avx2(w, xq, xd, xsum, y, cols, r0, r1); return; }
#endif
#if defined(__aarch64__)
    if (g_isa == TTS_ISA_NEON_DOTPROD) { tts_q4_k_matvec_neon_dotprod(w, xq, xd, xsum, y, cols, r0, r1); return; }
    if (g_isa == TTS_ISA_NEON) { tts_q4_k_matvec_neon(w, xq, xd, xsum, y, cols, r0, r1); return; }
#endif
    tts_q4_k_matvec_ref(w, xq, xd, xsum, y, cols, r0, r1);
}

void tts_q4_k_matmul_tokens(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum,
                            float *y, int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
#if defined(__x86_64__)
    // One token: the plain product (its accumulator stays in a register). Two or more: the
    // weights are read once for all of them.
    if (g_isa == TTS_ISA_AVX512 && n >= 2) { tts_q4_k_matmul_tokens_avx512(w, xq, xd, xsum, y, rows, cols, n, r0, r1); return; }
#endif
    for (int64_t t = 0; t < n; t++)
        tts_q4_k_matvec(w, xq + t * cols, xd + t * (cols / 256), xsum + t * (cols / 32), y + t * rows, cols, r0, r1);
}

void tts_q8_vnni_matvec(const uint8_t *wq, const uint16_t *ws, const int8_t *xq, const float *xs,
                        const int32_t *xsum, float *y, int64_t cols, int64_t r0, int64_t r1) {
#if defined(__x86_64__)
    if (g_isa == TTS_ISA_AVX_VNNI) { tts_q8_vnni_matvec_avxvnni(wq, ws, xq, xs, xsum, y, cols, r0, r1); return; }
#endif
#if defined(__aarch64__)
    if (g_isa == TTS_ISA_NEON_DOTPROD) { tts_q8_vnni_matvec_neon_dotprod(wq, ws, xq, xs, xsum, y, cols, r0, r1); return; }
#endif
#if defined(__x86_64__)
    if (tts_q8_vnni_supported()) { tts_q8_vnni_matvec_avx512(wq, ws, xq, xs, xsum, y, cols, r0, r1); return; }
#endif
    tts_q8_vnni_matvec_ref(wq, ws, xq, xs, xsum, y, cols, r0, r1);
}


int tts_q4_k_vnni_supported(void) {
    return (g_isa == TTS_ISA_AVX512 && tts_cpu_has(TTS_FEATURE_AVX512_VNNI)) || g_isa == TTS_ISA_AVX_VNNI;
}

void tts_q4_k_vnni_quantize_x(const float *x, int64_t cols, int8_t *xq, float *xd, int32_t *xsum) {
#if defined(__x86_64__)
    if (g_isa == TTS_ISA_AVX512 && tts_q4_k_vnni_supported()) { tts_q4_k_vnni_quantize_x_avx512(x, cols, xq, xd, xsum); return; }
#endif
    tts_q4_k_vnni_quantize_x_ref(x, cols, xq, xd, xsum);
}

void tts_q4_k_vnni_matmul_tokens(const uint8_t *nib, const uint8_t *meta, const int8_t *xq, const float *xd,
                                 const int32_t *xsum, float *y, int64_t rows, int64_t cols, int64_t n,
                                 int64_t r0, int64_t r1) {
#if defined(__x86_64__)
    if (g_isa == TTS_ISA_AVX_VNNI) {
        tts_q4_k_vnni_matmul_tokens_avxvnni(nib, meta, xq, xd, xsum, y, rows, cols, n, r0, r1);
        return;
    }
    if (tts_q4_k_vnni_supported()) {
        if (n == 1) tts_q4_k_vnni_matvec_avx512(nib, meta, xq, xd, xsum, y, cols, r0, r1);
        else tts_q4_k_vnni_matmul_tokens_avx512(nib, meta, xq, xd, xsum, y, rows, cols, n, r0, r1);
        return;
    }
#endif
    for (int64_t t = 0; t < n; t++)
        tts_q4_k_vnni_matvec_ref(nib, meta, xq + t * cols, xd + t * (cols / 256), xsum + t * (cols / 32), y + t * rows,
                                 cols, r0, r1);
}

int tts_conv_bf16_fast(void) { return g_isa == TTS_ISA_AVX512 && tts_cpu_has(TTS_FEATURE_AVX512_BF16); }

void tts_conv_gemm_bf16(const uint32_t *xb, const uint16_t *packed, const float *bias, float *y, int64_t cin, int64_t cout,
                        int64_t k, int64_t dilation, int64_t t0, int64_t t1) {
#if defined(__x86_64__)
    if (tts_conv_bf16_fast()) { tts_conv_gemm_bf16_avx512(xb, packed, bias, y, cin, cout, k, dilation, t0, t1); return; }
#endif
    tts_conv_gemm_bf16_ref(xb, packed, bias, y, cin, cout, k, dilation, t0, t1);
}
