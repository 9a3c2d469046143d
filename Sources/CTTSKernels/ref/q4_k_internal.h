// Layout details of q4_k shared by the reference and SIMD kernels (not part of the public header).
#ifndef TTS_Q4_K_INTERNAL_H
#define TTS_Q4_K_INTERNAL_H
// Compiler builtins instead of <math.h> and <string.h>, so the NEON kernels that include this
// stay free of libc headers (they are checked for Apple's target without its SDK).
#include <stdint.h>

// The eight 6-bit scales and mins of a block from its 12 packed bytes, as eight bytes each
// (byte j of *sc is scale j). Bytes 0-3 hold scales 0-3 in their low 6 bits and the top 2 bits of
// scales 4-7; bytes 4-7 the same for the mins; bytes 8-11 the low 4 bits of scales 4-7 (low
// nibble) and mins 4-7 (high nibble). Done on whole 32-bit words, so no byte is stored and
// reloaded (which would stall store forwarding in the SIMD loops).
static inline void tts_q4_k_unpack64(const uint8_t *s, uint64_t *sc, uint64_t *m) {
    uint32_t a, b, c;
    __builtin_memcpy(&a, s, 4);
    __builtin_memcpy(&b, s + 4, 4);
    __builtin_memcpy(&c, s + 8, 4);
    uint32_t sc_hi = (c & 0x0F0F0F0Fu) | (((a >> 6) & 0x03030303u) << 4);
    uint32_t m_hi = ((c >> 4) & 0x0F0F0F0Fu) | (((b >> 6) & 0x03030303u) << 4);
    *sc = (uint64_t)(a & 0x3F3F3F3Fu) | ((uint64_t)sc_hi << 32);
    *m = (uint64_t)(b & 0x3F3F3F3Fu) | ((uint64_t)m_hi << 32);
}

// A block's header: its f16 scale and min scale (raw halves, bytes 0-3) and its packed 6-bit
// sub-block scales and mins (tts_q4_k_unpack64 of bytes 4-15).
static inline void tts_q4_k_header(const uint8_t *blk, uint16_t *d16, uint16_t *m16, uint64_t *sc, uint64_t *m) {
    __builtin_memcpy(d16, blk, 2);
    __builtin_memcpy(m16, blk + 2, 2);
    tts_q4_k_unpack64(blk + 4, sc, m);
}

static inline void tts_q4_k_unpack(const uint8_t *s, uint8_t *sc, uint8_t *m) {
    uint64_t a, b;
    tts_q4_k_unpack64(s, &a, &b);
    for (int j = 0; j < 8; j++) {
        sc[j] = (uint8_t)(a >> (8 * j));
        m[j] = (uint8_t)(b >> (8 * j));
    }
}

// Where sub-block s (32 values) of a 256-value block sits in the quantized activations: in groups
// of four sub-blocks the order is 0, 2, 1, 3, so that one 64-byte load of nibbles (sub-blocks
// 2p, 2p+1, 2p+2, 2p+3) meets its low-nibble activations (2p, 2p+2) and its high-nibble ones
// (2p+1, 2p+3) as two contiguous 64-byte runs.
static inline int tts_q4_k_x_offset(int s) {
    static const int within[4] = {0, 64, 32, 96};
    return 128 * (s / 4) + within[s % 4];
}

// One 256-value block of activations for the integer products: returns its scale d = max|x|/127
// and writes q = round(x/d) (to nearest even) in natural order and the sum of each 32-value
// sub-block. Both activation arrangements (ggml order and VNNI order) are scatters of this.
static inline float tts_q4_k_quantize_block(const float *x, int8_t q[256], int32_t sums[8]) {
    float amax = 0;
    for (int i = 0; i < 256; i++) amax = __builtin_fmaxf(amax, __builtin_fabsf(x[i]));
    float d = amax / 127.0f, id = d != 0 ? 1.0f / d : 0.0f;
    for (int j = 0; j < 8; j++) {
        int32_t sum = 0;
        for (int i = 0; i < 32; i++) {
            q[32 * j + i] = (int8_t)__builtin_lrintf(x[32 * j + i] * id);
            sum += q[32 * j + i];
        }
        sums[j] = sum;
    }
    return d;
}

// q4_k in VNNI order (ref/q4_k_vnni.c): the offset, within its group's 512 values, of the first of
// the four activations that lane l of nibble load k meets with its low (h = 0) or high (h = 1)
// nibbles; and the inverse, where natural 4-value word i of a group's activations goes.
static inline int tts_q4_k_vnni_lane_value(int k, int l, int h) {
    int s = l / 8, p = (l / 2) % 4, w = (l % 2) * 4 + k;
    return 256 * s + 64 * p + 32 * h + 4 * w;
}

static inline int tts_q4_k_vnni_x_word(int i) {
    int v = 4 * i, s = v / 256, p = (v % 256) / 64, h = (v % 64) / 32, w = (v % 32) / 4;
    int l = 8 * s + 2 * p + w / 4, k = w % 4;
    return 16 * (2 * k + h) + l;
}
#endif
