#include "loader.h"

#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// pthread_once passes no argument: the library being loaded is handed over in a thread-local.
static __thread tts_library *loading;

static void load_once(void) {
    tts_library *lib = loading;
    size_t used = 0;
    const char *chosen[2] = {getenv(lib->env), NULL};
    const char *const *files = chosen[0] && *chosen[0] ? chosen : lib->files;
    used += (size_t)snprintf(lib->why + used, sizeof lib->why - used, "tried");
    for (const char *const *file = files; *file; file++) {
        void *handle = dlopen(*file, RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            if (used < sizeof lib->why) used += (size_t)snprintf(lib->why + used, sizeof lib->why - used, " %s", *file);
            continue;
        }
        size_t i = 0;
        for (; lib->symbols[i]; i++) {
            lib->slots[i] = dlsym(handle, lib->symbols[i]);
            if (!lib->slots[i]) break;
        }
        if (!lib->symbols[i]) {
            lib->loaded = 1;
            return;
        }
        if (used < sizeof lib->why)
            used += (size_t)snprintf(lib->why + used, sizeof lib->why - used, " %s (lacks %s)", *file, lib->symbols[i]);
        dlclose(handle);
    }
    if (files == chosen && used < sizeof lib->why)
        used += (size_t)snprintf(lib->why + used, sizeof lib->why - used, " (set by %s)", lib->env);
    if (used < sizeof lib->why) snprintf(lib->why + used, sizeof lib->why - used, "; install it with: %s", lib->install);
}

int tts_library_load(tts_library *lib) {
    loading = lib;
    pthread_once(&lib->once, load_once);
    loading = NULL;
    return lib->loaded;
}

void tts_codec_error(char *err, size_t err_size, const char *format, ...) {
    if (!err || err_size == 0) return;
    va_list args;
    va_start(args, format);
    vsnprintf(err, err_size, format, args);
    va_end(args);
}

void tts_library_error(tts_library *lib, char *err, size_t err_size) {
    tts_codec_error(err, err_size, "%s is not available (%s)", lib->what, lib->why);
}
