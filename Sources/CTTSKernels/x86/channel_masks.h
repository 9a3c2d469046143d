// Store masks for a block of 32 output channels of which `left` remain (AVX-512 kernels).
#ifndef TTS_CHANNEL_MASKS_H
#define TTS_CHANNEL_MASKS_H
#include <immintrin.h>
#include <stdint.h>

// m0 covers channels 0-15 of the block, m1 channels 16-31.
static inline void tts_channel_masks(int64_t left, __mmask16 *m0, __mmask16 *m1) {
    *m0 = left >= 16 ? 0xFFFF : (__mmask16)((1u << left) - 1);
    *m1 = left >= 32 ? 0xFFFF : (left > 16 ? (__mmask16)((1u << (left - 16)) - 1) : 0);
}
#endif
