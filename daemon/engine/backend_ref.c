/* backend_ref.c — the plain-C backend: host-malloc'd arena and weight pool,
 * bounds-checked copies, and nodes run by the op table's C references after
 * re-checking their shapes and extents. Single-threaded; it defines no
 * cd_backend_free (backend_cl.c owns the shared destructor). */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ref_impl {
    float *arena, *wpool;
    size_t arena_n, wpool_n; /* in floats */
};

static struct ref_impl *impl(struct cd_backend *b)
{
    return (struct ref_impl *)b->impl;
}

static int ref_alloc(struct cd_backend *b, size_t arena_floats,
                     size_t wpool_floats, struct cd_err *err)
{
    struct ref_impl *r = impl(b);
    size_t ab, wb;
    if (!cd_size_mul(arena_floats, sizeof(float), &ab) ||
        !cd_size_mul(wpool_floats, sizeof(float), &wb))
        return cd_err_set(err, CD_ENOMEM, "ref backend: %zu + %zu floats "
                          "overflow", arena_floats, wpool_floats);
    float *na = malloc(ab ? ab : 1), *nw = malloc(wb ? wb : 1);
    if (!na || !nw) {
        free(na);
        free(nw);
        return cd_err_set(err, CD_ENOMEM, "ref backend: cannot allocate %zu "
                          "+ %zu bytes", ab, wb);
    }
    memset(na, 0, ab);
    free(r->arena);
    free(r->wpool);
    r->arena = na;
    r->wpool = nw;
    r->arena_n = arena_floats;
    r->wpool_n = wpool_floats;
    return CD_OK;
}

/* [off, off + n) inside a buffer of size floats. */
static int in_bounds(size_t off, size_t n, size_t size, const char *what,
                     struct cd_err *err)
{
    size_t end;
    if (!cd_size_add(off, n, &end) || end > size)
        return cd_err_set(err, CD_ERANGE, "%s [%zu, +%zu) outside its %zu "
                          "floats", what, off, n, size);
    return CD_OK;
}

static int ref_upload(struct cd_backend *b, size_t off, const float *src,
                      size_t n, struct cd_err *err)
{
    struct ref_impl *r = impl(b);
    int rc = in_bounds(off, n, r->wpool_n, "weight upload", err);
    if (!rc && n)
        memcpy(r->wpool + off, src, n * sizeof(float));
    return rc;
}

static int ref_write(struct cd_backend *b, size_t off, const float *src,
                     size_t n, struct cd_err *err)
{
    struct ref_impl *r = impl(b);
    int rc = in_bounds(off, n, r->arena_n, "arena write", err);
    if (!rc && n)
        memcpy(r->arena + off, src, n * sizeof(float));
    return rc;
}

static int ref_read(struct cd_backend *b, size_t off, float *dst, size_t n,
                    struct cd_err *err)
{
    struct ref_impl *r = impl(b);
    int rc = in_bounds(off, n, r->arena_n, "arena read", err);
    if (!rc && n)
        memcpy(dst, r->arena + off, n * sizeof(float));
    return rc;
}

/* Extent of a tensor reference: batch samples for activations (the last
 * one numel past (copies - 1) batch strides), one copy for weights. */
static int tref_ok(const struct cd_tref *t, size_t copies, size_t size,
                   const char *what, struct cd_err *err)
{
    int64_t n = cd_shape_numel(&t->shape);
    size_t total;
    if (n < 0 || copies < 1 || cd_tref_bstride(t) < (size_t)n ||
        !cd_size_mul(cd_tref_bstride(t), copies - 1, &total) ||
        !cd_size_add(total, (size_t)n, &total))
        return cd_err_set(err, CD_ERANGE, "%s: bad shape or batch stride",
                          what);
    return in_bounds(t->off, total, size, what, err);
}

/* Re-runs the shape function and checks every extent, so a wrong plan fails
 * with a message instead of reading or writing out of bounds. */
