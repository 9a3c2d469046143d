// q4_k matrix-vector products on int8 activations with one scale per 256 values (ref/q4_k.c).
// maddubs multiplies nibbles with activations into int16 pairs, and madd by the sub-block's 6-bit
// scale adds the pairs into int32 lanes, so a whole block accumulates in integers and is
// converted to f32 once; the min terms are one 8-lane integer product per block.
// AVX2 takes 64 weights (two sub-blocks) per 32-byte load; AVX-512 takes 128 (four) per 64-byte
// load, its activations arranged by tts_q4_k_x_offset so both halves are contiguous.
#if defined(__x86_64__)
#include "../include/tts_kernels.h"
#include "../ref/q4_k_internal.h"
#include <immintrin.h>
#include <string.h>

#define TTS_AVX2 __attribute__((target("avx2,fma,f16c")))
#define TTS_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))

// The block's min terms (dmin*xd * sum_j m_j * xsum_j) as 8 lanes to add; d*xd and the block's
// 8 scales and mins from its header.
#define Q4K_BLOCK_HEADER                                                                           \
    const uint8_t *blk = row + b * TTS_Q4_K_BLOCK_BYTES;                                           \
    uint64_t packed_sc, packed_m;                                                                  \
    uint16_t d16, m16;                                                                             \
    tts_q4_k_header(blk, &d16, &m16, &packed_sc, &packed_m);                                       \
    const int8_t *xb = xq + b * 256;                                                               \
    float xdb = xd[b];                                                                             \
    __m256i mins = _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((int64_t)packed_m)),          \
                                      _mm256_loadu_si256((const __m256i *)(xsum + b * 8)));

static inline TTS_AVX2 float hsum256(__m256 acc) {
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    s4 = _mm_add_ss(s4, _mm_movehdup_ps(s4));
    return _mm_cvtss_f32(s4);
}

// Dequantization for the many-token (prefill) product: 8 values per conversion.
TTS_AVX2 void tts_dequantize_q4_k_avx2(const uint8_t *src, float *dst, int64_t n) {
    for (int64_t b = 0; b < n / 256; b++) {
        const uint8_t *blk = src + b * TTS_Q4_K_BLOCK_BYTES;
        uint64_t packed_sc, packed_m;
        uint16_t d16, m16;
        tts_q4_k_header(blk, &d16, &m16, &packed_sc, &packed_m);
        float d = _cvtsh_ss(d16), dmin = _cvtsh_ss(m16);
        float *y = dst + b * 256;
        for (int p = 0; p < 4; p++) {
            __m128i q0 = _mm_loadu_si128((const __m128i *)(blk + 16 + 32 * p));
            __m128i q1 = _mm_loadu_si128((const __m128i *)(blk + 16 + 32 * p + 16));
            for (int half = 0; half < 2; half++) {  // low nibbles: sub-block 2p; high: 2p+1
                int j = 2 * p + half;
                __m256 scale = _mm256_set1_ps(d * (float)((packed_sc >> (8 * j)) & 0xFF));
                __m256 offset = _mm256_set1_ps(dmin * (float)((packed_m >> (8 * j)) & 0xFF));
                __m128i v0 = half ? _mm_and_si128(_mm_srli_epi16(q0, 4), _mm_set1_epi8(0x0F)) : _mm_and_si128(q0, _mm_set1_epi8(0x0F));
                __m128i v1 = half ? _mm_and_si128(_mm_srli_epi16(q1, 4), _mm_set1_epi8(0x0F)) : _mm_and_si128(q1, _mm_set1_epi8(0x0F));
                float *out = y + 64 * p + 32 * half;
                __m128i parts[4] = {v0, _mm_srli_si128(v0, 8), v1, _mm_srli_si128(v1, 8)};
                for (int k = 0; k < 4; k++) {
                    __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(parts[k]));
                    _mm256_storeu_ps(out + 8 * k, _mm256_fmsub_ps(f, scale, offset));
                }
            }
        }
    }
}

