// FLAC through libFLAC, opened at run time. Declarations below are libFLAC's documented API
// (FLAC/stream_encoder.h); FLAC__bool is an int, its enums are ints with OK = 0.
#include "tts_codecs.h"
#include "loader.h"

#include <stdlib.h>
#include <string.h>

enum {
    F_NEW, F_CHANNELS, F_BITS, F_RATE, F_LEVEL, F_SUBSET, F_INIT_STREAM, F_PROCESS, F_FINISH, F_DELETE, F_COUNT
};
static const char *const files[] = {
    "libFLAC.so.14", "libFLAC.so.12", "libFLAC.so.8", "libFLAC.so", "libFLAC.14.dylib", "libFLAC.12.dylib",
    "/opt/homebrew/lib/libFLAC.14.dylib", "/opt/homebrew/lib/libFLAC.12.dylib", "/usr/local/lib/libFLAC.12.dylib", NULL,
};
static const char *const symbols[] = {
    "FLAC__stream_encoder_new", "FLAC__stream_encoder_set_channels", "FLAC__stream_encoder_set_bits_per_sample",
    "FLAC__stream_encoder_set_sample_rate", "FLAC__stream_encoder_set_compression_level",
    "FLAC__stream_encoder_set_streamable_subset", "FLAC__stream_encoder_init_stream",
    "FLAC__stream_encoder_process_interleaved", "FLAC__stream_encoder_finish", "FLAC__stream_encoder_delete", NULL,
};
static void *slots[F_COUNT];
static tts_library flac = {
    .files = files, .symbols = symbols, .slots = slots, .once = PTHREAD_ONCE_INIT,
    .what = "flac needs libFLAC, which",
    .env = "QWEN3_TTS_FLAC",
    .install = "apt install libflac12 (Debian 13: libflac14; Fedora: dnf install flac-libs; macOS: brew install flac)",
};

typedef void Encoder;
typedef int (*set_uint)(Encoder *, unsigned);
typedef int (*write_callback)(const Encoder *, const uint8_t *, size_t, uint32_t, uint32_t, void *);

struct tts_flac {
    Encoder *encoder;
    uint8_t *bytes;
    size_t length, capacity, taken;
    int failed;
    int finished;
};

int tts_flac_library(char *why, size_t why_size) {
    if (tts_library_load(&flac)) return 1;
    tts_library_error(&flac, why, why_size);
    return 0;
}

static int collect(const Encoder *e, const uint8_t *buffer, size_t bytes, uint32_t samples, uint32_t frame, void *context) {
    (void)e, (void)samples, (void)frame;
    tts_flac *h = context;
    if (h->length + bytes > h->capacity) {
        size_t capacity = h->capacity ? h->capacity : 8192;
        while (capacity < h->length + bytes) capacity *= 2;
        uint8_t *grown = realloc(h->bytes, capacity);
        if (!grown) {
            h->failed = 1;
            return 1;  // FLAC__STREAM_ENCODER_WRITE_STATUS_FATAL_ERROR
        }
        h->bytes = grown;
        h->capacity = capacity;
    }
    memcpy(h->bytes + h->length, buffer, bytes);
    h->length += bytes;
    return 0;
}

tts_flac *tts_flac_open(int sample_rate, int level, char *err, size_t err_size) {
    if (!tts_flac_library(err, err_size)) return NULL;
    tts_flac *h = calloc(1, sizeof *h);
    if (!h || !(h->encoder = ((Encoder *(*)(void))slots[F_NEW])())) {
        free(h);
        tts_codec_error(err, err_size, "FLAC__stream_encoder_new failed");
        return NULL;
    }
    int ok = ((set_uint)slots[F_CHANNELS])(h->encoder, 1) && ((set_uint)slots[F_BITS])(h->encoder, 16)
          && ((set_uint)slots[F_RATE])(h->encoder, (unsigned)sample_rate) && ((set_uint)slots[F_LEVEL])(h->encoder, (unsigned)level)
          && ((int (*)(Encoder *, int))slots[F_SUBSET])(h->encoder, 1);
    typedef int (*init_stream)(Encoder *, write_callback, void *, void *, void *, void *);
    int status = ok ? ((init_stream)slots[F_INIT_STREAM])(h->encoder, collect, NULL, NULL, NULL, h) : -1;
    if (status != 0) {
        tts_codec_error(err, err_size, "libFLAC refused %d Hz mono 16-bit at level %d (status %d)", sample_rate, level, status);
        tts_flac_close(h);
        return NULL;
    }
    return h;
}

int tts_flac_encode(tts_flac *h, const int32_t *pcm, int n) {
    if (h->finished) return -1;
    int ok = ((int (*)(Encoder *, const int32_t *, unsigned))slots[F_PROCESS])(h->encoder, pcm, (unsigned)n);
    return ok && !h->failed ? 0 : -1;
}

int tts_flac_finish(tts_flac *h) {
    if (h->finished) return -1;
    h->finished = 1;
    int ok = ((int (*)(Encoder *))slots[F_FINISH])(h->encoder);
    return ok && !h->failed ? 0 : -1;
}

const uint8_t *tts_flac_take(tts_flac *h, size_t *length) {
    // What was taken last time is dropped now; the rest moves to the front.
    if (h->taken) {
        memmove(h->bytes, h->bytes + h->taken, h->length - h->taken);
        h->length -= h->taken;
    }
    h->taken = h->length;
    *length = h->length;
    return h->bytes;
}

void tts_flac_close(tts_flac *h) {
    if (!h) return;
    if (h->encoder) {
        if (!h->finished) ((int (*)(Encoder *))slots[F_FINISH])(h->encoder);
        ((void (*)(Encoder *))slots[F_DELETE])(h->encoder);
    }
    free(h->bytes);
    free(h);
}
