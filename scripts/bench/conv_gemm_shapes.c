// Throughput of the packed conv GEMM (tts_conv_gemm_f32, whichever path dispatch picks) on the
// speech decoder's shapes for 25 frames, one thread, best of 5. Not part of the build; see
// docs/BENCHMARKS.md for how to compile and run it.
#include "tts_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void) {
    // cin, cout, k, dilation, tokens: residual convs of the four decoder blocks (k7 and k1) and the
    // transposed convs as phase convs (k2, s*cout channels).
    static const int shapes[][5] = {
        {768, 768, 7, 1, 800},    {768, 768, 7, 9, 800},   {768, 768, 1, 1, 800},     {384, 384, 7, 3, 4000},
        {192, 192, 7, 9, 16000},  {96, 96, 7, 1, 48000},   {96, 96, 7, 9, 48000},     {96, 96, 1, 1, 48000},
        {1536, 6144, 2, 1, 100},  {768, 1920, 2, 1, 800},  {384, 768, 2, 1, 4000},    {192, 288, 2, 1, 16000},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t cin = shapes[s][0], cout = shapes[s][1], k = shapes[s][2], d = shapes[s][3], t = shapes[s][4];
        int64_t rows = t + (k - 1) * d, packed_count = tts_conv_packed_count(cin, cout, k);
        float *x = malloc(sizeof(float) * (size_t)(rows * cin)), *w = malloc(sizeof(float) * (size_t)(cout * cin * k));
        float *y = malloc(sizeof(float) * (size_t)(t * cout)), *b = malloc(sizeof(float) * (size_t)cout);
        float *p = malloc(sizeof(float) * (size_t)packed_count);
        if (!x || !w || !y || !b || !p) return 1;
        for (int64_t i = 0; i < rows * cin; i++) x[i] = (float)(i % 13) * 0.01f;
        for (int64_t i = 0; i < cout * cin * k; i++) w[i] = (float)(i % 7) * 0.01f;
        for (int64_t i = 0; i < cout; i++) b[i] = 0.1f;
        tts_conv_pack_f32(w, p, cin, cout, k);
        double best = 1e9;
        for (int r = 0; r < 6; r++) {  // the first run warms the caches
            double t0 = seconds();
            tts_conv_gemm_f32(x, p, b, y, cin, cout, k, d, 0, t, 0, cout, NULL);
            double e = seconds() - t0;
            if (r > 0 && e < best) best = e;
        }
        printf("cin %5lld cout %5lld k %lld d %lld tokens %6lld: %7.2f ms %6.1f GFLOP/s", (long long)cin, (long long)cout,
               (long long)k, (long long)d, (long long)t, best * 1e3, 2.0 * (double)(t * cin * cout * k) / best * 1e-9);
        if (k == 7) {  // the same conv by Winograd F(4,4) (tts_conv7_wino_f32), and its effective rate
            float *wp = malloc(sizeof(float) * (size_t)tts_conv7_wino_packed_count(cin, cout));
            int64_t blocks = tts_conv7_wino_blocks(t, d);
            float *scratch = malloc(sizeof(float) * (size_t)tts_conv7_wino_scratch_count(cin, cout, d, blocks));
            if (!wp || !scratch) return 1;
            tts_conv7_wino_pack_f32(w, wp, cin, cout);
            double wbest = 1e9;
            for (int r = 0; r < 6; r++) {
                double t0 = seconds();
                tts_conv7_wino_f32(x, wp, b, y, cin, cout, d, t, 0, blocks, 0, cout, scratch);
                double e = seconds() - t0;
                if (r > 0 && e < wbest) wbest = e;
            }
            printf("  winograd %7.2f ms (%.2fx)", wbest * 1e3, best / wbest);
            free(wp); free(scratch);
        }
        printf("\n");
        free(x); free(w); free(y); free(b); free(p);
    }
    return 0;
}
