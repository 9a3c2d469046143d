// One attention head (scores, softmax, weighted values) for AVX-512 and AVX2.
#if defined(__x86_64__)
#include "../include/tts_kernels.h"
#include <immintrin.h>

#define TTS_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))
#define TTS_AVX2 __attribute__((target("avx2,fma")))

// The K/V loads are macro parameters: the same bodies read an f32 cache and a bf16 one (whose
// values widen exactly to f32), so both sum in the same order and a bf16 cache gives exactly what
// the f32 kernel gives on the widened values (AttentionTwinTests).
#define ATTENTION512_BODY(KV, LOAD16, LOAD1) \
    /* Four keys at a time: four independent FMA chains instead of one (each key's sum is formed */ \
    /* exactly as one at a time would form it, so the scores do not change). */ \
    int64_t j = 0; \
    const int64_t vec = head_dim & ~(int64_t)15; \
    for (; j + 4 <= n_keys; j += 4) { \
        const KV *k0 = k + j * kv_stride, *k1 = k0 + kv_stride, *k2 = k1 + kv_stride, *k3 = k2 + kv_stride; \
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0; \
        for (int64_t d = 0; d < vec; d += 16) { \
            __m512 qd = _mm512_loadu_ps(q + d); \
            a0 = _mm512_fmadd_ps(qd, LOAD16(k0 + d), a0); \
            a1 = _mm512_fmadd_ps(qd, LOAD16(k1 + d), a1); \
            a2 = _mm512_fmadd_ps(qd, LOAD16(k2 + d), a2); \
            a3 = _mm512_fmadd_ps(qd, LOAD16(k3 + d), a3); \
        } \
        float s0 = _mm512_reduce_add_ps(a0), s1 = _mm512_reduce_add_ps(a1); \
        float s2 = _mm512_reduce_add_ps(a2), s3 = _mm512_reduce_add_ps(a3); \
        for (int64_t d = vec; d < head_dim; d++) { \
            s0 += q[d] * LOAD1(k0[d]); \
            s1 += q[d] * LOAD1(k1[d]); \
            s2 += q[d] * LOAD1(k2[d]); \
            s3 += q[d] * LOAD1(k3[d]); \
        } \
        scores[j] = s0 * scale; \
        scores[j + 1] = s1 * scale; \
        scores[j + 2] = s2 * scale; \
        scores[j + 3] = s3 * scale; \
    } \
    for (; j < n_keys; j++) { \
        const KV *kj = k + j * kv_stride; \
        __m512 acc = _mm512_setzero_ps(); \
        for (int64_t d = 0; d < vec; d += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + d), LOAD16(kj + d), acc); \
        float s = _mm512_reduce_add_ps(acc); \
        for (int64_t d = vec; d < head_dim; d++) s += q[d] * LOAD1(kj[d]); \
        scores[j] = s * scale; \
    } \
    tts_softmax_f32(scores, n_keys); \
    /* 64 output values at a time in four accumulators (independent chains); each value still */ \
    /* sums its keys in order. */ \
    int64_t d = 0; \
    for (; d + 64 <= head_dim; d += 64) { \
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0; \
        for (int64_t jj = 0; jj < n_keys; jj++) { \
            const KV *vj = v + jj * kv_stride + d; \
            __m512 p = _mm512_set1_ps(scores[jj]); \
            a0 = _mm512_fmadd_ps(p, LOAD16(vj), a0); \
            a1 = _mm512_fmadd_ps(p, LOAD16(vj + 16), a1); \
            a2 = _mm512_fmadd_ps(p, LOAD16(vj + 32), a2); \
            a3 = _mm512_fmadd_ps(p, LOAD16(vj + 48), a3); \
        } \
        _mm512_storeu_ps(out + d, a0); \
        _mm512_storeu_ps(out + d + 16, a1); \
        _mm512_storeu_ps(out + d + 32, a2); \
        _mm512_storeu_ps(out + d + 48, a3); \
    } \
    for (; d + 16 <= head_dim; d += 16) { \
        __m512 acc = _mm512_setzero_ps(); \
        for (int64_t jj = 0; jj < n_keys; jj++) acc = _mm512_fmadd_ps(_mm512_set1_ps(scores[jj]), LOAD16(v + jj * kv_stride + d), acc); \
        _mm512_storeu_ps(out + d, acc); \
    } \
    for (; d < head_dim; d++) { \
        float acc = 0; \
        for (int64_t j = 0; j < n_keys; j++) acc += scores[j] * LOAD1(v[j * kv_stride + d]); \
        out[d] = acc; \
    }

#define F32_LOAD16(p) _mm512_loadu_ps(p)
#define F32_LOAD1(x) (x)
#define BF16_LOAD16(p) _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(p))), 16))
#define BF16_LOAD1(x) tts_bf16_to_f32(x)

TTS_AVX512 void tts_attention_head_f32_avx512(const float *q, const float *k, const float *v, float *out,
                                              float *scores, int64_t n_keys, int64_t head_dim,
                                              int64_t kv_stride, float scale) {
    ATTENTION512_BODY(float, F32_LOAD16, F32_LOAD1)
}

