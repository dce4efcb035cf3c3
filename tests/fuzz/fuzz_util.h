/* fuzz_util.h — helpers shared by the libFuzzer harnesses: a per-process
 * scratch directory for the loaders that read files (config, model folder)
 * and writing a buffer to a file in it. Harness-only; never linked into
 * the daemon. */
#ifndef CD_FUZZ_UTIL_H
#define CD_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A directory private to this process, created on first use (under $TMPDIR
 * or /tmp) and reused for every input; NULL if it cannot be made. */
static const char *fuzz_scratch_dir(void)
{
    static char dir[512];
    if (dir[0])
        return dir;
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/convd-fuzz-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(dir)) {
        dir[0] = '\0';
        return NULL;
    }
    return dir;
}

/* Writes len bytes to path; 0 on success. */
static int fuzz_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = len ? fwrite(data, 1, len, f) : 0;
    int rc = fclose(f);
    return (n == len && rc == 0) ? 0 : -1;
}

#endif
