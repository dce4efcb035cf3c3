/* fuzz_model.c — libFuzzer harness for model loading (engine/model.c and
 * everything it calls: model.json, attributes, preprocess spec, graph
 * validation, shape inference, safetensors) followed by the load-time
 * passes. Input: 4 bytes little-endian n, then n bytes of model.json, then
 * the weights file (weights.safetensors); both are written to a scratch
 * folder and loaded as the daemon would. */
#include "engine/model.h"
#include "engine/passes.h"
#include "fuzz_util.h"

#include <stdint.h>
#include <stdio.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    size_t n = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 |
               (size_t)data[3] << 24;
    data += 4;
    size -= 4;
    if (n > size)
        n = size;
    const char *dir = fuzz_scratch_dir();
    if (!dir)
        return 0;
    char pj[600], pw[600];
    snprintf(pj, sizeof pj, "%s/model.json", dir);
    snprintf(pw, sizeof pw, "%s/weights.safetensors", dir);
    if (fuzz_write_file(pj, data, n) || fuzz_write_file(pw, data + n, size - n))
        return 0;
    struct cd_model *m = NULL;
    struct cd_err err = {0};
    if (cd_model_load(dir, &m, &err) == 0) {
        struct cd_pass_stats st = {0};
        cd_passes_run(&m->g, &st, &err);
        cd_model_unref(m);
    }
    return 0;
}
