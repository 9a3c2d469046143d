// AAC-LC through libavcodec's native encoder, opened at run time.
//
// libavcodec's structs change between major versions, so they are not declared here. Settings go
// through AVOptions (by name); the sample format, which has no option, goes through an
// AVCodecParameters copy of the context. The frames handed to the encoder are made by
// libavcodec's own pcm_f32le decoder, which fills in every field (channel layout included) for
// the version that is loaded. Only leading fields are touched, at offsets that have not moved
// since FFmpeg 3.1 (2016): AVFrame {data[8], linesize[8], extended_data, width, height,
// nb_samples, format}, AVPacket {buf, pts, dts, data, size} and AVCodecParameters {codec_type,
// codec_id, codec_tag, extradata, extradata_size, format}.
#include "tts_codecs.h"
#include "loader.h"

#include <stdlib.h>
#include <string.h>

enum {
    A_FIND_ENCODER, A_FIND_DECODER, A_ALLOC_CONTEXT, A_OPEN, A_FREE_CONTEXT, A_SEND_FRAME, A_RECEIVE_PACKET,
    A_SEND_PACKET, A_RECEIVE_FRAME, A_PACKET_ALLOC, A_NEW_PACKET, A_PACKET_UNREF, A_PACKET_FREE,
    A_FRAME_ALLOC, A_FRAME_UNREF, A_FRAME_FREE, A_OPT_SET, A_OPT_SET_INT, A_OPT_GET_INT,
    A_STRERROR, A_PARAMS_ALLOC, A_PARAMS_FREE, A_PARAMS_FROM_CONTEXT, A_PARAMS_TO_CONTEXT, A_COUNT
};
static const char *const files[] = {
    "libavcodec.so.61", "libavcodec.so.60", "libavcodec.so.59", "libavcodec.so.58", "libavcodec.so",
    "libavcodec.61.dylib", "libavcodec.60.dylib", "/opt/homebrew/lib/libavcodec.dylib", "/usr/local/lib/libavcodec.dylib", NULL,
};
// The av_* functions live in libavutil, which libavcodec depends on: dlsym finds them through it.
static const char *const symbols[] = {
    "avcodec_find_encoder_by_name", "avcodec_find_decoder_by_name", "avcodec_alloc_context3", "avcodec_open2",
    "avcodec_free_context", "avcodec_send_frame", "avcodec_receive_packet", "avcodec_send_packet",
    "avcodec_receive_frame", "av_packet_alloc", "av_new_packet", "av_packet_unref", "av_packet_free",
    "av_frame_alloc", "av_frame_unref", "av_frame_free", "av_opt_set", "av_opt_set_int",
    "av_opt_get_int", "av_strerror", "avcodec_parameters_alloc", "avcodec_parameters_free",
    "avcodec_parameters_from_context", "avcodec_parameters_to_context", NULL,
};
static void *slots[A_COUNT];
static tts_library avcodec = {
    .files = files, .symbols = symbols, .slots = slots, .once = PTHREAD_ONCE_INIT,
    .what = "aac needs libavcodec (FFmpeg), which",
    .env = "QWEN3_TTS_AVCODEC",
    .install = "apt install libavcodec59 (Debian 13: libavcodec61; Fedora: dnf install libavcodec-free; macOS: brew install ffmpeg)",
};

enum { SAMPLE_FMT_FLTP = 8, AVERROR_EAGAIN = -11 };
#define AVERROR_EOF (-(int)('E' | ('O' << 8) | ('F' << 16) | ((unsigned)' ' << 24)))
#define FRAME_NB_SAMPLES(f) (*(int *)((char *)(f) + 112))
#define FRAME_FORMAT(f) (*(int *)((char *)(f) + 116))
#define PACKET_DATA(p) (*(uint8_t **)((char *)(p) + 24))
#define PACKET_SIZE(p) (*(int *)((char *)(p) + 32))
#define PARAMETERS_FORMAT(p) (*(int *)((char *)(p) + 28))

#define CALL(slot, type) ((type)slots[slot])
typedef int (*opt_set_int)(void *, const char *, int64_t, int);

struct tts_aac {
    void *encoder, *decoder;  // AVCodecContext
    void *frame, *in, *out;   // AVFrame, AVPacket, AVPacket
};

int tts_aac_library(char *why, size_t why_size) {
    if (tts_library_load(&avcodec)) return 1;
    tts_library_error(&avcodec, why, why_size);
    return 0;
}

static void describe(int code, char *err, size_t err_size, const char *what) {
    char text[128] = "unknown error";
    CALL(A_STRERROR, int (*)(int, char *, size_t))(code, text, sizeof text);
    tts_codec_error(err, err_size, "%s: %s", what, text);
}

/// Mono at `rate`: FFmpeg 5.1 and later take a channel layout by name, earlier ones a count.
static int set_mono(void *context, int rate) {
    if (CALL(A_OPT_SET_INT, opt_set_int)(context, "ar", rate, 0) < 0) return -1;
    if (CALL(A_OPT_SET, int (*)(void *, const char *, const char *, int))(context, "ch_layout", "mono", 0) >= 0) return 0;
    return CALL(A_OPT_SET_INT, opt_set_int)(context, "ac", 1, 0);
}

/// The encoder's sample format: out to an AVCodecParameters, its format set, and back.
static int set_planar_float(void *context) {
    void *p = CALL(A_PARAMS_ALLOC, void *(*)(void))();
    if (!p) return -12;  // AVERROR(ENOMEM)
    int status = CALL(A_PARAMS_FROM_CONTEXT, int (*)(void *, const void *))(p, context);
    if (status >= 0) {
        PARAMETERS_FORMAT(p) = SAMPLE_FMT_FLTP;
        status = CALL(A_PARAMS_TO_CONTEXT, int (*)(void *, const void *))(context, p);
    }
    CALL(A_PARAMS_FREE, void (*)(void **))(&p);
    return status;
}

