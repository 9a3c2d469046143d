// NEON elementwise kernels: the SiLU product, RMSNorm, softmax, one attention head and SnakeBeta,
// with the same vector exp and sine as the x86 paths (x86/activation_simd.c, x86/snake_simd.c):
// exp by a Cody-Waite reduction to |r| <= ln2/2 and a degree-7 polynomial, arguments clamped to
// [-87, 88]; sine by a three-part reduction to |r| <= pi/4, minimax sin/cos polynomials and a
// quadrant select. Tails go through 4-lane stack buffers, so no libc call is needed.
#if defined(__aarch64__)
#include "../include/tts_kernels.h"
#include "neon_common.h"

static inline float32x4_t load_tail(const float *p, int64_t n, float fill) {
    float t[4] = {fill, fill, fill, fill};
    for (int64_t i = 0; i < n && i < 4; i++) t[i] = p[i];
    return vld1q_f32(t);
}

// 4 values at p, or the n < 4 left there padded with `fill`.
static inline float32x4_t ld(const float *p, int64_t n, float fill) { return n >= 4 ? vld1q_f32(p) : load_tail(p, n, fill); }

static inline void store_part(float *p, float32x4_t v, int64_t n) {
    float t[4];
    vst1q_f32(t, v);
    for (int64_t i = 0; i < n && i < 4; i++) p[i] = t[i];
}

static inline float32x4_t exp4(float32x4_t x) {
    x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-87.0f)), vdupq_n_f32(88.0f));
    float32x4_t k = vrndnq_f32(vmulq_n_f32(x, 1.44269504088896341f));
    float32x4_t r = vfmsq_n_f32(x, k, 0.693145751953125f);
    r = vfmsq_n_f32(r, k, 1.42860682030941723e-6f);
    float32x4_t p = vfmaq_f32(vdupq_n_f32(1.0f / 720), vdupq_n_f32(1.0f / 5040), r);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 120), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 24), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f / 6), p, r);
    p = vfmaq_f32(vdupq_n_f32(0.5f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.0f), p, r);
    int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(k), vdupq_n_s32(127)), 23);
    return vmulq_f32(p, vreinterpretq_f32_s32(e));
}

static inline float32x4_t sin4(float32x4_t x) {
    float32x4_t k = vrndnq_f32(vmulq_n_f32(x, 0.636619772367581343f));
    float32x4_t r = vfmsq_n_f32(x, k, 1.5703125f);
    r = vfmsq_n_f32(r, k, 4.837512969970703125e-4f);
    r = vfmsq_n_f32(r, k, 7.54978995489188216e-8f);
    float32x4_t r2 = vmulq_f32(r, r);
    float32x4_t ps = vfmaq_f32(vdupq_n_f32(-1.6666654611e-1f), vfmaq_f32(vdupq_n_f32(8.3321608736e-3f), vdupq_n_f32(-1.9515295891e-4f), r2), r2);
    float32x4_t s = vfmaq_f32(r, vmulq_f32(ps, r2), r);
    float32x4_t pc = vfmaq_f32(vdupq_n_f32(4.166664568298827e-2f), vfmaq_f32(vdupq_n_f32(-1.388731625493765e-3f), vdupq_n_f32(2.443315711809948e-5f), r2), r2);
    float32x4_t c = vfmaq_f32(vfmsq_n_f32(vdupq_n_f32(1.0f), r2, 0.5f), vmulq_f32(pc, r2), r2);
    int32x4_t q = vcvtq_s32_f32(k);
    uint32x4_t odd = vtstq_s32(q, vdupq_n_s32(1));
    uint32x4_t neg = vshlq_n_u32(vandq_u32(vreinterpretq_u32_s32(q), vdupq_n_u32(2)), 30);
    float32x4_t v = vbslq_f32(odd, c, s);
    return vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(v), neg));
}

void tts_silu_mul_f32_neon(const float *gate, const float *up, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i += 4) {
        int64_t m = n - i;
        float32x4_t g = ld(gate + i, m, 0), u = ld(up + i, m, 0);
        float32x4_t d = vaddq_f32(vdupq_n_f32(1.0f), exp4(vnegq_f32(g)));
        float32x4_t v = vdivq_f32(vmulq_f32(g, u), d);
        if (m >= 4) vst1q_f32(out + i, v);
        else store_part(out + i, v, m);
    }
}

void tts_rmsnorm_f32_neon(const float *x, const float *w, float *y, int64_t n, float eps) {
    float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t a = vld1q_f32(x + i), b = vld1q_f32(x + i + 4), c = vld1q_f32(x + i + 8), d = vld1q_f32(x + i + 12);
        s0 = vfmaq_f32(s0, a, a);
        s1 = vfmaq_f32(s1, b, b);
        s2 = vfmaq_f32(s2, c, c);
        s3 = vfmaq_f32(s3, d, d);
    }
    for (; i < n; i += 4) {
        float32x4_t a = ld(x + i, n - i, 0);
        s0 = vfmaq_f32(s0, a, a);
    }
    float ss = vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    float32x4_t inv = vdivq_f32(vdupq_n_f32(1.0f), vsqrtq_f32(vdupq_n_f32(ss / (float)n + eps)));
    for (i = 0; i < n; i += 4) {
        int64_t m = n - i;
        float32x4_t v = vmulq_f32(ld(w + i, m, 0), vmulq_f32(ld(x + i, m, 0), inv));
        if (m >= 4) vst1q_f32(y + i, v);
        else store_part(y + i, v, m);
    }
}

