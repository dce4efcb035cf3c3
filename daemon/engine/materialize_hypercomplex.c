/* materialize_hypercomplex.c — load-time rewrite of phc_conv, quaternion_conv
 * and complex_conv into a plain conv: builds the dense block weight (the
 * Kronecker sum sum_s kron(A_s, F_s), the Hamilton-product blocks, the
 * [[Wr,-Wi],[Wi,Wr]] blocks) as a new owned weight and rewrites the node in
 * place. It validates through the op's shape function first; it never adds
 * nodes and never touches the factor tensors. */
#include "op_family.h"
#include "graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs node's shape function on its current input and weight shapes, so a
 * materialiser never reads factors that do not fit together. */
static int validate(const struct cd_graph *g, const struct cd_node *node,
                    struct cd_err *err)
{
    struct cd_shape in[2] = { 0 }, w[CD_MAX_WEIGHTS] = { 0 }, out;
    if (node->n_in < 1 || node->n_in > 2)
        return cd_err_set(err, CD_EINVAL, "%d inputs (1 or 2 expected)",
                          node->n_in);
    for (int i = 0; i < node->n_in; i++)
        in[i] = g->values[node->in[i]].shape;
    for (int j = 0; j < CD_MAX_WEIGHTS; j++) {
        if (node->w[j] < 0)
            continue;
        if (!g->weights[node->w[j]].data)
            return cd_err_set(err, CD_EINVAL, "weight slot %d has no data", j);
        w[j] = g->weights[node->w[j]].shape;
    }
    return cd_ops[node->op].shape(&node->a, node->n_in, in, w, &out, err);
}

/* Owned zeroed float array of numel(s) elements, or NULL. */
static float *alloc_like(const struct cd_shape *s, struct cd_err *err)
{
    int64_t n = cd_shape_numel(s);
    size_t bytes;
    float *p = NULL;
    if (n < 1 || !cd_size_mul((size_t)n, sizeof(float), &bytes) ||
        !(p = calloc(1, bytes)))
        cd_err_set(err, CD_ENOMEM, "materialised weight: out of memory");
    return p;
}

/* Adds data (owned, freed here on failure) as weight "<node>.<what>#<tag>". */
static int add_owned(struct cd_graph *g, const char *node, const char *what,
                     const char *tag, struct cd_shape s, float *data, int *id,
                     struct cd_err *err)
{
    char name[512];
    snprintf(name, sizeof name, "%s.%s#%s", node, what, tag);
    *id = cd_graph_add_weight(g, name, s, data, true);
    if (*id < 0) {
        free(data);
        return cd_err_set(err, CD_ENOMEM, "out of memory adding \"%s\"", name);
    }
    return CD_OK;
}

/* Rewrites node (by index: g->nodes is stable, g->weights may move) into a
 * conv reading weight wid and bias bid (-1: none); attributes are kept. */
static void become_conv(struct cd_node *node, int wid, int bid)
{
    node->op = CD_OP_CONV;
    for (int j = 0; j < CD_MAX_WEIGHTS; j++)
        node->w[j] = -1;
    node->w[0] = wid;
    node->w[1] = bid;
}

/* dst (nb*O, nb*I, K) from nb*nb blocks: block (p, q) is
 * sign[p][q] * part[idx[p][q]], each part (O, I, K). */
static void assemble(int nb, const int *idx, const int *sign,
                     const float *const *part, int64_t O, int64_t I,
                     int64_t K, float *dst)
{
    for (int p = 0; p < nb; p++)
        for (int64_t o = 0; o < O; o++)
            for (int q = 0; q < nb; q++) {
                const float *src = part[idx[p * nb + q]] + o * I * K;
                float s = (float)sign[p * nb + q];
                float *d = dst + ((p * O + o) * nb * I + q * I) * K;
                for (int64_t t = 0; t < I * K; t++)
                    d[t] = s * src[t];
            }
}

/* Part shape (O, I, k...) -> O, I and K = prod(k). */
static void part_dims(const struct cd_shape *s, int first, int64_t *O,
                      int64_t *I, int64_t *K)
{
    *O = s->dim[first];
    *I = s->dim[first + 1];
    *K = 1;
    for (int i = first + 2; i < s->ndim; i++)
        *K *= s->dim[i];
}

