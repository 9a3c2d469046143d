#include "tts_codecs.h"

int tts_mp3_library(char *why, size_t why_size);
int tts_opus_library(char *why, size_t why_size);
int tts_flac_library(char *why, size_t why_size);
int tts_aac_library(char *why, size_t why_size);

int tts_codec_available(tts_codec_kind kind, char *why, size_t why_size) {
    switch (kind) {
    case TTS_CODEC_MP3: return tts_mp3_library(why, why_size);
    case TTS_CODEC_OPUS: return tts_opus_library(why, why_size);
    case TTS_CODEC_FLAC: return tts_flac_library(why, why_size);
    case TTS_CODEC_AAC: return tts_aac_library(why, why_size);
    }
    return 0;
}
