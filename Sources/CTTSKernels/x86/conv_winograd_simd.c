// Winograd F(4,4) transforms compiled for AVX2 and AVX-512: the shared tile code of
// conv_winograd_internal.h, vectorized over channels by each target's build.
#if defined(__x86_64__)
#include "../include/tts_kernels.h"
#include "../ref/conv_winograd_internal.h"

#define TTS_AVX2 __attribute__((target("avx2,fma")))
#define TTS_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,fma")))

TTS_AVX2 void tts_wino_input_avx2(const float *const x[TTS_WINO_POINTS], float *const u[TTS_WINO_POINTS], int64_t n) {
    tts_wino_input_tile(x[0], x[1], x[2], x[3], x[4], x[5], x[6], u[0], u[1], u[2], u[3], u[4], u[5], u[6], n);
}

TTS_AVX2 void tts_wino_output_avx2(const float *const m[TTS_WINO_POINTS], const float *bias, float *const y[TTS_WINO_TILE],
                                   int64_t n) {
    tts_wino_output_tile(m[0], m[1], m[2], m[3], m[4], m[5], m[6], bias, y[0], y[1], y[2], y[3], n);
}

TTS_AVX512 void tts_wino_input_avx512(const float *const x[TTS_WINO_POINTS], float *const u[TTS_WINO_POINTS], int64_t n) {
    tts_wino_input_tile(x[0], x[1], x[2], x[3], x[4], x[5], x[6], u[0], u[1], u[2], u[3], u[4], u[5], u[6], n);
}

TTS_AVX512 void tts_wino_output_avx512(const float *const m[TTS_WINO_POINTS], const float *bias, float *const y[TTS_WINO_TILE],
                                       int64_t n) {
    tts_wino_output_tile(m[0], m[1], m[2], m[3], m[4], m[5], m[6], bias, y[0], y[1], y[2], y[3], n);
}
#endif
