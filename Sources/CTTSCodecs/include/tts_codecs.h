// Thin C bindings to the audio codec libraries the server and the CLI encode with: LAME (mp3),
// libopus, libFLAC and libavcodec (aac). Each library is opened with dlopen the first time it is
// needed, so the build and the other formats never depend on it being installed; a format whose
// library is missing reports which one (tts_codec_available). Containers (Ogg, ADTS) are written
// in Swift (TTSAudio); these functions only turn PCM into codec frames.
#ifndef TTS_CODECS_H
#define TTS_CODECS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    TTS_CODEC_MP3 = 0,
    TTS_CODEC_OPUS = 1,
    TTS_CODEC_FLAC = 2,
    TTS_CODEC_AAC = 3,
} tts_codec_kind;

/// 1 when the codec's library loaded (and has every function used here), 0 otherwise; then
/// `why` (if not NULL) receives what was tried and what failed.
int tts_codec_available(tts_codec_kind kind, char *why, size_t why_size);

// MP3 (LAME): mono, constant bit rate, no Xing/LAME tag (a stream cannot seek back to fill it).
typedef struct tts_mp3 tts_mp3;
tts_mp3 *tts_mp3_open(int sample_rate, int kbps, char *err, size_t err_size);
/// Encodes `n` samples in [-1, 1]; returns the bytes written to `out` (may be 0), or < 0.
/// `cap` must be at least 1.25 * n + 7200.
int tts_mp3_encode(tts_mp3 *h, const float *pcm, int n, uint8_t *out, int cap);
/// The last frames (at most 7200 bytes).
int tts_mp3_flush(tts_mp3 *h, uint8_t *out, int cap);
void tts_mp3_close(tts_mp3 *h);

// Opus (libopus): mono; the caller cuts the PCM into frames of 2.5-60 ms and muxes the packets.
typedef struct tts_opus tts_opus;
/// `lookahead`: the encoder's delay in samples at `sample_rate` (the Ogg pre-skip).
tts_opus *tts_opus_open(int sample_rate, int bitrate, int *lookahead, char *err, size_t err_size);
/// One frame of exactly `frame` samples; returns the packet's length in `out`, or < 0.
int tts_opus_encode(tts_opus *h, const float *pcm, int frame, uint8_t *out, int cap);
void tts_opus_close(tts_opus *h);

// FLAC (libFLAC): mono, 16-bit, streamable subset; STREAMINFO carries unknown length and MD5
// (the stream is not seekable). Encoded bytes accumulate until taken.
typedef struct tts_flac tts_flac;
/// The "fLaC" marker and STREAMINFO are ready to take at once.
tts_flac *tts_flac_open(int sample_rate, int level, char *err, size_t err_size);
/// `n` 16-bit samples widened to int32; returns 0, or < 0.
int tts_flac_encode(tts_flac *h, const int32_t *pcm, int n);
/// Encodes what remains buffered (the last, short frame); returns 0, or < 0.
int tts_flac_finish(tts_flac *h);
/// The bytes encoded since the last take; valid until the next call on `h`.
const uint8_t *tts_flac_take(tts_flac *h, size_t *length);
void tts_flac_close(tts_flac *h);

// AAC-LC (libavcodec's native encoder), raw access units (the caller adds ADTS headers).
typedef struct tts_aac tts_aac;
/// `frame_size`: samples per access unit (1024); every frame passed but the last must have it.
tts_aac *tts_aac_open(int sample_rate, int bitrate, int *frame_size, char *err, size_t err_size);
/// Sends one frame of `n` samples, or the end of the stream when pcm is NULL; returns 0, or < 0.
int tts_aac_send(tts_aac *h, const float *pcm, int n);
/// The next access unit: its length (copied to `out`), 0 when none is ready, or < 0.
int tts_aac_receive(tts_aac *h, uint8_t *out, int cap);
void tts_aac_close(tts_aac *h);

#ifdef __cplusplus
}
#endif
#endif