static int check_node(const struct ref_impl *r, const struct cd_exec_node *e,
                      int batch, struct cd_err *err)
{
    char b1[128], b2[128], what[48];
    if ((unsigned)e->op >= CD_OP_COUNT || !e->a)
        return cd_err_set(err, CD_EINVAL, "bad op %d or no attributes",
                          (int)e->op);
    const struct cd_op_info *info = &cd_ops[e->op];
    if (e->n_in < info->n_in_min || e->n_in > info->n_in_max ||
        (e->n_in && !e->in))
        return cd_err_set(err, CD_EINVAL, "%s: %d inputs", info->name,
                          e->n_in);
    if (batch < 1)
        return cd_err_set(err, CD_EINVAL, "batch %d must be >= 1", batch);
    struct cd_shape *ins = malloc((size_t)e->n_in * sizeof *ins);
    if (!ins)
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    struct cd_shape ws[CD_MAX_WEIGHTS] = { { 0 } }, out = { 0 };
    int rc = CD_OK;
    for (int i = 0; i < e->n_in; i++) {
        ins[i] = e->in[i].shape;
        snprintf(what, sizeof what, "input %d", i);
        if ((rc = tref_ok(&e->in[i], (size_t)batch, r->arena_n, what, err)))
            goto fail;
    }
    for (int i = 0; i < CD_MAX_WEIGHTS; i++) {
        if (!e->has_w[i])
            continue;
        ws[i] = e->w[i].shape;
        snprintf(what, sizeof what, "weight %d", i);
        if ((rc = tref_ok(&e->w[i], 1, r->wpool_n, what, err)))
            goto fail;
    }
    for (int i = 0; i < CD_MAX_WEIGHTS && info->weights[i]; i++)
        if (!e->has_w[i] && !strchr(info->weights[i], '?')) {
            rc = cd_err_set(err, CD_EINVAL, "weight '%s' missing",
                            info->weights[i]);
            goto fail;
        }
    if ((rc = tref_ok(&e->out, (size_t)batch, r->arena_n, "output", err)))
        goto fail;
    if ((rc = info->shape(e->a, e->n_in, ins, ws, &out, err)))
        goto fail;
    if (!cd_shape_eq(&out, &e->out.shape))
        rc = cd_err_set(err, CD_EINVAL, "planned output %s != inferred %s",
                        cd_shape_str(&e->out.shape, b1, sizeof b1),
                        cd_shape_str(&out, b2, sizeof b2));
fail:
    free(ins);
    return rc;
}

static int ref_run(struct cd_backend *b, const struct cd_exec_node *e,
                   int batch, struct cd_err *err)
{
    struct ref_impl *r = impl(b);
    const char *name = e && e->name ? e->name : "?";
    if (!e)
        return cd_err_set(err, CD_EINVAL, "node ?: NULL");
    int rc = check_node(r, e, batch, err);
    if (!rc)
        rc = cd_ops[e->op].ref(e, batch, r->arena, r->wpool, err);
    if (rc)
        cd_err_wrap(err, "node %s", name);
    return rc;
}

static int ref_finish(struct cd_backend *b, struct cd_err *err)
{
    return CD_OK;
}

/* Eigen-CAM Gram of one (C, hw) sample in the arena, in double. */
static int ref_gram(struct cd_backend *b, size_t off, int C, int hw,
                    float *gram_out, float *mean_out, struct cd_err *err)
{
    struct ref_impl *r = impl(b);
    size_t n, cc;
    if (C < 1 || hw < 1 || !gram_out || !mean_out ||
        !cd_size_mul((size_t)C, (size_t)hw, &n) ||
        !cd_size_mul((size_t)C, (size_t)C, &cc))
        return cd_err_set(err, CD_EINVAL, "gram: bad size %d x %d", C, hw);
    int rc = in_bounds(off, n, r->arena_n, "gram input", err);
    if (rc)
        return rc;
    const float *x = r->arena + off; /* x is (C, hw) */
    double *m = malloc((size_t)C * sizeof *m);
    if (!m)
        return cd_err_set(err, CD_ENOMEM, "gram: out of memory");
    for (int c = 0; c < C; c++) {
        double s = 0.0;
        for (int p = 0; p < hw; p++)
            s += x[(size_t)c * hw + p];
        m[c] = s / hw;
        mean_out[c] = (float)m[c];
    }
    for (int i = 0; i < C; i++)
        for (int j = i; j < C; j++) {
            const float *xi = x + (size_t)i * hw, *xj = x + (size_t)j * hw;
            double s = 0.0;
            for (int p = 0; p < hw; p++)
                s += (xi[p] - m[i]) * (xj[p] - m[j]);
            gram_out[(size_t)i * C + j] = gram_out[(size_t)j * C + i] = (float)s;
        }
    free(m);
    return CD_OK;
}

static void ref_free(struct cd_backend *b)
{
    if (!b)
        return;
    struct ref_impl *r = impl(b);
    if (r) {
        free(r->arena);
        free(r->wpool);
        free(r);
    }
    free(b);
}

static const struct cd_backend_i ref_iface = {
    .name = "ref",
    .alloc = ref_alloc,
    .upload_weights = ref_upload,
    .write = ref_write,
    .read = ref_read,
    .run = ref_run,
    .finish = ref_finish,
    .prepare = NULL,
    .free = ref_free,
    .gram = ref_gram,
};

int cd_backend_ref_init(struct cd_backend **out, struct cd_err *err)
{
    *out = NULL;
    struct cd_backend *b = calloc(1, sizeof *b);
    struct ref_impl *r = calloc(1, sizeof *r);
    if (!b || !r) {
        free(b);
        free(r);
        return cd_err_set(err, CD_ENOMEM, "ref backend: out of memory");
    }
    b->i = &ref_iface;
    b->impl = r;
    snprintf(b->desc, sizeof b->desc, "reference C (single thread)");
    *out = b;
    return CD_OK;
}