static void *open_context(const void *codec, int rate, int bitrate, char *err, size_t err_size, const char *name) {
    void *c = CALL(A_ALLOC_CONTEXT, void *(*)(const void *))(codec);
    if (!c) {
        tts_codec_error(err, err_size, "out of memory");
        return NULL;
    }
    int status = set_mono(c, rate);
    if (status >= 0 && bitrate > 0) {
        status = CALL(A_OPT_SET_INT, opt_set_int)(c, "b", bitrate, 0);
        if (status >= 0) status = set_planar_float(c);
    }
    if (status >= 0) status = CALL(A_OPEN, int (*)(void *, const void *, void *))(c, codec, NULL);
    if (status < 0) {
        describe(status, err, err_size, name);
        CALL(A_FREE_CONTEXT, void (*)(void **))(&c);
        return NULL;
    }
    return c;
}

tts_aac *tts_aac_open(int sample_rate, int bitrate, int *frame_size, char *err, size_t err_size) {
    if (!tts_aac_library(err, err_size)) return NULL;
    const void *encoder = CALL(A_FIND_ENCODER, const void *(*)(const char *))("aac");
    const void *decoder = CALL(A_FIND_DECODER, const void *(*)(const char *))("pcm_f32le");
    if (!encoder || !decoder) {
        tts_codec_error(err, err_size, "this libavcodec was built without the %s", encoder ? "pcm_f32le decoder" : "aac encoder");
        return NULL;
    }
    tts_aac *h = calloc(1, sizeof *h);
    if (!h) {
        tts_codec_error(err, err_size, "out of memory");
        return NULL;
    }
    int64_t size = 0;
    if (!(h->encoder = open_context(encoder, sample_rate, bitrate, err, err_size, "opening the aac encoder"))
        || !(h->decoder = open_context(decoder, sample_rate, 0, err, err_size, "opening the pcm_f32le decoder"))) {
        tts_aac_close(h);
        return NULL;
    }
    h->frame = CALL(A_FRAME_ALLOC, void *(*)(void))();
    h->in = CALL(A_PACKET_ALLOC, void *(*)(void))();
    h->out = CALL(A_PACKET_ALLOC, void *(*)(void))();
    if (!h->frame || !h->in || !h->out) {
        tts_codec_error(err, err_size, "out of memory");
        tts_aac_close(h);
        return NULL;
    }
    if (CALL(A_OPT_GET_INT, int (*)(void *, const char *, int, int64_t *))(h->encoder, "frame_size", 0, &size) < 0 || size <= 0 || size > 1 << 16) {
        tts_codec_error(err, err_size, "the aac encoder reports no frame size");
        tts_aac_close(h);
        return NULL;
    }
    *frame_size = (int)size;
    return h;
}

int tts_aac_send(tts_aac *h, const float *pcm, int n) {
    if (!pcm) return CALL(A_SEND_FRAME, int (*)(void *, const void *))(h->encoder, NULL);
    // Through the decoder: a frame exactly as this libavcodec lays it out, holding our samples.
    int status = CALL(A_NEW_PACKET, int (*)(void *, int))(h->in, n * (int)sizeof(float));
    if (status < 0) return status;
    memcpy(PACKET_DATA(h->in), pcm, (size_t)n * sizeof(float));
    status = CALL(A_SEND_PACKET, int (*)(void *, const void *))(h->decoder, h->in);
    CALL(A_PACKET_UNREF, void (*)(void *))(h->in);
    if (status < 0) return status;
    status = CALL(A_RECEIVE_FRAME, int (*)(void *, void *))(h->decoder, h->frame);
    if (status < 0) return status;
    if (FRAME_NB_SAMPLES(h->frame) != n) {
        CALL(A_FRAME_UNREF, void (*)(void *))(h->frame);
        return -1;
    }
    // One channel of floats is the same memory packed or planar; the encoder takes planar.
    FRAME_FORMAT(h->frame) = SAMPLE_FMT_FLTP;
    status = CALL(A_SEND_FRAME, int (*)(void *, const void *))(h->encoder, h->frame);
    CALL(A_FRAME_UNREF, void (*)(void *))(h->frame);
    return status < 0 ? status : 0;
}

int tts_aac_receive(tts_aac *h, uint8_t *out, int cap) {
    int status = CALL(A_RECEIVE_PACKET, int (*)(void *, void *))(h->encoder, h->out);
    if (status == AVERROR_EAGAIN || status == AVERROR_EOF) return 0;
    if (status < 0) return status;
    int size = PACKET_SIZE(h->out);
    if (size > cap) size = -1;
    else memcpy(out, PACKET_DATA(h->out), (size_t)size);
    CALL(A_PACKET_UNREF, void (*)(void *))(h->out);
    return size;
}

void tts_aac_close(tts_aac *h) {
    if (!h) return;
    if (h->encoder) CALL(A_FREE_CONTEXT, void (*)(void **))(&h->encoder);
    if (h->decoder) CALL(A_FREE_CONTEXT, void (*)(void **))(&h->decoder);
    if (h->frame) CALL(A_FRAME_FREE, void (*)(void **))(&h->frame);
    if (h->in) CALL(A_PACKET_FREE, void (*)(void **))(&h->in);
    if (h->out) CALL(A_PACKET_FREE, void (*)(void **))(&h->out);
    free(h);
}
