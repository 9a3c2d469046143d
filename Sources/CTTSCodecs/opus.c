// Opus through libopus, opened at run time. Declarations below are libopus's documented API
// (opus.h, opus_defines.h).
#include "tts_codecs.h"
#include "loader.h"

#include <stdlib.h>

enum { OPUS_APPLICATION_AUDIO = 2049, OPUS_SET_BITRATE_REQUEST = 4002, OPUS_GET_LOOKAHEAD_REQUEST = 4027 };
enum { O_CREATE, O_ENCODE_FLOAT, O_CTL, O_DESTROY, O_STRERROR, O_COUNT };
static const char *const files[] = {
    "libopus.so.0", "libopus.so", "libopus.0.dylib", "/opt/homebrew/lib/libopus.0.dylib", "/usr/local/lib/libopus.0.dylib", NULL,
};
static const char *const symbols[] = {
    "opus_encoder_create", "opus_encode_float", "opus_encoder_ctl", "opus_encoder_destroy", "opus_strerror", NULL,
};
static void *slots[O_COUNT];
static tts_library opus = {
    .files = files, .symbols = symbols, .slots = slots, .once = PTHREAD_ONCE_INIT,
    .what = "opus needs libopus, which",
    .env = "QWEN3_TTS_OPUS",
    .install = "apt install libopus0 (Fedora: dnf install opus; macOS: brew install opus)",
};

typedef void OpusEncoder;
struct tts_opus { OpusEncoder *encoder; };

static const char *describe(int code) { return ((const char *(*)(int))slots[O_STRERROR])(code); }

int tts_opus_library(char *why, size_t why_size) {
    if (tts_library_load(&opus)) return 1;
    tts_library_error(&opus, why, why_size);
    return 0;
}

tts_opus *tts_opus_open(int sample_rate, int bitrate, int *lookahead, char *err, size_t err_size) {
    if (!tts_opus_library(err, err_size)) return NULL;
    int status = 0;
    OpusEncoder *e = ((OpusEncoder *(*)(int32_t, int, int, int *))slots[O_CREATE])(sample_rate, 1, OPUS_APPLICATION_AUDIO, &status);
    if (!e || status != 0) {
        tts_codec_error(err, err_size, "opus_encoder_create(%d Hz): %s", sample_rate, describe(status));
        return NULL;
    }
    int (*ctl)(OpusEncoder *, int, ...) = (int (*)(OpusEncoder *, int, ...))slots[O_CTL];
    int32_t delay = 0;
    if ((status = ctl(e, OPUS_SET_BITRATE_REQUEST, (int32_t)bitrate)) != 0 || (status = ctl(e, OPUS_GET_LOOKAHEAD_REQUEST, &delay)) != 0) {
        tts_codec_error(err, err_size, "opus_encoder_ctl: %s", describe(status));
        ((void (*)(OpusEncoder *))slots[O_DESTROY])(e);
        return NULL;
    }
    tts_opus *h = malloc(sizeof *h);
    if (!h) {
        ((void (*)(OpusEncoder *))slots[O_DESTROY])(e);
        tts_codec_error(err, err_size, "out of memory");
        return NULL;
    }
    h->encoder = e;
    *lookahead = (int)delay;
    return h;
}

int tts_opus_encode(tts_opus *h, const float *pcm, int frame, uint8_t *out, int cap) {
    typedef int32_t (*encode)(OpusEncoder *, const float *, int, unsigned char *, int32_t);
    return (int)((encode)slots[O_ENCODE_FLOAT])(h->encoder, pcm, frame, out, cap);
}

void tts_opus_close(tts_opus *h) {
    if (!h) return;
    ((void (*)(OpusEncoder *))slots[O_DESTROY])(h->encoder);
    free(h);
}