TTS_AVX2 void tts_q4_k_matvec_avx2(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum,
                                   float *y, int64_t cols, int64_t r0, int64_t r1) {
    int64_t nblocks = cols / 256;
    const __m256i nib = _mm256_set1_epi8(0x0F);
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = w + r * nblocks * TTS_Q4_K_BLOCK_BYTES;
        __m256 acc = _mm256_setzero_ps();
        for (int64_t b = 0; b < nblocks; b++) {
            Q4K_BLOCK_HEADER
            __m256i isum = _mm256_setzero_si256();
            for (int p = 0; p < 4; p++) {
                __m256i q = _mm256_loadu_si256((const __m256i *)(blk + 16 + 32 * p));
                __m256i lo = _mm256_and_si256(q, nib);
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), nib);
                __m256i pl = _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *)(xb + tts_q4_k_x_offset(2 * p))));
                __m256i ph = _mm256_maddubs_epi16(hi, _mm256_loadu_si256((const __m256i *)(xb + tts_q4_k_x_offset(2 * p + 1))));
                short s_lo = (short)((packed_sc >> (16 * p)) & 0xFF), s_hi = (short)((packed_sc >> (16 * p + 8)) & 0xFF);
                isum = _mm256_add_epi32(isum, _mm256_madd_epi16(pl, _mm256_set1_epi16(s_lo)));
                isum = _mm256_add_epi32(isum, _mm256_madd_epi16(ph, _mm256_set1_epi16(s_hi)));
            }
            acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(d16) * xdb), _mm256_cvtepi32_ps(isum), acc);
            acc = _mm256_fmadd_ps(_mm256_set1_ps(-_cvtsh_ss(m16) * xdb), _mm256_cvtepi32_ps(mins), acc);
        }
        y[r] = hsum256(acc);
    }
}

// Index vectors for vpermw that spread a block's eight 16-bit scales over a 64-byte load of
// nibbles: lanes 0-15 take one sub-block's scale, lanes 16-31 another's, (4h, 4h+2) for the low
// nibbles of the h-th load (pick[2h]) and (4h+1, 4h+3) for the high ones (pick[2h+1]).
static inline TTS_AVX512 void q4k_scale_pickers(__m512i pick[4]) {
    for (int h = 0; h < 2; h++)
        for (int k = 0; k < 2; k++) {
            int16_t idx[32];
            for (int i = 0; i < 32; i++) idx[i] = (int16_t)(4 * h + k + (i < 16 ? 0 : 2));
            pick[2 * h + k] = _mm512_loadu_si512((const void *)idx);
        }
}

// One block of one row: its integer dot products and min terms folded into acc.
static inline TTS_AVX512 __m256 q4k_block_avx512(const uint8_t *blk, const int8_t *xb, const int32_t *xs, float xdb,
                                                 const __m512i *pick, __m256 acc) {
    const __m512i nib = _mm512_set1_epi8(0x0F);
    uint64_t packed_sc, packed_m;
    uint16_t d16, m16;
    tts_q4_k_header(blk, &d16, &m16, &packed_sc, &packed_m);
    __m512i scales = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128((int64_t)packed_sc)));
    __m512i isum = _mm512_setzero_si512();
    for (int h = 0; h < 2; h++) {
        __m512i q = _mm512_loadu_si512((const void *)(blk + 16 + 64 * h));
        __m512i lo = _mm512_and_si512(q, nib);
        __m512i hi = _mm512_and_si512(_mm512_srli_epi16(q, 4), nib);
        __m512i pl = _mm512_maddubs_epi16(lo, _mm512_loadu_si512((const void *)(xb + 128 * h)));
        __m512i ph = _mm512_maddubs_epi16(hi, _mm512_loadu_si512((const void *)(xb + 128 * h + 64)));
        isum = _mm512_add_epi32(isum, _mm512_madd_epi16(pl, _mm512_permutexvar_epi16(pick[2 * h], scales)));
        isum = _mm512_add_epi32(isum, _mm512_madd_epi16(ph, _mm512_permutexvar_epi16(pick[2 * h + 1], scales)));
    }
    __m256i isum8 = _mm256_add_epi32(_mm512_castsi512_si256(isum), _mm512_extracti64x4_epi64(isum, 1));
    __m256i mins = _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128((int64_t)packed_m)), _mm256_loadu_si256((const __m256i *)xs));
    acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(d16) * xdb), _mm256_cvtepi32_ps(isum8), acc);
    return _mm256_fmadd_ps(_mm256_set1_ps(-_cvtsh_ss(m16) * xdb), _mm256_cvtepi32_ps(mins), acc);
}

