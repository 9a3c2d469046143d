// MP3 through LAME, opened at run time. Declarations below are LAME's documented API (lame.h).
#include "tts_codecs.h"
#include "loader.h"

#include <stdlib.h>

typedef void *lame_t;
enum { LAME_MONO = 3 };

enum {
    L_INIT, L_CHANNELS, L_IN_RATE, L_OUT_RATE, L_MODE, L_BRATE, L_QUALITY, L_VBR_TAG, L_PARAMS,
    L_ENCODE_FLOAT, L_FLUSH, L_CLOSE, L_COUNT
};
static const char *const files[] = {
    "libmp3lame.so.0", "libmp3lame.so", "libmp3lame.0.dylib", "/opt/homebrew/lib/libmp3lame.0.dylib",
    "/usr/local/lib/libmp3lame.0.dylib", NULL,
};
static const char *const symbols[] = {
    "lame_init", "lame_set_num_channels", "lame_set_in_samplerate", "lame_set_out_samplerate",
    "lame_set_mode", "lame_set_brate", "lame_set_quality", "lame_set_bWriteVbrTag", "lame_init_params",
    "lame_encode_buffer_ieee_float", "lame_encode_flush", "lame_close", NULL,
};
static void *slots[L_COUNT];
static tts_library lame = {
    .files = files, .symbols = symbols, .slots = slots, .once = PTHREAD_ONCE_INIT,
    .what = "mp3 needs LAME (libmp3lame), which",
    .env = "QWEN3_TTS_LAME",
    .install = "apt install libmp3lame0 (Fedora: dnf install lame-libs; macOS: brew install lame)",
};

typedef int (*set_int)(lame_t, int);

struct tts_mp3 { lame_t lame; };

int tts_mp3_library(char *why, size_t why_size) {
    if (tts_library_load(&lame)) return 1;
    tts_library_error(&lame, why, why_size);
    return 0;
}

tts_mp3 *tts_mp3_open(int sample_rate, int kbps, char *err, size_t err_size) {
    if (!tts_mp3_library(err, err_size)) return NULL;
    lame_t l = ((lame_t (*)(void))slots[L_INIT])();
    if (!l) {
        tts_codec_error(err, err_size, "lame_init failed");
        return NULL;
    }
    int bad = ((set_int)slots[L_CHANNELS])(l, 1) | ((set_int)slots[L_IN_RATE])(l, sample_rate)
            | ((set_int)slots[L_OUT_RATE])(l, sample_rate) | ((set_int)slots[L_MODE])(l, LAME_MONO)
            | ((set_int)slots[L_BRATE])(l, kbps) | ((set_int)slots[L_QUALITY])(l, 3)
            | ((set_int)slots[L_VBR_TAG])(l, 0);
    if (bad || ((int (*)(lame_t))slots[L_PARAMS])(l) < 0) {
        tts_codec_error(err, err_size, "LAME refused %d Hz mono at %d kbit/s", sample_rate, kbps);
        ((int (*)(lame_t))slots[L_CLOSE])(l);
        return NULL;
    }
    tts_mp3 *h = malloc(sizeof *h);
    if (!h) {
        ((int (*)(lame_t))slots[L_CLOSE])(l);
        tts_codec_error(err, err_size, "out of memory");
        return NULL;
    }
    h->lame = l;
    return h;
}

int tts_mp3_encode(tts_mp3 *h, const float *pcm, int n, uint8_t *out, int cap) {
    typedef int (*encode)(lame_t, const float *, const float *, int, unsigned char *, int);
    // Mono: the right channel is not read; passing the left keeps every pointer valid.
    return ((encode)slots[L_ENCODE_FLOAT])(h->lame, pcm, pcm, n, out, cap);
}

int tts_mp3_flush(tts_mp3 *h, uint8_t *out, int cap) {
    return ((int (*)(lame_t, unsigned char *, int))slots[L_FLUSH])(h->lame, out, cap);
}

void tts_mp3_close(tts_mp3 *h) {
    if (!h) return;
    ((int (*)(lame_t))slots[L_CLOSE])(h->lame);
    free(h);
}
