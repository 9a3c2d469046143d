// Opening a codec library at run time: the first candidate file name that loads and has every
// symbol wins; the outcome (success or the reason) is kept for the life of the process. When the
// library's environment variable is set (QWEN3_TTS_LAME=/opt/lame/lib/libmp3lame.so, ...), that
// file is the only candidate.
#ifndef TTS_CODECS_LOADER_H
#define TTS_CODECS_LOADER_H

#include <pthread.h>
#include <stddef.h>

typedef struct {
    const char *const *files;    // candidate file names, NULL-terminated
    const char *const *symbols;  // symbols to resolve, NULL-terminated
    const char *what;            // e.g. "LAME (libmp3lame)"
    const char *install;         // how to install it, e.g. "apt install libmp3lame0"
    const char *env;             // environment variable naming the one file to use instead
    void **slots;                // one slot per symbol, filled on success
    pthread_once_t once;
    int loaded;
    char why[512];
} tts_library;

/// Loads `lib` once; 1 when every symbol resolved.
int tts_library_load(tts_library *lib);

/// Writes "<what> is not available: <why>" into err (for the open functions).
void tts_library_error(tts_library *lib, char *err, size_t err_size);

/// Formats a message into err (no-op when err is NULL or empty).
void tts_codec_error(char *err, size_t err_size, const char *format, ...) __attribute__((format(printf, 3, 4)));

#endif
