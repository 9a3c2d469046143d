// Throughput of the q4_k matrix-vector product (tts_q4_k_vnni_matmul_tokens with one token, as
// the runtime calls it) against where its weights live: a set of 3072 x 1024 matrices (1.8 MB
// each, the code predictor's MLP shape) is multiplied in turn, so one matrix stays in L2, 26 of
// them (47 MB, the code predictor's layers) in L3 and 150 (270 MB, more than the talker) come
// from memory. One thread, or two splitting each matrix's rows as the thread pool does; each
// timing covers at least 26 products so that starting the second thread does not count. Best
// of 20. Not part of the build; see docs/BENCHMARKS.md for how to compile and run it.
#include "tts_kernels.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { ROWS = 3072, COLS = 1024 };

typedef struct {
    uint8_t **nib, **meta;
    int count, loops, part, parts;
    const int8_t *xq;
    const float *xd;
    const int32_t *xsum;
    float *y;
} pass_args;

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *pass(void *p) {
    const pass_args *a = p;
    int64_t r0 = (int64_t)ROWS * a->part / a->parts, r1 = (int64_t)ROWS * (a->part + 1) / a->parts;
    for (int l = 0; l < a->loops; l++)
        for (int m = 0; m < a->count; m++)
            tts_q4_k_vnni_matmul_tokens(a->nib[m], a->meta[m], a->xq, a->xd, a->xsum, a->y, ROWS, COLS, 1, r0, r1);
    return NULL;
}

int main(void) {
    if (!tts_q4_k_vnni_supported()) {
        printf("no VNNI q4_k path on this CPU\n");
        return 0;
    }
    const int64_t nib_bytes = ROWS * COLS / 2, meta_bytes = ROWS * (COLS / 512) * TTS_Q4_K_VNNI_META_BYTES;
    float *w = malloc(sizeof(float) * ROWS * COLS);
    uint8_t *q4 = malloc((size_t)(ROWS * COLS / 256 * 144));
    if (!w || !q4) return 1;
    for (int64_t i = 0; i < ROWS * COLS; i++) w[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    tts_quantize_q4_k(w, q4, ROWS * COLS);
    enum { MAX_SET = 150 };
    uint8_t *nib[MAX_SET], *meta[MAX_SET];
    for (int m = 0; m < MAX_SET; m++) {
        nib[m] = malloc((size_t)nib_bytes);
        meta[m] = malloc((size_t)meta_bytes);
        if (!nib[m] || !meta[m]) return 1;
        tts_q4_k_vnni_repack(q4, ROWS, COLS, nib[m], meta[m]);
    }
    float x[COLS], xd[COLS / 256], y[ROWS];
    int8_t xq[COLS];
    int32_t xsum[COLS / 32];
    for (int i = 0; i < COLS; i++) x[i] = (float)(i % 17) / 17.0f - 0.5f;
    tts_q4_k_vnni_quantize_x(x, COLS, xq, xd, xsum);
    const int sets[] = {1, 26, MAX_SET};
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        int loops = sets[s] >= 26 ? 1 : 26 / sets[s];
        for (int threads = 1; threads <= 2; threads++) {
            double best = 1e9;
            for (int rep = 0; rep < 20; rep++) {
                pass_args a[2];
                for (int p = 0; p < threads; p++)
                    a[p] = (pass_args){nib, meta, sets[s], loops, p, threads, xq, xd, xsum, y};
                double t0 = seconds();
                pthread_t helper;
                if (threads == 2 && pthread_create(&helper, NULL, pass, &a[1]) != 0) return 1;
                pass(&a[0]);
                if (threads == 2) pthread_join(helper, NULL);
                double t = (seconds() - t0) / (sets[s] * loops);
                if (t < best) best = t;
            }
            double bytes = (double)(nib_bytes + meta_bytes);
            printf("%3d matrices (%6.1f MB), %d thread%s: %7.1f us per matrix, %5.1f GB/s\n", sets[s],
                   sets[s] * bytes / 1e6, threads, threads == 1 ? " " : "s", best * 1e6, bytes / best / 1e9);
        }
    }
    return 0;
}
