/* fuzz_safetensors.c — libFuzzer harness for the .safetensors parser
 * (engine/safetensors.c) on a memory buffer: every tensor it exposes must
 * lie inside the buffer and be findable by name. */
#include "engine/safetensors.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    if (size)
        memcpy(copy, data, size);
    struct cd_safetensors *st = NULL;
    struct cd_err err = {0};
    if (cd_safetensors_parse_buffer(copy, size, &st, &err) == 0) {
        for (int i = 0; i < st->n; i++) {
            const struct cd_st_tensor *t = &st->t[i];
            const uint8_t *p = t->data;
            if (t->nbytes && (p < copy || p + t->nbytes > copy + size))
                abort();   /* a tensor outside the buffer */
            if (cd_safetensors_find(st, t->name) != t)
                abort();   /* names must be unique and sorted */
        }
        cd_safetensors_free(st);
    }
    free(copy);
    return 0;
}