CD_MATERIALIZE_FN(phc_conv)
{
    int rc = validate(g, node, err);
    if (rc)
        return rc;
    const struct cd_weight *wa = &g->weights[node->w[0]];
    const struct cd_weight *wf = &g->weights[node->w[1]];
    const int64_t n = wa->shape.dim[0];
    int64_t O, I, K;
    part_dims(&wf->shape, 1, &O, &I, &K);
    struct cd_shape ws = wf->shape; /* (n O, n I, k...) */
    ws.ndim = wf->shape.ndim - 1;
    for (int i = 0; i < ws.ndim; i++)
        ws.dim[i] = wf->shape.dim[i + 1];
    ws.dim[0] = n * O;
    ws.dim[1] = n * I;
    float *dst = alloc_like(&ws, err);
    if (!dst)
        return err->code;
    /* block (r, c) of the (Cout, Cin) weight is sum_s A[s, r, c] * F[s] */
    const float *A = wa->data, *F = wf->data;
    for (int64_t s = 0; s < n; s++)
        for (int64_t r = 0; r < n; r++)
            for (int64_t o = 0; o < O; o++)
                for (int64_t c = 0; c < n; c++) {
                    float av = A[(s * n + r) * n + c];
                    const float *src = F + (s * O + o) * I * K;
                    float *d = dst + ((r * O + o) * n * I + c * I) * K;
                    for (int64_t t = 0; t < I * K; t++)
                        d[t] += av * src[t];
                }
    int wid, bid = node->w[2];
    if ((rc = add_owned(g, node->name, "weight", "phc", ws, dst, &wid, err)))
        return rc;
    become_conv(node, wid, bid);
    return CD_OK;
}

CD_MATERIALIZE_FN(quaternion_conv)
{
    /* Hamilton product W (x) q: rows are the output components r, i, j, k */
    static const int idx[16] = { 0, 1, 2, 3,  1, 0, 3, 2,
                                 2, 3, 0, 1,  3, 2, 1, 0 };
    static const int sign[16] = { 1, -1, -1, -1,  1, 1, -1, 1,
                                  1, 1, 1, -1,   1, -1, 1, 1 };
    int rc = validate(g, node, err);
    if (rc)
        return rc;
    const float *part[4];
    for (int p = 0; p < 4; p++)
        part[p] = g->weights[node->w[p]].data;
    struct cd_shape ps = g->weights[node->w[0]].shape, ws = ps;
    int64_t O, I, K;
    part_dims(&ps, 0, &O, &I, &K);
    ws.dim[0] = 4 * O;
    ws.dim[1] = 4 * I;
    float *dst = alloc_like(&ws, err);
    if (!dst)
        return err->code;
    assemble(4, idx, sign, part, O, I, K, dst);
    int wid, bid = node->w[4];
    if ((rc = add_owned(g, node->name, "weight", "quaternion", ws, dst, &wid,
                        err)))
        return rc;
    become_conv(node, wid, bid);
    return CD_OK;
}

CD_MATERIALIZE_FN(complex_conv)
{
    /* [[Wr, -Wi], [Wi, Wr]] over channels [real..., imag...] */
    static const int idx[4] = { 0, 1, 1, 0 };
    static const int sign[4] = { 1, -1, 1, 1 };
    int rc = validate(g, node, err);
    if (rc)
        return rc;
    const float *part[2] = { g->weights[node->w[0]].data,
                             g->weights[node->w[1]].data };
    struct cd_shape ps = g->weights[node->w[0]].shape, ws = ps;
    int64_t O, I, K;
    part_dims(&ps, 0, &O, &I, &K);
    ws.dim[0] = 2 * O;
    ws.dim[1] = 2 * I;
    float *dst = alloc_like(&ws, err), *bias = NULL;
    if (!dst)
        return err->code;
    assemble(2, idx, sign, part, O, I, K, dst);
    bool has_bias = node->w[2] >= 0 || node->w[3] >= 0;
    struct cd_shape bs = { .ndim = 1, .dim = { 2 * O } };
    if (has_bias) {
        if (!(bias = alloc_like(&bs, err))) {
            free(dst);
            return err->code;
        }
        for (int h = 0; h < 2; h++)
            if (node->w[2 + h] >= 0)
                memcpy(bias + h * O, g->weights[node->w[2 + h]].data,
                       (size_t)O * sizeof *bias);
    }
    int wid, bid = -1;
    if ((rc = add_owned(g, node->name, "weight", "complex", ws, dst, &wid,
                        err))) {
        free(bias);
        return rc;
    }
    if (has_bias &&
        (rc = add_owned(g, node->name, "bias", "complex", bs, bias, &bid, err)))
        return rc;
    become_conv(node, wid, bid);
    return CD_OK;
}
