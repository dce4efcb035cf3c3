/* fuzz_kserve.c — libFuzzer harness for the KServe v2 request parser
 * (server/kserve.c), JSON and binary tensor data extension. The first two
 * bytes (little-endian) give the Inference-Header-Content-Length (0 = JSON
 * only); the rest is the body. The spec is a 3x4x4 image model with two
 * outputs. On success the response builder runs on the parsed batch. */
#include "server/kserve.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t header_len = (size_t)data[0] | (size_t)data[1] << 8;
    const uint8_t *body = data + 2;
    size_t len = size - 2;
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return 0;
    if (len)
        memcpy(copy, body, len);
    static const int64_t dims[3] = {3, 4, 4};
    static const char *const outs[2] = {"fc", "prob"};
    struct cd_kserve_spec spec = {
        .input_name = "input", .sample_ndim = 3, .sample_dims = dims,
        .n_outputs = 2, .output_names = outs, .max_batch = 8,
        .max_elements = 8 * 48,
    };
    struct cd_kserve_req req;
    struct cd_err err = {0};
    if (cd_kserve_parse(&req, copy, len, header_len, &spec, &err) == 0) {
        float logits[8 * 4] = {0};
        struct cd_kserve_out o[CD_KSERVE_MAX_OUTPUTS];
        int64_t b = req.in.batch > 8 ? 8 : req.in.batch;
        for (int i = 0; i < req.n_sel; i++) {
            o[i] = (struct cd_kserve_out){
                .name = outs[req.sel[i]], .ndim = 2, .shape = {b, 4},
                .data = logits, .numel = (size_t)b * 4, .binary = req.sel_binary[i]};
        }
        char *resp = NULL;
        size_t rlen = 0, jlen = 0;
        if (cd_kserve_response("m", "1", req.has_id ? req.id : NULL, o, req.n_sel, &resp,
                               &rlen, &jlen, &err) == 0)
            free(resp);
        cd_kserve_req_free(&req);
    }
    /* The header length parser on the same bytes, as text. */
    char txt[32];
    size_t n = len < sizeof txt - 1 ? len : sizeof txt - 1;
    memcpy(txt, copy, n);
    txt[n] = '\0';
    size_t hl;
    cd_kserve_parse_header_len(txt, &hl, &err);
    free(copy);
    return 0;
}
