/* fuzz_config.c — libFuzzer harness for the config file parser
 * (server/config.c): any file is applied or refused with a message naming
 * the key; a refused file leaves the configuration unchanged. */
#include "fuzz_util.h"
#include "server/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fuzz_scratch_dir();
    if (!dir)
        return 0;
    char path[600];
    snprintf(path, sizeof path, "%s/convd.json", dir);
    if (fuzz_write_file(path, data, size))
        return 0;
    static struct cd_config c, before;
    cd_config_defaults(&c);
    before = c;
    struct cd_err err = {0};
    if (cd_config_load_file(&c, path, &err) != 0 && memcmp(&c, &before, sizeof c) != 0)
        abort();   /* a refused file changed the configuration */
    return 0;
}
