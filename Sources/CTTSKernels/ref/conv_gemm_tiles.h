// The tiling of the conv GEMM shared by the AVX2 and NEON kernels (internal to CTTSKernels).
#ifndef TTS_CONV_GEMM_TILES_H
#define TTS_CONV_GEMM_TILES_H

// Within a kernel taking tts_conv_gemm_f32's arguments: token blocks of TB (a block's input rows
// stay in cache while each 32-channel weight block passes over them), tiles of TOKENS tokens,
// then one shorter tile. TILE(t, nt, o, wb) computes nt tokens from t for the channel block at o
// (weights wb); nt is a constant in every call, so an inlined tile is specialized for it.
#define TTS_CONV_GEMM_TILES(TB, TOKENS, TILE)                                  \
    for (int64_t tb = t0; tb < t1; tb += (TB)) {                               \
        int64_t te = tb + (TB) < t1 ? tb + (TB) : t1;                          \
        for (int64_t o = o0; o < o1; o += 32) {                                \
            const float *wb = packed + (o / 32) * k * cin * 32;                \
            int64_t t = tb;                                                    \
            for (; t + (TOKENS) <= te; t += (TOKENS)) TILE(t, (TOKENS), o, wb); \
            for (int rest = (TOKENS) - 1; rest >= 1; rest--)                   \
                if (te - t == rest) TILE(t, rest, o, wb);                      \
        }                                                                      \
    }
#endif
