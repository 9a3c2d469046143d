// Attention over a key/value cache stored as q8_0 rows (the talker's cache when its weights are
// quantized): about half the bytes of bf16 per step, which is what long utterances are bound by.
#include "../include/tts_kernels.h"
#include <string.h>

// out[h] = sum_j p[h][j] * v_j over q8_0 rows, accumulating in key order.
void tts_attention_values_q8_0_ref(const uint8_t *v, const float *p, float *out, int64_t n_heads, int64_t n_keys,
                                   int64_t head_dim) {
    const int64_t nb = head_dim / 32, row_bytes = nb * TTS_Q8_0_BLOCK_BYTES;
    memset(out, 0, (size_t)(n_heads * head_dim) * sizeof(float));
    for (int64_t j = 0; j < n_keys; j++) {
        const uint8_t *row = v + j * row_bytes;
        for (int64_t b = 0; b < nb; b++) {
            const uint8_t *blk = row + b * TTS_Q8_0_BLOCK_BYTES;
            uint16_t dh;
            memcpy(&dh, blk, 2);
            const float d = tts_f16_to_f32(dh);
            float values[32];
            for (int i = 0; i < 32; i++) values[i] = (float)(int8_t)blk[2 + i];
            for (int64_t h = 0; h < n_heads; h++) {
                const float w = p[h * n_keys + j] * d;
                float *o = out + h * head_dim + b * 32;
                for (int i = 0; i < 32; i++) o[i] += w * values[i];
            }
        }
    }
}

void tts_attention_group_q8kv_with(tts_attention_values_q8_0_fn values, const float *q, int64_t n_heads, const uint8_t *k,
                                   const uint8_t *v, float *out, float *scores, int64_t n_keys, int64_t head_dim, float scale) {
    // Each head's scores are a q8_0 matrix-vector product with the keys as rows (one head at a
    // time: the matrix-vector kernels are faster than the several-token ones, and the second
    // head reads the keys from L2).
    for (int64_t h = 0; h < n_heads; h++) {
        float *s = scores + h * n_keys;
        tts_matmul_q8_0(k, q + h * head_dim, s, n_keys, head_dim, 1, 0, n_keys);
        for (int64_t j = 0; j < n_keys; j++) s[j] *= scale;
        tts_softmax_f32(s, n_keys);
    }
    values(v, scores, out, n_heads, n_keys, head_dim);
}
