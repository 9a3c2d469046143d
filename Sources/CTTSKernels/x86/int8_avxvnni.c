// The int8 products in VNNI order (ref/q8_vnni.c, ref/q4_k_vnni.c) on AVX-VNNI: the 256-bit
// vpdpbusd of Intel's Alder Lake and later and AMD's Zen 5 desktop parts, which have no AVX-512.
// The layouts were made for 64-byte loads of sixteen 32-bit lanes; here each 64-byte chunk is two
// 32-byte halves, and half h holds lanes 8h..8h+7: for q8 the blocks 8h..8h+7 of the group, for
// q4_k the sub-blocks of the group's block h. Integer sums are those of the AVX-512 kernels; only
// the order of the f32 sums differs (q8), or nothing (q4_k sums each block to its integers first).
#if defined(__x86_64__)
#include "../include/tts_kernels.h"
#include "../ref/q4_k_internal.h"
#include <immintrin.h>
#include <string.h>

#define TTS_AVXVNNI __attribute__((target("avx2,fma,f16c,avxvnni")))
#define PREFETCH_BYTES 3072

static inline TTS_AVXVNNI float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

TTS_AVXVNNI void tts_q8_vnni_matvec_avxvnni(const uint8_t *wq, const uint16_t *ws, const int8_t *xq, const float *xs,
                                            const int32_t *xsum, float *y, int64_t cols, int64_t r0, int64_t r1) {
    int64_t groups = cols / 512, nb = cols / 32;
    int64_t r = r0;
    for (; r + 2 <= r1; r += 2) {  // two rows share every activation load
        const uint8_t *w0 = wq + r * cols, *w1 = w0 + cols;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        for (int64_t g = 0; g < groups; g++) {
            const int8_t *xg = xq + g * 512;
            const char *p0 = (const char *)(w0 + g * 512) + PREFETCH_BYTES, *p1 = (const char *)(w1 + g * 512) + PREFETCH_BYTES;
            for (int i = 0; i < 512; i += 64) {
                _mm_prefetch(p0 + i, _MM_HINT_T0);
                _mm_prefetch(p1 + i, _MM_HINT_T0);
            }
            for (int h = 0; h < 2; h++) {
                __m256i s0 = _mm256_setzero_si256(), s1 = _mm256_setzero_si256();
                for (int k = 0; k < 8; k++) {
                    __m256i xv = _mm256_loadu_si256((const __m256i *)(xg + k * 64 + 32 * h));
                    s0 = _mm256_dpbusd_avx_epi32(s0, _mm256_loadu_si256((const __m256i *)(w0 + g * 512 + k * 64 + 32 * h)), xv);
                    s1 = _mm256_dpbusd_avx_epi32(s1, _mm256_loadu_si256((const __m256i *)(w1 + g * 512 + k * 64 + 32 * h)), xv);
                }
                int64_t b = g * 16 + 8 * h;
                __m256i corr = _mm256_loadu_si256((const __m256i *)(xsum + b));
                __m256 xsv = _mm256_loadu_ps(xs + b);
                __m256 d0 = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(ws + r * nb + b))), xsv);
                __m256 d1 = _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(ws + (r + 1) * nb + b))), xsv);
                acc0 = _mm256_fmadd_ps(d0, _mm256_cvtepi32_ps(_mm256_sub_epi32(s0, corr)), acc0);
                acc1 = _mm256_fmadd_ps(d1, _mm256_cvtepi32_ps(_mm256_sub_epi32(s1, corr)), acc1);
            }
        }
        y[r] = hsum256(acc0);
        y[r + 1] = hsum256(acc1);
    }
    if (r < r1) tts_q8_vnni_matvec_ref(wq, ws, xq, xs, xsum, y, cols, r, r1);
}

// One half of a q4_k group (its block h): per lane, the low-nibble scale << 4 and the
// high-nibble scale of the lane's sub-blocks, the mins, and d/16 and dmin of the block.
typedef struct {
    __m256i sc_lo, sc_hi, mins;
    float d, dmin;
} half_scales;

static inline TTS_AVXVNNI half_scales load_half(const uint8_t *m, int h) {
    const __m256i lo_idx = _mm256_setr_epi32(0, 0, 2, 2, 4, 4, 6, 6), hi_idx = _mm256_setr_epi32(1, 1, 3, 3, 5, 5, 7, 7);
    __m256i sc = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(m + 8 + 8 * h)));
    half_scales s;
    s.sc_lo = _mm256_slli_epi32(_mm256_permutevar8x32_epi32(sc, lo_idx), 4);
    s.sc_hi = _mm256_permutevar8x32_epi32(sc, hi_idx);
    s.mins = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(m + 24 + 8 * h)));
    uint16_t d16, m16;
    memcpy(&d16, m + 2 * h, 2);
    memcpy(&m16, m + 4 + 2 * h, 2);
    s.d = _cvtsh_ss(d16) / 16;  // the high nibbles are used in place (16 times their value)
    s.dmin = _cvtsh_ss(m16);
    return s;
}