// Differences below -87 (the exp clamp) give exactly 0, so masked (-inf) logits stay impossible.
void tts_softmax_f32_neon(float *x, int64_t n) {
    float32x4_t mx = vdupq_n_f32(-__builtin_inff());
    for (int64_t i = 0; i < n; i += 4) mx = vmaxq_f32(mx, ld(x + i, n - i, -__builtin_inff()));
    float32x4_t top = vdupq_n_f32(vmaxvq_f32(mx)), sum = vdupq_n_f32(0);
    for (int64_t i = 0; i < n; i += 4) {
        int64_t m = n - i;
        float32x4_t d = vsubq_f32(ld(x + i, m, -__builtin_inff()), top);
        uint32x4_t live = vcgeq_f32(d, vdupq_n_f32(-87.0f));
        float32x4_t e = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(exp4(d)), live));
        if (m >= 4) vst1q_f32(x + i, e);
        else store_part(x + i, e, m);
        sum = vaddq_f32(sum, e);
    }
    float32x4_t inv = vdupq_n_f32(1.0f / vaddvq_f32(sum));
    for (int64_t i = 0; i < n; i += 4) {
        int64_t m = n - i;
        if (m >= 4) vst1q_f32(x + i, vmulq_f32(vld1q_f32(x + i), inv));
        else store_part(x + i, vmulq_f32(ld(x + i, m, 0), inv), m);
    }
}

// One head: scores = q.k_j * scale, softmax, out = sum_j p_j v_j (head_dim lanes at a time).
// Up to 4 bf16 values widened to f32 (zeros past n), as `ld` does for f32.
static inline float32x4_t ld_bf16(const uint16_t *p, int64_t n) {
    if (n >= 4) return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16));
    float t[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < n; i++) t[i] = tts_bf16_to_f32(p[i]);
    return vld1q_f32(t);
}

// One body for an f32 cache and a bf16 one (KV: the stored type, LOADKV(p, n): up to 4 values as
// f32), so the bf16 kernel is exactly the f32 one on the widened values.
#define ATTENTION_NEON_BODY(KV, LOADKV)                                                                   \
    for (int64_t j = 0; j < n_keys; j++) {                                                                \
        const KV *kj = k + j * kv_stride;                                                                 \
        float32x4_t s = vdupq_n_f32(0);                                                                   \
        for (int64_t d = 0; d < head_dim; d += 4) s = vfmaq_f32(s, ld(q + d, head_dim - d, 0), LOADKV(kj + d, head_dim - d)); \
        scores[j] = vaddvq_f32(s) * scale;                                                                \
    }                                                                                                     \
    tts_softmax_f32_neon(scores, n_keys);                                                                 \
    for (int64_t d = 0; d < head_dim; d += 4) {                                                           \
        int64_t m = head_dim - d;                                                                         \
        float32x4_t acc = vdupq_n_f32(0);                                                                 \
        for (int64_t j = 0; j < n_keys; j++) acc = vfmaq_n_f32(acc, LOADKV(v + j * kv_stride + d, m), scores[j]); \
        if (m >= 4) vst1q_f32(out + d, acc);                                                              \
        else store_part(out + d, acc, m);                                                                 \
    }

#define LD_F32(p, n) ld(p, n, 0)

void tts_attention_head_f32_neon(const float *q, const float *k, const float *v, float *out, float *scores,
                                 int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale) {
    ATTENTION_NEON_BODY(float, LD_F32)
}

void tts_attention_head_bf16kv_neon(const float *q, const uint16_t *k, const uint16_t *v, float *out, float *scores,
                                    int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale) {
    ATTENTION_NEON_BODY(uint16_t, ld_bf16)
}

// SnakeBeta, token-major: y = x + sin(a x)^2 * inv_b per channel.
void tts_snake_tm_f32_neon(const float *x, float *y, const float *a, const float *inv_b, int64_t channels, int64_t t0,
                           int64_t t1) {
    for (int64_t t = t0; t < t1; t++) {
        const float *xt = x + t * channels;
        float *yt = y + t * channels;
        for (int64_t c = 0; c < channels; c += 4) {
            int64_t m = channels - c;
            float32x4_t xv = ld(xt + c, m, 0);
            float32x4_t s = sin4(vmulq_f32(xv, ld(a + c, m, 0)));
            float32x4_t v = vfmaq_f32(xv, vmulq_f32(s, s), ld(inv_b + c, m, 0));
            if (m >= 4) vst1q_f32(yt + c, v);
            else store_part(yt + c, v, m);
        }
    }
}
#endif
