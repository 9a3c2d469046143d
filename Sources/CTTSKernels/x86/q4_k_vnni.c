// q4_k in "VNNI order" (ref/q4_k_vnni.c) on AVX-512 VNNI. Per group of 512 weights: four 64-byte
// nibble loads, eight vpdpbusd into a low-nibble and a high-nibble accumulator whose lanes each
// belong to one sub-block, then the sub-block scales as one integer multiply per accumulator and
// the block scales as two f32 FMAs. The high nibbles are used in place (q & 0xF0, i.e. 16 times
// their value) and the low-nibble scales shifted left by 4 to match; the block scale carries the
// 1/16 (exact, a power of two). Integer bounds: a lane sums 16 products, |16*15*127| * 16 * 63
// per nibble half, about 3.1e7, well inside int32.
#if defined(__x86_64__)
#include "../include/tts_kernels.h"
#include <immintrin.h>
#include "../ref/q4_k_internal.h"
#include <string.h>

#define TTS_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,fma,f16c")))

// The group's scale state shared by every activation vector it meets.
typedef struct {
    __m512i sc_lo, sc_hi, mins;  // per lane: (low-nibble scale) << 4, high-nibble scale, mins
    __m128 dm;                   // d0/16, d1/16, dmin0, dmin1
} group_scales;

static inline TTS_VNNI group_scales load_scales(const uint8_t *m) {
    const __m512i lo_idx = _mm512_setr_epi32(0, 0, 2, 2, 4, 4, 6, 6, 8, 8, 10, 10, 12, 12, 14, 14);
    const __m512i hi_idx = _mm512_setr_epi32(1, 1, 3, 3, 5, 5, 7, 7, 9, 9, 11, 11, 13, 13, 15, 15);
    __m512i sc = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(m + 8)));
    group_scales s;
    s.sc_lo = _mm512_slli_epi32(_mm512_permutexvar_epi32(lo_idx, sc), 4);
    s.sc_hi = _mm512_permutexvar_epi32(hi_idx, sc);
    s.mins = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(m + 24)));
    s.dm = _mm_mul_ps(_mm_cvtph_ps(_mm_loadl_epi64((const __m128i *)m)), _mm_setr_ps(1.0f / 16, 1.0f / 16, 1, 1));
    return s;
}

// acc += the group's contribution for one token: lo/hi are the masked nibble loads, xg the
// token's 512 arranged activations, xs its 16 sub-block sums, xd its two block scales.
static inline TTS_VNNI __m512 group_product(const __m512i lo[4], const __m512i hi[4], const group_scales *s,
                                            const int8_t *xg, const int32_t *xs, const float *xd, __m512 acc) {
    const __m512i d_idx = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i m_idx = _mm512_setr_epi32(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    __m512i dlo = _mm512_setzero_si512(), dhi = _mm512_setzero_si512();
    for (int k = 0; k < 4; k++) {
        dlo = _mm512_dpbusd_epi32(dlo, lo[k], _mm512_loadu_si512((const void *)(xg + 128 * k)));
        dhi = _mm512_dpbusd_epi32(dhi, hi[k], _mm512_loadu_si512((const void *)(xg + 128 * k + 64)));
    }
    __m512i isum = _mm512_add_epi32(_mm512_mullo_epi32(dlo, s->sc_lo), _mm512_mullo_epi32(dhi, s->sc_hi));
    __m512i msum = _mm512_mullo_epi32(s->mins, _mm512_loadu_si512((const void *)xs));
    __m128 xd2 = _mm_castpd_ps(_mm_loaddup_pd((const double *)xd));  // xd0, xd1, xd0, xd1
    __m512 f = _mm512_castps128_ps512(_mm_mul_ps(s->dm, xd2));
    acc = _mm512_fmadd_ps(_mm512_permutexvar_ps(d_idx, f), _mm512_cvtepi32_ps(isum), acc);
    return _mm512_fnmadd_ps(_mm512_permutexvar_ps(m_idx, f), _mm512_cvtepi32_ps(msum), acc);
}

// The hardware prefetchers stop at 4 KiB page boundaries, so a thread streaming a matrix from
// memory stalls at every new page. Asking for the group PREFETCH_BYTES ahead (about six groups;
// rows follow each other, so across row ends too) keeps loads in flight: measured on the 2-core
// development machine, the 0.6B talker step went from ~18 to ~14.5 ms (bench, alternating runs;
// 2048 and 3072 bytes measured alike, 0 and 4096 worse). Prefetches never fault past the end.
#define PREFETCH_BYTES 3072
static inline TTS_VNNI void prefetch_ahead(const uint8_t *nibbles, const uint8_t *meta) {
    const char *p = (const char *)nibbles + PREFETCH_BYTES;
    for (int i = 0; i < 256; i += 64) _mm_prefetch(p + i, _MM_HINT_T0);
    _mm_prefetch((const char *)meta + PREFETCH_BYTES * TTS_Q4_K_VNNI_META_BYTES / 256, _MM_HINT_T0);
}

static inline TTS_VNNI void load_nibbles(const uint8_t *q, __m512i lo[4], __m512i hi[4]) {
    const __m512i low = _mm512_set1_epi8(0x0F), high = _mm512_set1_epi8((char)0xF0);
    for (int k = 0; k < 4; k++) {
        __m512i v = _mm512_loadu_si512((const void *)(q + 64 * k));
        lo[k] = _mm512_and_si512(v, low);
        hi[k] = _mm512_and_si512(v, high);
    }
}

TTS_VNNI void tts_q4_k_vnni_matvec_avx512(const uint8_t *nib, const uint8_t *meta, const int8_t *xq, const float *xd,
                                          const int32_t *xsum, float *y, int64_t cols, int64_t r0, int64_t r1) {
    int64_t groups = cols / 512;
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *q = nib + r * (cols / 2), *m = meta + r * groups * TTS_Q4_K_VNNI_META_BYTES;
        __m512 acc = _mm512_setzero_ps();
        for (int64_t g = 0; g < groups; g++) {
            __m512i lo[4], hi[4];
            prefetch_ahead(q + 256 * g, m + g * TTS_Q4_K_VNNI_META_BYTES);
            load_nibbles(q + 256 * g, lo, hi);
            group_scales s = load_scales(m + g * TTS_Q4_K_VNNI_META_BYTES);
            acc = group_product(lo, hi, &s, xq + 512 * g, xsum + 16 * g, xd + 2 * g, acc);
        }
        y[r] = _mm512_reduce_add_ps(acc);
    }
}