static inline TTS_AVXVNNI void load_half_nibbles(const uint8_t *q, int h, __m256i lo[4], __m256i hi[4]) {
    const __m256i low = _mm256_set1_epi8(0x0F), high = _mm256_set1_epi8((char)0xF0);
    for (int k = 0; k < 4; k++) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(q + 64 * k + 32 * h));
        lo[k] = _mm256_and_si256(v, low);
        hi[k] = _mm256_and_si256(v, high);
    }
}

static inline TTS_AVXVNNI int32_t hsum_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

// Block h's contribution for one token (xg: the group's arranged activations, xs: its 16
// sub-block sums, xd: its two block scales). The sub-block products and the min terms are summed
// to the block's exact integers first, so the f32 expression is the reference's, bit for bit:
// (d * xd) * isum - (dmin * xd) * msum (the low nibbles' 16x scale and d/16 cancel exactly).
static inline TTS_AVXVNNI float half_product(const __m256i lo[4], const __m256i hi[4], const half_scales *s, int h,
                                             const int8_t *xg, const int32_t *xs, const float *xd) {
    __m256i dlo = _mm256_setzero_si256(), dhi = _mm256_setzero_si256();
    for (int k = 0; k < 4; k++) {
        dlo = _mm256_dpbusd_avx_epi32(dlo, lo[k], _mm256_loadu_si256((const __m256i *)(xg + 128 * k + 32 * h)));
        dhi = _mm256_dpbusd_avx_epi32(dhi, hi[k], _mm256_loadu_si256((const __m256i *)(xg + 128 * k + 64 + 32 * h)));
    }
    int32_t isum = hsum_epi32(_mm256_add_epi32(_mm256_mullo_epi32(dlo, s->sc_lo), _mm256_mullo_epi32(dhi, s->sc_hi)));
    int32_t msum = hsum_epi32(_mm256_mullo_epi32(s->mins, _mm256_loadu_si256((const __m256i *)(xs + 8 * h))));
    return s->d * xd[h] * (float)isum - s->dmin * xd[h] * (float)msum;
}

static inline TTS_AVXVNNI void prefetch_group(const uint8_t *nibbles, const uint8_t *meta) {
    const char *p = (const char *)nibbles + PREFETCH_BYTES;
    for (int i = 0; i < 256; i += 64) _mm_prefetch(p + i, _MM_HINT_T0);
    _mm_prefetch((const char *)meta + PREFETCH_BYTES * TTS_Q4_K_VNNI_META_BYTES / 256, _MM_HINT_T0);
}

// n tokens (1 included) of arranged activations into y [n][rows], rows [r0, r1): each group half's
// nibbles and scales prepared once for up to 4 tokens.
TTS_AVXVNNI void tts_q4_k_vnni_matmul_tokens_avxvnni(const uint8_t *nib, const uint8_t *meta, const int8_t *xq,
                                                     const float *xd, const int32_t *xsum, float *y, int64_t rows,
                                                     int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    int64_t groups = cols / 512;
    // Token blocks outside the rows, so a block's activations stay in L1 (as the AVX-512 kernel).
    for (int64_t t0 = 0; t0 < n; t0 += 4) {
        int nt = n - t0 < 4 ? (int)(n - t0) : 4;
        for (int64_t r = r0; r < r1; r++) {
            const uint8_t *q = nib + r * (cols / 2), *m = meta + r * groups * TTS_Q4_K_VNNI_META_BYTES;
            float total[4] = {0, 0, 0, 0};
            for (int64_t g = 0; g < groups; g++) {
                prefetch_group(q + 256 * g, m + g * TTS_Q4_K_VNNI_META_BYTES);
                for (int h = 0; h < 2; h++) {
                    __m256i lo[4], hi[4];
                    load_half_nibbles(q + 256 * g, h, lo, hi);
                    half_scales s = load_half(m + g * TTS_Q4_K_VNNI_META_BYTES, h);
                    for (int t = 0; t < nt; t++) {
                        int64_t tok = t0 + t;
                        total[t] += half_product(lo, hi, &s, h, xq + tok * cols + 512 * g, xsum + tok * (cols / 32) + 16 * g,
                                                 xd + tok * (cols / 256) + 2 * g);
                    }
                }
            }
            for (int t = 0; t < nt; t++) y[(t0 + t) * rows + r] = total[t];
        }
    }
}
#endif
