/* fuzz_multipart.c — libFuzzer harness for the multipart/form-data parser
 * (server/multipart.c). The input is "<content-type line>\n<body>": the
 * Content-Type (boundary included) is fuzzed along with the body. A found
 * part must lie inside the body. */
#include "server/multipart.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size < 300 ? size : 300);
    size_t ct_len = nl ? (size_t)(nl - data) : 0;
    char *ct = malloc(ct_len + 1);
    if (!ct)
        return 0;
    memcpy(ct, data, ct_len);
    ct[ct_len] = '\0';
    const uint8_t *body = nl ? nl + 1 : data;
    size_t len = size - (size_t)(body - data);
    /* The body in its own allocation, so ASan sees any read past its end. */
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) {
        free(ct);
        return 0;
    }
    if (len)
        memcpy(copy, body, len);
    struct cd_err err = {0};
    const void *part;
    size_t part_len;
    char ptype[64];
    const char *fields[] = {NULL, "file", "image"};
    for (int i = 0; i < 3; i++) {
        if (cd_multipart_find_file(ct, copy, len, fields[i], &part, &part_len, ptype,
                                   sizeof ptype, &err) == 0) {
            const uint8_t *p = part;
            if (p < copy || p + part_len > copy + len)
                abort();   /* the answer must point into the body */
        }
    }
    free(copy);
    free(ct);
    return 0;
}
