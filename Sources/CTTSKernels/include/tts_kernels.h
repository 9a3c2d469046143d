// tts_kernels.h — the one public header of CTTSKernels.
//
// Contract (ggml-style): every function is a loop over contiguous memory. Callers (Swift,
// TTSRuntime) check shapes and ranges once; kernels assume valid input, never allocate,
// never fail and keep no hidden state.
//
// Layouts:
//   * matrices are row-major [rows][cols]; a "linear" weight is [out][in] as in PyTorch.
//   * token-major activations are [n][cols]: token t occupies x[t*cols .. t*cols+cols).
//   * channel-major signals (convolutions) are [channels][time].
//   * bf16 values are stored as uint16_t (upper half of an IEEE f32).
//   * f16 values are stored as uint16_t (IEEE half).
// Work partitions: kernels that take [r0, r1) compute only those output rows, so a thread
// pool in Swift can split the work without the kernels knowing about threads.
#ifndef TTS_KERNELS_H
#define TTS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---- process configuration ------------------------------------------------------------------
// Keeps freed large allocations in the process (glibc), so the decoder's per-stage buffers are
// reused rather than faulted in and zeroed by the kernel on every call. No-op elsewhere.
void tts_retain_freed_memory(void);
// Returns the freed memory that tts_retain_freed_memory keeps to the system (glibc malloc_trim);
// a daemon calls it when it goes idle, so RSS falls back between bursts of requests.
void tts_release_freed_memory(void);
// Bytes the allocator has handed out and not had back (glibc mallinfo2: arenas plus mmapped
// blocks), or -1 where unknown: what a leak raises, unlike RSS, which also holds freed memory.
long long tts_heap_in_use_bytes(void);

// ---- dtype conversion -------------------------------------------------------------------
float tts_bf16_to_f32(uint16_t v);
uint16_t tts_f32_to_bf16(float v);  // round to nearest even, NaN preserved
float tts_f16_to_f32(uint16_t v);
void tts_convert_bf16_f32(const uint16_t *src, float *dst, int64_t n);
void tts_convert_f16_f32(const uint16_t *src, float *dst, int64_t n);

// ---- instruction-set dispatch ---------------------------------------------------------------
// The fastest supported implementation is chosen at load; TTS_KERNELS=scalar|avx2|avx-vnni|avx512|neon|neon-dotprod in
// the environment forces one. A forced path that is unknown or unsupported runs scalar and leaves
// an error for the host to report (tts_kernels_forced_error); it never passes silently.
// neon: ARMv8.0 Advanced SIMD (every arm64 CPU); neon-dotprod: with the int8 dot products of
// ARMv8.2 (sdot), used by the q4_k products. avx-vnni: the AVX2 kernels with 256-bit vpdpbusd
// for the int8 (VNNI-order) products, for CPUs with AVX-VNNI and no AVX-512.
enum { TTS_ISA_SCALAR = 0, TTS_ISA_AVX2 = 1, TTS_ISA_AVX512 = 2, TTS_ISA_NEON = 3, TTS_ISA_NEON_DOTPROD = 4,
       TTS_ISA_AVX_VNNI = 5, TTS_ISA_COUNT = 6 };
int tts_cpu_supports(int isa);
// Optional features within a path, as the CPU reports them (whatever path is active), so the twin
// tests can run each feature's kernel directly instead of only through dispatch.
enum { TTS_FEATURE_AVX512_VNNI = 1, TTS_FEATURE_AVX512_BF16 = 2, TTS_FEATURE_DOTPROD = 3, TTS_FEATURE_I8MM = 4,
       TTS_FEATURE_AVX_VNNI = 5 };
int tts_cpu_has(int feature);
int tts_select_isa(int isa);  // returns 0 (and changes nothing) if unsupported
int tts_active_isa(void);
const char *tts_isa_name(int isa);
// The path named as TTS_KERNELS names it, if this CPU has it; else -1 and `error` says why.
int tts_kernels_resolve(const char *name, char *error, size_t size);
// Why the forced path could not be used, naming it and the supported ones; NULL when all is well.
const char *tts_kernels_forced_error(void);
// The active path and the optional sub-paths in use (int8 products, bf16 convs), for reports.
const char *tts_kernels_describe(void);