TTS_AVX512 void tts_attention_head_bf16kv_avx512(const float *q, const uint16_t *k, const uint16_t *v, float *out,
                                                 float *scores, int64_t n_keys, int64_t head_dim,
                                                 int64_t kv_stride, float scale) {
    ATTENTION512_BODY(uint16_t, BF16_LOAD16, BF16_LOAD1)
}

// ---- a group of query heads sharing one key/value head (GQA) ------------------------------
// Each key and value row is loaded once for the whole group, and the scores' sums are reduced
// sixteen at a time. Every head's result equals tts_attention_head_*_avx512's bit for bit: each
// score is the same FMA chain over d, reduced by the same tree (AttentionTwinTests).

// Sixteen sums at once, each formed exactly as _mm512_reduce_add_ps forms it (lanes i + i+8,
// then i + i+4, i + i+2, i + i+1): lane L of the result is the sum of a[4 * (L % 4) + L / 4].
TTS_AVX512 static inline __m512 reduce16_transposed(const __m512 a[16]) {
    __m512 b[8], c[4], d[2];
    for (int m = 0; m < 8; m++)
        b[m] = _mm512_add_ps(_mm512_shuffle_f32x4(a[2 * m], a[2 * m + 1], 0x44), _mm512_shuffle_f32x4(a[2 * m], a[2 * m + 1], 0xEE));
    for (int m = 0; m < 4; m++)
        c[m] = _mm512_add_ps(_mm512_shuffle_f32x4(b[2 * m], b[2 * m + 1], 0x88), _mm512_shuffle_f32x4(b[2 * m], b[2 * m + 1], 0xDD));
    for (int m = 0; m < 2; m++)
        d[m] = _mm512_add_ps(_mm512_shuffle_ps(c[2 * m], c[2 * m + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_ps(c[2 * m], c[2 * m + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    return _mm512_add_ps(_mm512_shuffle_ps(d[0], d[1], _MM_SHUFFLE(2, 0, 2, 0)), _mm512_shuffle_ps(d[0], d[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

// Which accumulator holds slot L (so that lane L of reduce16_transposed is slot L).
#define SLOT(L) (4 * ((L) % 4) + (L) / 4)

// Scores of NH heads (NH * NK == 16) against keys j..j+NK-1: slot h * NK + kk is head h, key
// j + kk. head_dim is a multiple of 16.
#define GROUP_SCORES(KV, LOAD16, NH, NK) \
    { \
        __m512 acc[16]; \
        for (int i = 0; i < 16; i++) acc[i] = _mm512_setzero_ps(); \
        for (int64_t d = 0; d < head_dim; d += 16) { \
            __m512 qd[NH]; \
            for (int h = 0; h < NH; h++) qd[h] = _mm512_loadu_ps(q + h * head_dim + d); \
            for (int kk = 0; kk < NK; kk++) { \
                __m512 kv = LOAD16(k + (j + kk) * kv_stride + d); \
                for (int h = 0; h < NH; h++) acc[SLOT(h * NK + kk)] = _mm512_fmadd_ps(qd[h], kv, acc[SLOT(h * NK + kk)]); \
            } \
        } \
        __m512 sums = _mm512_mul_ps(reduce16_transposed(acc), _mm512_set1_ps(scale)); \
        float lanes[16]; \
        _mm512_storeu_ps(lanes, sums); \
        for (int h = 0; h < NH; h++) \
            for (int kk = 0; kk < NK; kk++) scores[h * n_keys + j + kk] = lanes[h * NK + kk]; \
    }

// One key for one head, as the single-head kernel's remainder loop forms it.
#define ONE_SCORE(KV, LOAD16, h, jj) \
    { \
        const KV *kj = k + (jj) * kv_stride; \
        __m512 acc = _mm512_setzero_ps(); \
        for (int64_t d = 0; d < head_dim; d += 16) acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + (h) * head_dim + d), LOAD16(kj + d), acc); \
        scores[(h) * n_keys + (jj)] = _mm512_reduce_add_ps(acc) * scale; \
    }

// Weighted values of NH heads, 64 outputs at a time (each value's keys summed in order).
#define GROUP_VALUES(KV, LOAD16, NH) \
    for (int64_t d = 0; d < head_dim; d += 64) { \
        const int u_count = head_dim - d >= 64 ? 4 : (int)((head_dim - d) / 16); \
        __m512 acc[NH][4]; \
        for (int h = 0; h < NH; h++) \
            for (int u = 0; u < 4; u++) acc[h][u] = _mm512_setzero_ps(); \
        if (u_count == 4) { \
            for (int64_t jj = 0; jj < n_keys; jj++) { \
                const KV *vj = v + jj * kv_stride + d; \
                __m512 p[NH]; \
                for (int h = 0; h < NH; h++) p[h] = _mm512_set1_ps(scores[h * n_keys + jj]); \
                for (int u = 0; u < 4; u++) { \
                    __m512 vv = LOAD16(vj + 16 * u); \
                    for (int h = 0; h < NH; h++) acc[h][u] = _mm512_fmadd_ps(p[h], vv, acc[h][u]); \
                } \
            } \
        } else { \
            for (int64_t jj = 0; jj < n_keys; jj++) { \
                const KV *vj = v + jj * kv_stride + d; \
                for (int u = 0; u < u_count; u++) { \
                    __m512 vv = LOAD16(vj + 16 * u); \
                    for (int h = 0; h < NH; h++) acc[h][u] = _mm512_fmadd_ps(_mm512_set1_ps(scores[h * n_keys + jj]), vv, acc[h][u]); \
                } \
            } \
        } \
        for (int h = 0; h < NH; h++) \
            for (int u = 0; u < u_count; u++) _mm512_storeu_ps(out + h * head_dim + d + 16 * u, acc[h][u]); \
    }

// NH heads (1 or 2) from q (consecutive heads) into out, with scores[h * n_keys ...] as scratch.
#define ATTENTION_GROUP512(KV, LOAD16, NH) \
    { \
        int64_t j = 0; \
        for (; j + 16 / NH <= n_keys; j += 16 / NH) GROUP_SCORES(KV, LOAD16, NH, 16 / NH) \
        for (; j < n_keys; j++) \
            for (int h = 0; h < NH; h++) ONE_SCORE(KV, LOAD16, h, j) \
        for (int h = 0; h < NH; h++) tts_softmax_f32(scores + h * n_keys, n_keys); \
        GROUP_VALUES(KV, LOAD16, NH) \
    }

#define ATTENTION_GROUP512_BODY(KV, LOAD16, SINGLE) \
    if (head_dim % 16 != 0) { \
        for (int64_t h = 0; h < n_heads; h++) \
            SINGLE(q + h * head_dim, k, v, out + h * head_dim, scores, n_keys, head_dim, kv_stride, scale); \
        return; \
    } \
    for (int64_t h0 = 0; h0 < n_heads;) { \
        if (n_heads - h0 >= 2) { \
            ATTENTION_GROUP512(KV, LOAD16, 2) \
            h0 += 2; q += 2 * head_dim; out += 2 * head_dim; \
        } else { \
            ATTENTION_GROUP512(KV, LOAD16, 1) \
            h0 += 1; q += head_dim; out += head_dim; \
        } \
    }

TTS_AVX512 void tts_attention_group_f32_avx512(const float *q, int64_t n_heads, const float *k, const float *v, float *out,
                                               float *scores, int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale) {
    ATTENTION_GROUP512_BODY(float, F32_LOAD16, tts_attention_head_f32_avx512)
}

TTS_AVX512 void tts_attention_group_bf16kv_avx512(const float *q, int64_t n_heads, const uint16_t *k, const uint16_t *v, float *out,
                                                  float *scores, int64_t n_keys, int64_t head_dim, int64_t kv_stride, float scale) {
    ATTENTION_GROUP512_BODY(uint16_t, BF16_LOAD16, tts_attention_head_bf16kv_avx512)
}

TTS_AVX2 static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#define ATTENTION256_BODY(KV, LOAD8, LOAD1) \
    for (int64_t j = 0; j < n_keys; j++) { \
        const KV *kj = k + j * kv_stride; \
        __m256 acc = _mm256_setzero_ps(); \
        int64_t d = 0; \
        for (; d + 8 <= head_dim; d += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + d), LOAD8(kj + d), acc); \
        float s = hsum(acc); \
        for (; d < head_dim; d++) s += q[d] * LOAD1(kj[d]); \
        scores[j] = s * scale; \
    } \
    tts_softmax_f32(scores, n_keys); \
    int64_t d = 0; \
    for (; d + 8 <= head_dim; d += 8) { \
        __m256 acc = _mm256_setzero_ps(); \
        for (int64_t j = 0; j < n_keys; j++) acc = _mm256_fmadd_ps(_mm256_set1_ps(scores[j]), LOAD8(v + j * kv_stride + d), acc); \
        _mm256_storeu_ps(out + d, acc); \
    } \
    for (; d < head_dim; d++) { \
        float acc = 0; \
        for (int64_t j = 0; j < n_keys; j++) acc += scores[j] * LOAD1(v[j * kv_stride + d]); \
        out[d] = acc; \
    }

#define F32_LOAD8(p) _mm256_loadu_ps(p)
#define BF16_LOAD8(p) _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p))), 16))

TTS_AVX2 void tts_attention_head_f32_avx2(const float *q, const float *k, const float *v, float *out,
                                          float *scores, int64_t n_keys, int64_t head_dim,
                                          int64_t kv_stride, float scale) {
    ATTENTION256_BODY(float, F32_LOAD8, F32_LOAD1)
}

TTS_AVX2 void tts_attention_head_bf16kv_avx2(const float *q, const uint16_t *k, const uint16_t *v, float *out,
                                             float *scores, int64_t n_keys, int64_t head_dim,
                                             int64_t kv_stride, float scale) {
    ATTENTION256_BODY(uint16_t, BF16_LOAD8, BF16_LOAD1)
}
#endif