TTS_AVX512 void tts_q4_k_matvec_avx512(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum,
                                       float *y, int64_t cols, int64_t r0, int64_t r1) {
    int64_t nblocks = cols / 256, row_bytes = nblocks * TTS_Q4_K_BLOCK_BYTES;
    __m512i pick[4];
    q4k_scale_pickers(pick);
    for (int64_t r = r0; r < r1; r++) {
        const uint8_t *row = w + r * row_bytes;
        __m256 acc = _mm256_setzero_ps();
        for (int64_t b = 0; b < nblocks; b++)
            acc = q4k_block_avx512(row + b * TTS_Q4_K_BLOCK_BYTES, xq + b * 256, xsum + b * 8, xd[b], pick, acc);
        y[r] = hsum256(acc);
    }
}
// Many tokens: each block's scales, nibbles and scale vectors are prepared once and applied to up
// to 8 tokens, whose accumulators stay in registers; the blocks of 8 tokens are the outer loop. y is [n][rows]; xq, xd, xsum hold the tokens'
// activations one after another (cols, cols/256 and cols/32 per token).
TTS_AVX512 void tts_q4_k_matmul_tokens_avx512(const uint8_t *w, const int8_t *xq, const float *xd, const int32_t *xsum,
                                              float *y, int64_t rows, int64_t cols, int64_t n, int64_t r0, int64_t r1) {
    int64_t nblocks = cols / 256, row_bytes = nblocks * TTS_Q4_K_BLOCK_BYTES;
    const __m512i nib = _mm512_set1_epi8(0x0F);
    __m512i pick[4];
    q4k_scale_pickers(pick);
    // Token blocks outside the rows, so a block's activations stay in L1 while the rows stream
    // past (as q4_k_vnni.c; the same sums in the same order, so the same bits).
    for (int64_t t0 = 0; t0 < n; t0 += 8) {
        int nt = n - t0 < 8 ? (int)(n - t0) : 8;
        for (int64_t r = r0; r < r1; r++) {
            const uint8_t *row = w + r * row_bytes;
            __m256 acc[8];
            for (int t = 0; t < 8; t++) acc[t] = _mm256_setzero_ps();
            for (int64_t b = 0; b < nblocks; b++) {
                const uint8_t *blk = row + b * TTS_Q4_K_BLOCK_BYTES;
                uint64_t packed_sc, packed_m;
                uint16_t d16, m16;
                tts_q4_k_header(blk, &d16, &m16, &packed_sc, &packed_m);
                float d = _cvtsh_ss(d16), dmin = _cvtsh_ss(m16);
                __m512i scales = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128((int64_t)packed_sc)));
                __m512i sv[4], nv[4];
                for (int h = 0; h < 2; h++) {
                    __m512i q = _mm512_loadu_si512((const void *)(blk + 16 + 64 * h));
                    nv[2 * h] = _mm512_and_si512(q, nib);
                    nv[2 * h + 1] = _mm512_and_si512(_mm512_srli_epi16(q, 4), nib);
                    sv[2 * h] = _mm512_permutexvar_epi16(pick[2 * h], scales);
                    sv[2 * h + 1] = _mm512_permutexvar_epi16(pick[2 * h + 1], scales);
                }
                __m256i m8 = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((int64_t)packed_m));
                for (int t = 0; t < nt; t++) {
                    int64_t tok = t0 + t;
                    const int8_t *xb = xq + tok * cols + b * 256;
                    __m512i isum = _mm512_setzero_si512();
                    for (int k = 0; k < 4; k++) {
                        __m512i p = _mm512_maddubs_epi16(nv[k], _mm512_loadu_si512((const void *)(xb + 64 * k)));
                        isum = _mm512_add_epi32(isum, _mm512_madd_epi16(p, sv[k]));
                    }
                    __m256i isum8 = _mm256_add_epi32(_mm512_castsi512_si256(isum), _mm512_extracti64x4_epi64(isum, 1));
                    __m256i mins = _mm256_mullo_epi32(m8, _mm256_loadu_si256((const __m256i *)(xsum + tok * (cols / 32) + b * 8)));
                    float xdb = xd[tok * nblocks + b];
                    acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(d * xdb), _mm256_cvtepi32_ps(isum8), acc[t]);
                    acc[t] = _mm256_fmadd_ps(_mm256_set1_ps(-dmin * xdb), _mm256_cvtepi32_ps(mins), acc[t]);
                }
            }
            for (int t = 0; t < nt; t++) y[(t0 + t) * rows + r] = hsum256(acc[t]);
        }
    }
}
#endif