// ---- the NEON kernels (arm/), twins of the `_ref` functions below; the dotprod ones only run
// where the CPU has the feature (tts_cpu_has(TTS_FEATURE_DOTPROD)).
#if defined(__aarch64__)
void tts_matmul_f32_neon(const float *w, const float *x, float *y, int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
void tts_matmul_bf16_neon(const uint16_t *w, const float *x, float *y, int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
void tts_matmul_q8_0_neon(const uint8_t *w, const float *x, float *y, int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
void tts_q4_k_matvec_neon(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum, float *y, int64_t cols,
                          int64_t r0, int64_t r1);
void tts_q4_k_matvec_neon_dotprod(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum, float *y,
                                  int64_t cols, int64_t r0, int64_t r1);
void tts_dequantize_q4_k_neon(const uint8_t *src, float *dst, int64_t n);
void tts_silu_mul_f32_neon(const float *gate, const float *up, float *out, int64_t n);
void tts_rmsnorm_f32_neon(const float *x, const float *w, float *y, int64_t n, float eps);
void tts_softmax_f32_neon(float *x, int64_t n);
void tts_attention_head_f32_neon(const float *q, const float *k, const float *v, float *out, float *scores, int64_t n_keys,
                                 int64_t head_dim, int64_t kv_stride, float scale);
void tts_snake_tm_f32_neon(const float *x, float *y, const float *a, const float *inv_b, int64_t channels, int64_t t0, int64_t t1);
void tts_conv_gemm_f32_neon(const float *x, const float *packed, const float *bias, float *y, int64_t cin, int64_t cout,
                            int64_t k, int64_t dilation, int64_t t0, int64_t t1, int64_t o0, int64_t o1, const float *add);
// q8_0 in VNNI order (tts_q8_vnni_repack) against int8 activations (tts_q8_vnni_quantize_x), with sdot.
void tts_q8_vnni_matvec_neon_dotprod(const uint8_t *wq, const uint16_t *ws, const int8_t *xq, const float *xs,
                                     const int32_t *xsum, float *y, int64_t cols, int64_t r0, int64_t r1);
#endif

// ---- matrix products --------------------------------------------------------------------
// y[t*rows + r] = sum_c w[r*cols + c] * x[t*cols + c]   for r in [r0, r1), t in [0, n).
// Dispatching entry points, their scalar twins and the per-ISA versions (x86-64 only).
void tts_matmul_f32(const float *w, const float *x, float *y,
                    int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
void tts_matmul_bf16(const uint16_t *w, const float *x, float *y,
                     int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
void tts_matmul_f32_ref(const float *w, const float *x, float *y,
                        int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
void tts_matmul_bf16_ref(const uint16_t *w, const float *x, float *y,
                         int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
#if defined(__x86_64__)
void tts_matmul_f32_avx2(const float *w, const float *x, float *y,
                         int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
void tts_matmul_bf16_avx2(const uint16_t *w, const float *x, float *y,
                          int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
void tts_matmul_f32_avx512(const float *w, const float *x, float *y,
                           int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
void tts_matmul_bf16_avx512(const uint16_t *w, const float *x, float *y,
                            int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
#endif

// q8_0 weights (ggml block layout): each row of `cols` (a multiple of 32) values is cols/32 blocks
// of TTS_Q8_0_BLOCK_BYTES bytes: f16 scale d, then 32 int8 q; value = d * q.
#define TTS_Q8_0_BLOCK_BYTES 34
uint16_t tts_f32_to_f16(float v);  // round to nearest even
void tts_quantize_q8_0(const float *src, uint8_t *dst, int64_t n);  // n multiple of 32
void tts_dequantize_q8_0(const uint8_t *src, float *dst, int64_t n);
void tts_matmul_q8_0(const uint8_t *w, const float *x, float *y,
                     int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
void tts_matmul_q8_0_ref(const uint8_t *w, const float *x, float *y,
                         int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
#if defined(__x86_64__)
void tts_matmul_q8_0_avx2(const uint8_t *w, const float *x, float *y,
                          int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
void tts_matmul_q8_0_avx512(const uint8_t *w, const float *x, float *y,
                            int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
#endif

// q4_k weights (ggml block layout, see ref/q4_k.c): rows of `cols` (a multiple of 256) values are
// cols/256 blocks of TTS_Q4_K_BLOCK_BYTES bytes (4.5 bits per weight). The product runs on int8
// activations with one scale per 256 values (xd[cols/256] = max|x|/127, xq = round(x/xd)) and the
// sums of xq per 32 values (xsum[cols/32]).
#define TTS_Q4_K_BLOCK_BYTES 144
void tts_quantize_q4_k(const float *src, uint8_t *dst, int64_t n);  // n multiple of 256
void tts_dequantize_q4_k(const uint8_t *src, float *dst, int64_t n);      // dispatching
void tts_dequantize_q4_k_ref(const uint8_t *src, float *dst, int64_t n);
void tts_q4_k_quantize_x(const float *x, int64_t cols, int8_t *xq, float *xd, int32_t *xsum);
void tts_q4_k_matvec(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum,
                     float *y, int64_t cols, int64_t r0, int64_t r1);
void tts_q4_k_matvec_ref(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum,
                         float *y, int64_t cols, int64_t r0, int64_t r1);
#if defined(__x86_64__)
void tts_dequantize_q4_k_avx2(const uint8_t *src, float *dst, int64_t n);
void tts_q4_k_matvec_avx2(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum,
                          float *y, int64_t cols, int64_t r0, int64_t r1);
void tts_q4_k_matvec_avx512(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum,
                            float *y, int64_t cols, int64_t r0, int64_t r1);
#endif
// n tokens of quantized activations (as tts_q4_k_quantize_x, one token after another) into
// y [n][rows], rows [r0, r1): the integer product, with each block's work shared by the tokens
// where the CPU allows (AVX-512).
void tts_q4_k_matmul_tokens(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum,
                            float *y, int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
#if defined(__x86_64__)
void tts_q4_k_matmul_tokens_avx512(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum,
                                   float *y, int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);
#endif
// Many tokens of f32 activations: rows dequantized to f32 a few at a time, then the f32 product.
void tts_matmul_q4_k(const uint8_t *w, const float *x, float *y, int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1);

// q8_0 repacked for integer dot products ("VNNI order"; cols a multiple of 512): see
// ref/q8_vnni.c for the layout. Repacking is lossless (same quants and scales as q8_0).
// tts_q8_vnni_supported() says whether this machine has the fast matrix-vector kernel.
void tts_q8_vnni_repack(const uint8_t *q8, int64_t rows, int64_t cols, uint8_t *wq, uint16_t *ws);
void tts_q8_vnni_dequantize_row(const uint8_t *wq, const uint16_t *ws, float *out, int64_t cols);
// xq: cols int8 (interleaved), xs: cols/32 scales, xsum: cols/32 bias corrections.
void tts_q8_vnni_quantize_x(const float *x, int64_t cols, int8_t *xq, float *xs, int32_t *xsum);
int tts_q8_vnni_supported(void);
void tts_q8_vnni_matvec(const uint8_t *wq, const uint16_t *ws, const int8_t *xq, const float *xs,
                        const int32_t *xsum, float *y, int64_t cols, int64_t r0, int64_t r1);
void tts_q8_vnni_matvec_ref(const uint8_t *wq, const uint16_t *ws, const int8_t *xq, const float *xs,
                            const int32_t *xsum, float *y, int64_t cols, int64_t r0, int64_t r1);
#if defined(__x86_64__)
void tts_q8_vnni_matvec_avx512(const uint8_t *wq, const uint16_t *ws, const int8_t *xq, const float *xs,
                               const int32_t *xsum, float *y, int64_t cols, int64_t r0, int64_t r1);
void tts_q8_vnni_matvec_avxvnni(const uint8_t *wq, const uint16_t *ws, const int8_t *xq, const float *xs,
                                const int32_t *xsum, float *y, int64_t cols, int64_t r0, int64_t r1);
void tts_q4_k_vnni_matmul_tokens_avxvnni(const uint8_t *nib, const uint8_t *meta, const int8_t *xq, const float *xd,
                                         const int32_t *xsum, float *y, int64_t rows, int64_t cols, int64_t n,
                                         int64_t r0, int64_t r1);
#endif

// q4_k repacked for integer dot products ("VNNI order"; cols a multiple of 512): see
// ref/q4_k_vnni.c for the layout. Lossless (same quants, scales and mins as q4_k). A row is
// cols/2 bytes of nibbles plus cols/512 groups of TTS_Q4_K_VNNI_META_BYTES of scales; the
// activations are quantized as for q4_k (xd per 256, xsum per 32) but arranged per 512.
#define TTS_Q4_K_VNNI_META_BYTES 40
void tts_q4_k_vnni_repack(const uint8_t *q4, int64_t rows, int64_t cols, uint8_t *nib, uint8_t *meta);
void tts_q4_k_vnni_dequantize_row(const uint8_t *nib, const uint8_t *meta, float *out, int64_t cols);
int tts_q4_k_vnni_supported(void);
void tts_q4_k_vnni_quantize_x(const float *x, int64_t cols, int8_t *xq, float *xd, int32_t *xsum);
void tts_q4_k_vnni_quantize_x_ref(const float *x, int64_t cols, int8_t *xq, float *xd, int32_t *xsum);
void tts_q4_k_vnni_matvec_ref(const uint8_t *nib, const uint8_t *meta, const int8_t *xq, const float *xd,
                              const int32_t *xsum, float *y, int64_t cols, int64_t r0, int64_t r1);
// n tokens (activations one after another) into y [n][rows], rows [r0, r1).
void tts_q4_k_vnni_matmul_tokens(const uint8_t *nib, const uint8_t *meta, const int8_t *xq, const float *xd,
                                 const int32_t *xsum, float *y, int64_t rows, int64_t cols, int64_t n,
                                 int64_t r0, int64_t r1);
#if defined(__x86_64__)
void tts_q4_k_vnni_quantize_x_avx512(const float *x, int64_t cols, int8_t *xq, float *xd, int32_t *xsum);
void tts_q4_k_vnni_matvec_avx512(const uint8_t *nib, const uint8_t *meta, const int8_t *xq, const float *xd,
                                 const int32_t *xsum, float *y, int64_t cols, int64_t r0, int64_t r1);
void tts_q4_k_vnni_matmul_tokens_avx512(const uint8_t *nib, const uint8_t *meta, const int8_t *xq, const float *xd,
                                        const int32_t *xsum, float *y, int64_t rows, int64_t cols, int64_t n,
                                        int64_t r0, int64_t r1);
#endif


// Causal convolution as one GEMM over its taps (token-major): x holds (t1-1) + (k-1)*dilation + 1
// rows of cin values (left context first), bias [cout] or NULL:
// y[t][o] = bias[o] + sum_j sum_i x[t + j*dilation][i] * W[o][i][j]  for t in [t0, t1).
// The weights are packed by tts_conv_pack_f32 in blocks of 32 output channels,
// packed[((o/32)*k + j)*cin + i][o%32] (output channels beyond cout are zero), so a kernel
// streams each block's k*cin*32 weights in order.
int64_t tts_conv_packed_count(int64_t cin, int64_t cout, int64_t k);
// w: PyTorch Conv1d layout [cout][cin][k]; packed: tts_conv_packed_count floats.
void tts_conv_pack_f32(const float *w, float *packed, int64_t cin, int64_t cout, int64_t k);
// Tokens [t0, t1) and output channels [o0, o1) of y [t][cout]: o0 a multiple of 32, o1 a multiple
// of 32 or cout. Splitting by channels lets threads share a conv whose weights outweigh its input
// (few tokens, many channels) without each reading all the weights. `add` [t][cout] or NULL is
// added to the outputs (a residual connection; it may be y itself: each output is read before it
// is written, by the call that writes it).
void tts_conv_gemm_f32(const float *x, const float *packed, const float *bias, float *y, int64_t cin, int64_t cout,
                       int64_t k, int64_t dilation, int64_t t0, int64_t t1, int64_t o0, int64_t o1, const float *add);
void tts_conv_gemm_f32_ref(const float *x, const float *packed, const float *bias, float *y, int64_t cin, int64_t cout,
                           int64_t k, int64_t dilation, int64_t t0, int64_t t1, int64_t o0, int64_t o1, const float *add);
// The same causal conv for kernel 7 by Winograd F(4,4) (ref/conv_winograd_internal.h): 13/28 of the
// products of the direct GEMM, f32 throughout; results differ from it by rounding only (~1e-5
// relative). Weights: tts_conv7_wino_pack_f32 turns the PyTorch weight [cout][cin][7] into 7
// transformed conv weights in tts_conv_pack_f32's layout, one after the other: six of kernel 2
// and, for the point at infinity, one of kernel 1 (tts_conv7_wino_packed_count floats in all). Work is split by tile blocks
// [b0, b1) of tts_conv7_wino_blocks (4*dilation output frames each) and by output channels
// [o0, o1) as in tts_conv_gemm_f32; x, y and frames as there. Each concurrent call needs its own
// scratch of tts_conv7_wino_scratch_count floats for its number of tile blocks (b1 - b0).
int64_t tts_conv7_wino_packed_count(int64_t cin, int64_t cout);
void tts_conv7_wino_pack_f32(const float *w, float *packed, int64_t cin, int64_t cout);
int64_t tts_conv7_wino_blocks(int64_t frames, int64_t dilation);
int64_t tts_conv7_wino_scratch_count(int64_t cin, int64_t cout, int64_t dilation, int64_t blocks);
void tts_conv7_wino_f32(const float *x, const float *packed, const float *bias, float *y, int64_t cin, int64_t cout,
                        int64_t dilation, int64_t frames, int64_t b0, int64_t b1, int64_t o0, int64_t o1, float *scratch);
void tts_conv7_wino_f32_ref(const float *x, const float *packed, const float *bias, float *y, int64_t cin, int64_t cout,
                            int64_t dilation, int64_t frames, int64_t b0, int64_t b1, int64_t o0, int64_t o1, float *scratch);
// The same on a named path whatever path is active (the twin tests); 0 if this CPU lacks it.
int tts_conv7_wino_f32_isa(int isa, const float *x, const float *packed, const float *bias, float *y, int64_t cin,
                           int64_t cout, int64_t dilation, int64_t frames, int64_t b0, int64_t b1, int64_t o0, int64_t o1,
                           float *scratch);
// The same convolution in bf16 (the decoder's optional precision): weights packed by
// tts_conv_pack_bf16 as [cout/32][k][ceil(cin/2)][32][2] (for each output channel the pair of
// input channels 2p, 2p+1; zero-padded), activations as bf16 pairs xb[row][ceil(cin/2)] (low half
// channel 2p, high half 2p+1) made by tts_bf16_pairs with round-to-nearest-even. Products are
// exact in f32 and sums are f32 (AVX-512 BF16 dot products where the CPU has them).
int64_t tts_conv_packed_count_bf16(int64_t cin, int64_t cout, int64_t k);
void tts_conv_pack_bf16(const float *w, uint16_t *packed, int64_t cin, int64_t cout, int64_t k);
void tts_bf16_pairs(const float *x, uint32_t *xb, int64_t rows, int64_t cin);
void tts_conv_gemm_bf16(const uint32_t *xb, const uint16_t *packed, const float *bias, float *y, int64_t cin, int64_t cout,
                        int64_t k, int64_t dilation, int64_t t0, int64_t t1);
void tts_conv_gemm_bf16_ref(const uint32_t *xb, const uint16_t *packed, const float *bias, float *y, int64_t cin,
                            int64_t cout, int64_t k, int64_t dilation, int64_t t0, int64_t t1);
// Whether tts_conv_gemm_bf16 runs the AVX-512 BF16 kernel (else the scalar one).
int tts_conv_bf16_fast(void);
#if defined(__x86_64__)
void tts_conv_gemm_bf16_avx512(const uint32_t *xb, const uint16_t *packed, const float *bias, float *y, int64_t cin,
                               int64_t cout, int64_t k, int64_t dilation, int64_t t0, int64_t t1);
#endif
#if defined(__x86_64__)
void tts_conv_gemm_f32_avx2(const float *x, const float *packed, const float *bias, float *y, int64_t cin, int64_t cout,
                            int64_t k, int64_t dilation, int64_t t0, int64_t t1, int64_t o0, int64_t o1, const float *add);
#endif
#if defined(__x86_64__)
void tts_conv_gemm_f32_avx512(const float *x, const float *packed, const float *bias, float *y, int64_t cin, int64_t cout,
                              int64_t k, int64_t dilation, int64_t t0, int64_t t1, int64_t o0, int64_t o1, const float *add);
#endif

// SnakeBeta on a token-major signal [t][channels] with precomputed per-channel a = exp(log_alpha)
// and inv_b = 1 / (exp(log_beta) + 1e-9): y = x + sin(a x)^2 * inv_b.
void tts_snake_tm_f32(const float *x, float *y, const float *a, const float *inv_b,
                      int64_t channels, int64_t t0, int64_t t1);
void tts_snake_tm_f32_ref(const float *x, float *y, const float *a, const float *inv_b,
                          int64_t channels, int64_t t0, int64_t t1);
#if defined(__x86_64__)
// Vectorized sine (a few ulp for |a x| < 1e4); twin bound 1e-6 absolute.
void tts_snake_tm_f32_avx2(const float *x, float *y, const float *a, const float *inv_b,
                           int64_t channels, int64_t t0, int64_t t1);
void tts_snake_tm_f32_avx512(const float *x, float *y, const float *a, const float *inv_b,
                             int64_t channels, int64_t t0, int64_t t1);
#endif

// Token-major depthwise convolution (valid, stride 1, dilation 1): x [t1 + k - 1][channels] already
// padded on the left, w [k][channels] (tap-major), y [t][channels] for t in [t0, t1).
void tts_depthwise_conv_f32(const float *x, const float *w, const float *bias, float *y,
                            int64_t channels, int64_t k, int64_t t0, int64_t t1);

// ---- elementwise and normalisation --------------------------------------------------------
// y = w * x / sqrt(mean(x^2) + eps) over n values (x and y may alias). Dispatching; the _ref
// twin sums the squares in double, the SIMD paths in f32 lanes.
void tts_rmsnorm_f32(const float *x, const float *w, float *y, int64_t n, float eps);
void tts_rmsnorm_f32_ref(const float *x, const float *w, float *y, int64_t n, float eps);
// y = (x - mean) / sqrt(var + eps) * w + b over n values (biased variance, as PyTorch).
void tts_layernorm_f32(const float *x, const float *w, const float *b, float *y, int64_t n, float eps);
// out[i] = silu(gate[i]) * up[i] (out may alias gate or up). Dispatching; the SIMD paths use a
// polynomial exp (x86/activation_simd.c), the _ref twin libm's expf.
void tts_silu_mul_f32(const float *gate, const float *up, float *out, int64_t n);
void tts_silu_mul_f32_ref(const float *gate, const float *up, float *out, int64_t n);
#if defined(__x86_64__)
void tts_rmsnorm_f32_avx2(const float *x, const float *w, float *y, int64_t n, float eps);
void tts_rmsnorm_f32_avx512(const float *x, const float *w, float *y, int64_t n, float eps);
void tts_silu_mul_f32_avx2(const float *gate, const float *up, float *out, int64_t n);
void tts_silu_mul_f32_avx512(const float *gate, const float *up, float *out, int64_t n);
#endif
// x[i] = x[i] * sigmoid(x[i])
void tts_silu_f32(float *x, int64_t n);
// x[i] = 0.5 x (1 + erf(x / sqrt 2))   (exact GELU)
void tts_gelu_erf_f32(float *x, int64_t n);
// x[i] = x[i] > 0 ? x[i] : alpha (exp(x[i]) - 1)
void tts_elu_f32(float *x, int64_t n, float alpha);
// In place softmax over n values (max-subtracted, f32). Dispatching; the _ref twin uses expf and
// a double sum.
void tts_softmax_f32(float *x, int64_t n);
void tts_softmax_f32_ref(float *x, int64_t n);
#if defined(__x86_64__)
void tts_softmax_f32_avx2(float *x, int64_t n);
void tts_softmax_f32_avx512(float *x, int64_t n);
#endif
// SnakeBeta on a channel-major signal [channels][t]:
//   y = x + sin(x * exp(log_alpha[c]))^2 / (exp(log_beta[c]) + 1e-9)
void tts_snake_beta_f32(const float *x, float *y, const float *log_alpha, const float *log_beta,
                        int64_t channels, int64_t t);

// ---- rotary position embedding ----------------------------------------------------------
// Rotate-half (NeoX) RoPE in place on one head of `dim` values: pairs (i, i + dim/2),
// cos/sin hold dim/2 values for this position.
void tts_rope_rotate_half_f32(float *x, const float *cos_t, const float *sin_t, int64_t dim);

// ---- attention ----------------------------------------------------------------------------
// One query head against n_keys cached keys/values (key j at k + j*kv_stride, value j at
// v + j*kv_stride, each head_dim values). scores (n_keys floats) is scratch.
// out[d] = sum_j softmax(scale * q.k_j)_j * v_j[d]
void tts_attention_head_f32(const float *q, const float *k, const float *v, float *out,
                            float *scores, int64_t n_keys, int64_t head_dim,
                            int64_t kv_stride, float scale);
void tts_attention_head_f32_ref(const float *q, const float *k, const float *v, float *out,
                                float *scores, int64_t n_keys, int64_t head_dim,
                                int64_t kv_stride, float scale);
#if defined(__x86_64__)
void tts_attention_head_f32_avx2(const float *q, const float *k, const float *v, float *out,
                                 float *scores, int64_t n_keys, int64_t head_dim,
                                 int64_t kv_stride, float scale);
void tts_attention_head_f32_avx512(const float *q, const float *k, const float *v, float *out,
                                   float *scores, int64_t n_keys, int64_t head_dim,
                                   int64_t kv_stride, float scale);

#endif

// The same with keys and values stored as bf16 (the talker's cache when its weights are
// quantized: half the bytes read per step). Each path gives exactly what its f32 kernel gives on
// the widened values.
void tts_attention_head_bf16kv(const float *q, const uint16_t *k, const uint16_t *v, float *out,
                               float *scores, int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale);
void tts_attention_head_bf16kv_ref(const float *q, const uint16_t *k, const uint16_t *v, float *out,
                                   float *scores, int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale);
#if defined(__x86_64__)
void tts_attention_head_bf16kv_avx2(const float *q, const uint16_t *k, const uint16_t *v, float *out,
                                    float *scores, int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale);
void tts_attention_head_bf16kv_avx512(const float *q, const uint16_t *k, const uint16_t *v, float *out,
                                      float *scores, int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale);
#endif
#if defined(__aarch64__)
void tts_attention_head_bf16kv_neon(const float *q, const uint16_t *k, const uint16_t *v, float *out,
                                    float *scores, int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale);
#endif
// n_heads query heads sharing one key/value head (grouped-query attention): q and out hold the
// heads one after another (head_dim values each); scores is n_heads * n_keys scratch. Each head's
// result is exactly what tts_attention_head_* gives it; the AVX-512 kernels read each key and
// value row once for the whole group.
void tts_attention_group_f32(const float *q, int64_t n_heads, const float *k, const float *v, float *out,
                             float *scores, int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale);
void tts_attention_group_bf16kv(const float *q, int64_t n_heads, const uint16_t *k, const uint16_t *v, float *out,
                                float *scores, int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale);
#if defined(__x86_64__)
void tts_attention_group_f32_avx512(const float *q, int64_t n_heads, const float *k, const float *v, float *out,
                                    float *scores, int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale);
void tts_attention_group_bf16kv_avx512(const float *q, int64_t n_heads, const uint16_t *k, const uint16_t *v, float *out,
                                       float *scores, int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale);
#endif
// The same with keys and values stored as q8_0 rows (head_dim a multiple of 32; row j of a head
// at k + j * head_dim / 32 * TTS_Q8_0_BLOCK_BYTES): the scores are tts_matmul_q8_0 of the key
// rows and the query heads, the values are added in key order. Not exact: the cache is rounded.
void tts_attention_group_q8kv(const float *q, int64_t n_heads, const uint8_t *k, const uint8_t *v, float *out,
                              float *scores, int64_t n_keys, int64_t head_dim, float scale);
// The weighted values, out[h] = sum_j p[h * n_keys + j] * v_j, per path.
typedef void (*tts_attention_values_q8_0_fn)(const uint8_t *v, const float *p, float *out, int64_t n_heads, int64_t n_keys,
                                             int64_t head_dim);
void tts_attention_values_q8_0_ref(const uint8_t *v, const float *p, float *out, int64_t n_heads, int64_t n_keys, int64_t head_dim);
#if defined(__x86_64__)
void tts_attention_values_q8_0_avx2(const uint8_t *v, const float *p, float *out, int64_t n_heads, int64_t n_keys, int64_t head_dim);
void tts_attention_values_q8_0_avx512(const uint8_t *v, const float *p, float *out, int64_t n_heads, int64_t n_keys, int64_t head_dim);
#endif
// The group attention with a given values kernel (the dispatched one is chosen by the active path).
void tts_attention_group_q8kv_with(tts_attention_values_q8_0_fn values, const float *q, int64_t n_heads, const uint8_t *k,
                                   const uint8_t *v, float *out, float *scores, int64_t n_keys, int64_t head_dim, float scale);
// n values rounded to bf16 (nearest even, as tts_f32_to_bf16).
void tts_convert_f32_bf16(const float *src, uint16_t *dst, int64_t n);

// ---- convolutions (channel-major) --------------------------------------------------------
// Valid (unpadded) grouped 1-D convolution: the caller supplies an input already padded.
// x: [c_in][t_in], w: [c_out][c_in/groups][k], bias: [c_out] or NULL, y: [c_out][t_out] with
// t_out = (t_in - dilation*(k-1) - 1) / stride + 1. Computes output channels [co0, co1).
void tts_conv1d_f32(const float *x, const float *w, const float *bias, float *y,
                    int64_t c_in, int64_t t_in, int64_t c_out, int64_t k,
                    int64_t stride, int64_t dilation, int64_t groups,
                    int64_t co0, int64_t co1);
// Full (untrimmed) transposed 1-D convolution, groups = 1.
// x: [c_in][t_in], w: [c_in][c_out][k], bias [c_out] or NULL,
// y: [c_out][(t_in-1)*stride + k], fully overwritten. Computes output channels [co0, co1).
void tts_conv_transpose1d_f32(const float *x, const float *w, const float *bias, float *y,
                              int64_t c_in, int64_t t_in, int64_t c_out, int64_t k,
                              int64_t stride, int64_t co0, int64_t co1);

// ---- layout -------------------------------------------------------------------------------
// dst[c][r] = src[r][c] for a rows x cols matrix.
void tts_transpose_f32(const float *src, float *dst, int64_t rows, int64_t cols);

#ifdef __cplusplus
}
#endif

#endif