// Many tokens: each group's nibbles and scales are prepared once for up to 8 tokens, whose
// accumulators stay in registers. The blocks of 8 tokens are the outer loop, so their 8 rows of
// activations (8 KB per 1024 columns) stay in L1 while the rows' weights stream past; with the
// rows outside, every row re-read all n tokens' activations from L2, and that bound the kernel
// (measured on the development machine, 3072x1024 by 64 tokens, one thread: 115 GMAC/s rows
// outside, 165 tokens outside). Each (row, token) sum is formed in the same order either way,
// so the results are the same bits, and equal to the one-token kernel's. y is [n][rows].
TTS_VNNI void tts_q4_k_vnni_matmul_tokens_avx512(const uint8_t *nib, const uint8_t *meta, const int8_t *xq, const float *xd,
                                                 const int32_t *xsum, float *y, int64_t rows, int64_t cols, int64_t n,
                                                 int64_t r0, int64_t r1) {
    int64_t groups = cols / 512;
    for (int64_t t0 = 0; t0 < n; t0 += 8) {
        int nt = n - t0 < 8 ? (int)(n - t0) : 8;
        for (int64_t r = r0; r < r1; r++) {
            const uint8_t *q = nib + r * (cols / 2), *m = meta + r * groups * TTS_Q4_K_VNNI_META_BYTES;
            __m512 acc[8];
            for (int t = 0; t < 8; t++) acc[t] = _mm512_setzero_ps();
            for (int64_t g = 0; g < groups; g++) {
                __m512i lo[4], hi[4];
                prefetch_ahead(q + 256 * g, m + g * TTS_Q4_K_VNNI_META_BYTES);
                load_nibbles(q + 256 * g, lo, hi);
                group_scales s = load_scales(m + g * TTS_Q4_K_VNNI_META_BYTES);
                for (int t = 0; t < nt; t++) {
                    int64_t tok = t0 + t;
                    acc[t] = group_product(lo, hi, &s, xq + tok * cols + 512 * g, xsum + tok * (cols / 32) + 16 * g,
                                           xd + tok * (cols / 256) + 2 * g, acc[t]);
                }
            }
            for (int t = 0; t < nt; t++) y[(t0 + t) * rows + r] = _mm512_reduce_add_ps(acc[t]);
        }
    }
}

// The activation quantizer, equal to tts_q4_k_vnni_quantize_x_ref bit for bit: the same max,
// the same scale and reciprocal, and round-to-nearest-even conversion (lrintf in the default mode).
TTS_VNNI void tts_q4_k_vnni_quantize_x_avx512(const float *x, int64_t cols, int8_t *xq, float *xd, int32_t *xsum) {
    for (int64_t g = 0; g < cols / 512; g++) {
        int8_t natural[512];
        for (int s = 0; s < 2; s++) {
            const float *xb = x + g * 512 + 256 * s;
            __m512 amax = _mm512_setzero_ps();
            for (int i = 0; i < 256; i += 16) amax = _mm512_max_ps(amax, _mm512_abs_ps(_mm512_loadu_ps(xb + i)));
            float d = _mm512_reduce_max_ps(amax) / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
            xd[2 * g + s] = d;
            __m512 idv = _mm512_set1_ps(id);
            for (int j = 0; j < 8; j++) {
                __m512i a = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(xb + 32 * j), idv));
                __m512i b = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_loadu_ps(xb + 32 * j + 16), idv));
                _mm_storeu_si128((__m128i *)(natural + 256 * s + 32 * j), _mm512_cvtsepi32_epi8(a));
                _mm_storeu_si128((__m128i *)(natural + 256 * s + 32 * j + 16), _mm512_cvtsepi32_epi8(b));
                xsum[g * 16 + 8 * s + j] = _mm512_reduce_add_epi32(_mm512_add_epi32(a, b));
            }
        }
        for (int i = 0; i < 128; i++) memcpy(xq + g * 512 + 4 * tts_q4_k_vnni_x_word(i), natural + 4 * i, 4);
    }
}
#endif
