/* op_harness.h — runs one op on the reference backend and on the OpenCL
 * backend with the same random inputs and compares the outputs. Header-only
 * (static functions) so every tests/test_ops_cl_*.c can include it. */
#ifndef CD_OP_HARNESS_H
#define CD_OP_HARNESS_H

#include "engine/backend.h"
#include "engine/ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cd_harness_case {
    enum cd_op op;
    struct cd_attrs a;
    int n_in;
    struct cd_shape in[8];               /* per-sample shapes, dim[0] == 1 */
    struct cd_shape w[CD_MAX_WEIGHTS];   /* ndim 0 = absent */
    int batch;
};

/* One OpenCL backend shared by the whole test binary; NULL if none. */
static inline struct cd_backend *cd_harness_cl(void)
{
    static struct cd_backend *cl;
    static int tried;
    if (!tried) {
        struct cd_err err = { 0 };
        tried = 1;
        if (cd_backend_cl_init(&cl, "auto", NULL, &err) != CD_OK) {
            fprintf(stderr, "op_harness: no OpenCL backend: %s\n", err.msg);
            cl = NULL;
            /* A kernel that fails to build must fail the tests, not skip
             * them; machines without any OpenCL device opt out explicitly. */
            if (!getenv("CONVD_ALLOW_NO_OPENCL"))
                exit(1);
        }
    }
    return cl;
}

static inline struct cd_backend *cd_harness_ref(void)
{
    static struct cd_backend *ref;
    if (!ref) {
        struct cd_err err = { 0 };
        if (cd_backend_ref_init(&ref, &err) != CD_OK)
            fprintf(stderr, "op_harness: %s\n", err.msg);
    }
    return ref;
}

static inline size_t harness_round16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

static inline float harness_rand(unsigned *s, float lo, float hi)
{
    *s = *s * 1664525u + 1013904223u;
    return lo + (hi - lo) * (float)((*s >> 8) & 0xffffff) / 16777216.0f;
}

/* Lays out, fills, runs on both backends, compares. Returns CD_OK when the
 * max abs difference is <= tol * max(1, max |ref|); *max_rel_err gets
 * max_abs_diff / max(1, max|ref|). msg gets a description on failure. */
static inline int cd_harness_compare(const struct cd_harness_case *c,
                                     unsigned seed, double tol,
                                     double *max_rel_err, char *msg,
                                     size_t msglen)
{
    struct cd_err err = { 0 };
    struct cd_backend *be[2] = { cd_harness_ref(), cd_harness_cl() };
    struct cd_tref in[8] = { 0 }, out = { 0 };
    struct cd_exec_node e = { .name = "case", .op = c->op, .a = &c->a,
                              .n_in = c->n_in, .in = in };
    struct cd_shape oshape = { 0 };
    float *host_in = NULL, *host_w = NULL, *res[2] = { NULL, NULL };
    int rc;
    *max_rel_err = INFINITY;
    if (!be[0] || !be[1]) {
        snprintf(msg, msglen, "backend missing");
        return CD_EDEVICE;
    }
    rc = cd_ops[c->op].shape(&c->a, c->n_in, c->in, c->w, &oshape, &err);
    if (rc != CD_OK) {
        snprintf(msg, msglen, "shape: %s", err.msg);
        return rc;
    }
    size_t arena = 0, wpool = 0;
    for (int i = 0; i < c->n_in; i++) {
        in[i].shape = c->in[i];
        in[i].off = arena;
        arena += harness_round16((size_t)cd_shape_numel(&c->in[i]) * c->batch);
    }
    out.shape = oshape;
    out.off = arena;
    size_t n_out = (size_t)cd_shape_numel(&oshape) * c->batch;
    arena += harness_round16(n_out);
    for (int j = 0; j < CD_MAX_WEIGHTS; j++) {
        e.has_w[j] = c->w[j].ndim > 0;
        if (!e.has_w[j])
            continue;
        e.w[j].shape = c->w[j];
        e.w[j].off = wpool;
        wpool += harness_round16((size_t)cd_shape_numel(&c->w[j]));
    }
    e.out = out;
    host_in = calloc(arena + 16, sizeof(float));
    host_w = calloc(wpool + 16, sizeof(float));
    res[0] = calloc(n_out + 1, sizeof(float));
    res[1] = calloc(n_out + 1, sizeof(float));
    if (!host_in || !host_w || !res[0] || !res[1]) {
        rc = CD_ENOMEM;
        snprintf(msg, msglen, "out of memory");
        goto done;
    }
    unsigned s = seed * 2654435761u + 1;
    for (int i = 0; i < c->n_in; i++) {
        size_t n = (size_t)cd_shape_numel(&c->in[i]) * c->batch;
        bool divisor = c->op == CD_OP_DIV && i == 1;
        for (size_t k = 0; k < n; k++)
            host_in[in[i].off + k] = divisor ? harness_rand(&s, 0.5f, 2.0f)
                                             : harness_rand(&s, -2.0f, 2.0f);
    }
    for (int j = 0; j < CD_MAX_WEIGHTS; j++) {
        if (!e.has_w[j])
            continue;
        size_t n = (size_t)cd_shape_numel(&c->w[j]);
        bool positive = (c->op == CD_OP_BATCHNORM && j == 3) ||
                        (c->op == CD_OP_DIV && j == 0);
        for (size_t k = 0; k < n; k++)
            host_w[e.w[j].off + k] = positive ? harness_rand(&s, 0.5f, 2.0f)
                                              : harness_rand(&s, -1.0f, 1.0f);
    }
    for (int b = 0; b < 2; b++) {
        const struct cd_backend_i *I = be[b]->i;
        if ((rc = I->alloc(be[b], arena, wpool, &err)) ||
            (rc = I->upload_weights(be[b], 0, host_w, wpool, &err)) ||
            (rc = I->write(be[b], 0, host_in, arena, &err)) ||
            (rc = I->run(be[b], &e, c->batch, &err)) ||
            (rc = I->finish(be[b], &err)) ||
            (rc = I->read(be[b], out.off, res[b], n_out, &err))) {
            snprintf(msg, msglen, "%s: %s", I->name, err.msg);
            goto done;
        }
    }
    double max_ref = 0.0, max_diff = 0.0;
    size_t worst = 0;
    for (size_t k = 0; k < n_out; k++) {
        double r = res[0][k], d = fabs((double)res[1][k] - r);
        if (fabs(r) > max_ref)
            max_ref = fabs(r);
        if (!(d <= max_diff)) { /* catches NaN */
            max_diff = isnan(d) ? INFINITY : d;
            worst = k;
        }
    }
    *max_rel_err = max_diff / (max_ref > 1.0 ? max_ref : 1.0);
    if (!(*max_rel_err <= tol)) {
        char sb[96];
        snprintf(msg, msglen,
                 "%s out %s batch %d: rel err %.3g > %.3g at %zu (ref %g, cl %g)",
                 cd_ops[c->op].name, cd_shape_str(&oshape, sb, sizeof sb),
                 c->batch, *max_rel_err, tol, worst, res[0][worst], res[1][worst]);
        rc = CD_ERANGE;
        goto done;
    }
    rc = CD_OK;
done:
    free(host_in);
    free(host_w);
    free(res[0]);
    free(res[1]);
    return rc;
}

#endif
