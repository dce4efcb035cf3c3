/* test_dcls.c — DCLS materialisation (materialize_dcls.c, op_shape_dcls.c):
 * the dense kernel equals a direct, non-separable evaluation of the authors'
 * construction (v1 bilinear and Gaussian, 1-D/2-D/3-D, even and non-square
 * sizes, positions on the clamp bounds); the axis convention on a hand-made
 * case; the rewritten graph run by the reference backend equals a direct
 * DCLS convolution (no dense kernel); hostile factors fail with a message. */
#include "check_main.h"
#include "graph_fixture.h"

#include "engine/op_family.h"
#include "engine/passes.h"
#include "engine/runner.h"

#include <math.h>

struct dspec {
    int nsp, cin, cout, kc, groups, gauss, bias;
    int dks[3], in[3], stride, pad;
};

/* x (1, cin, in...) -> dcls_conv "d" -> output. P spread over [-lim, lim]
 * with every 5th entry on a bound; SIG around 0.23. */
static struct cd_model *dcls_model(const struct dspec *s)
{
    struct cd_model *m = calloc(1, sizeof *m);
    m->refcount = 1;
    m->name = strdup("dcls");
    struct cd_graph *g = &m->g;
    cd_graph_init(g);
    int x = cd_graph_add_value(g, "x");
    g->values[x].is_input = true;
    g->values[x].shape.ndim = 2 + s->nsp;
    g->values[x].shape.dim[0] = 1;
    g->values[x].shape.dim[1] = s->cin;
    for (int i = 0; i < s->nsp; i++)
        g->values[x].shape.dim[2 + i] = s->in[i];
    g->n_inputs = 1;
    g->inputs = malloc(sizeof(int));
    g->inputs[0] = x;
    int id = fx_node(g, "d", CD_OP_DCLS_CONV, 1, (const char *[]){ "x" });
    struct cd_attrs *a = &g->nodes[id].a;
    cd_attrs_default(a, CD_OP_DCLS_CONV);
    a->nsp = s->nsp;
    a->groups = s->groups;
    for (int i = 0; i < s->nsp; i++) {
        a->kernel[i] = s->dks[i];
        a->stride[i] = s->stride;
        a->pad_begin[i] = a->pad_end[i] = s->pad;
    }
    int cig = s->cin / s->groups;
    int64_t wd[3] = { s->cout, cig, s->kc };
    int64_t pd[4] = { s->nsp, s->cout, cig, s->kc };
    int w = fx_weight(g, "d.weight", 3, wd, 7, 0);
    int p = fx_weight(g, "d.P", 4, pd, 8, 0);
    int sg = s->gauss ? fx_weight(g, "d.SIG", 4, pd, 9, 0) : -1;
    int b = s->bias ? fx_weight(g, "d.bias", 1, wd, 10, 0) : -1;
    int64_t per = (int64_t)s->cout * cig * s->kc;
    unsigned seed = 99;
    for (int i = 0; i < s->nsp; i++) {
        float lim = (float)(s->dks[i] / 2);
        for (int64_t j = 0; j < per; j++) {
            float *v = &g->weights[p].data[i * per + j];
            *v = j % 5 == 0 ? (j % 10 ? lim : -lim) : fx_rand(&seed) * lim;
            if (sg >= 0)
                g->weights[sg].data[i * per + j] = 0.23f + 0.3f * fx_rand(&seed);
        }
    }
    struct cd_node *n = &g->nodes[id];
    n->w[0] = w, n->w[1] = p, n->w[2] = sg, n->w[3] = b;
    for (int i = 4; i < CD_MAX_WEIGHTS; i++)
        n->w[i] = -1;
    g->values[n->out].is_output = true;
    g->n_outputs = 1;
    g->outputs = malloc(sizeof(int));
    g->outputs[0] = n->out;
    return m;
}

/* Interpolation weights X(pos) of element q over every dense position,
 * normalised: the authors' formula evaluated directly (not separably). */
static void direct_x(const struct cd_graph *g, const struct cd_node *n,
                     const struct dspec *s, int64_t q, double *X)
{
    int nsp = s->nsp, d[3] = { 1, 1, 1 };
    for (int i = 0; i < nsp; i++)
        d[i] = s->dks[i];
    int64_t per = cd_shape_numel(&g->weights[n->w[0]].shape);
    const float *P = g->weights[n->w[1]].data;
    const float *S = n->w[2] >= 0 ? g->weights[n->w[2]].data : NULL;
    double sum = 0.0;
    for (int z = 0; z < d[0]; z++)
        for (int y = 0; y < d[1]; y++)
            for (int xx = 0; xx < d[2]; xx++) {
                int pos[3] = { z, y, xx };
                double v = S ? 0.0 : 1.0;
                for (int ax = 0; ax < nsp; ax++) {
                    int pi = nsp - 1 - ax;
                    double t = pos[ax] - (P[pi * per + q] + s->dks[pi] / 2);
                    if (S) {
                        double sg = fabs(S[pi * per + q]) + 0.27;
                        v += (t / sg) * (t / sg);
                    } else {
                        v *= fmax(0.0, 1.0 - fabs(t));
                    }
                }
                if (S)
                    v = exp(-0.5 * v);
                X[((int64_t)z * d[1] + y) * d[2] + xx] = v;
                sum += v;
            }
    for (int64_t i = 0; i < (int64_t)d[0] * d[1] * d[2]; i++)
        X[i] /= sum + 1e-7;
}

static const struct dspec specs[] = {
    { 2, 4, 6, 5, 1, 0, 1, { 7, 5 }, { 11, 9 }, 1, 3 },
    { 2, 4, 4, 3, 4, 1, 0, { 4, 6 }, { 9, 10 }, 2, 2 },
    { 2, 6, 4, 4, 2, 1, 1, { 9, 9 }, { 13, 12 }, 1, 4 },
    { 1, 3, 5, 4, 1, 0, 1, { 8 }, { 31 }, 2, 4 },
    { 1, 4, 2, 3, 2, 1, 0, { 11 }, { 25 }, 1, 5 },
    { 3, 2, 3, 4, 1, 0, 1, { 3, 5, 4 }, { 6, 7, 8 }, 1, 1 },
};
#define N_SPECS ((int)(sizeof specs / sizeof specs[0]))

START_TEST(kernel_matches_formula)
{
    const struct dspec *s = &specs[_i];
    struct cd_err err = { 0 };
    struct cd_model *m = dcls_model(s);
    struct cd_graph *g = &m->g;
    struct cd_node *n = &g->nodes[0];
    struct cd_node before = *n;
    int64_t ksp = (int64_t)s->dks[0] * (s->nsp > 1 ? s->dks[1] : 1) *
                  (s->nsp > 2 ? s->dks[2] : 1);
    ck_assert_msg(cd_materialize_dcls_conv(g, n, &err) == CD_OK, "%s",
                  err.msg);
    ck_assert_int_eq(n->op, CD_OP_CONV);
    ck_assert_int_eq(n->w[1], before.w[3]);
    for (int i = 2; i < CD_MAX_WEIGHTS; i++)
        ck_assert_int_eq(n->w[i], -1);
    const struct cd_weight *k = &g->weights[n->w[0]];
    ck_assert(k->owned);
    ck_assert_int_eq(k->shape.ndim, 2 + s->nsp);
    for (int i = 0; i < s->nsp; i++)
        ck_assert_int_eq(k->shape.dim[2 + i], s->dks[i]);
    int64_t nel = (int64_t)s->cout * (s->cin / s->groups);
    double *X = malloc((size_t)ksp * sizeof *X);
    double *want = calloc((size_t)(nel * ksp), sizeof *want), maxw = 0.0;
    const float *w = g->weights[before.w[0]].data;
    for (int64_t e = 0; e < nel; e++)
        for (int j = 0; j < s->kc; j++) {
            direct_x(g, &before, s, e * s->kc + j, X);
            for (int64_t t = 0; t < ksp; t++)
                want[e * ksp + t] += w[e * s->kc + j] * X[t];
        }
    double maxd = 0.0;
    for (int64_t i = 0; i < nel * ksp; i++) {
        maxw = fmax(maxw, fabs(want[i]));
        maxd = fmax(maxd, fabs(want[i] - k->data[i]));
    }
    ck_assert_msg(maxd <= 1e-6 * fmax(1.0, maxw), "spec %d: max diff %g", _i,
                  maxd);
    free(X);
    free(want);
    cd_model_unref(m);
}
END_TEST

/* One weight (2.0) at P = (0.5, 0) in a 3x3 kernel: P[0] moves along the
 * last (width) axis, so the weight splits between (1,1) and (1,2); at
 * P = (0, -1) it lands on (0,1). */
START_TEST(axis_convention)
{
    struct dspec s = { 2, 1, 1, 1, 1, 0, 0, { 3, 3 }, { 5, 5 }, 1, 1 };
    const float pv[2][2] = { { 0.5f, 0.0f }, { 0.0f, -1.0f } };
    const int hot[2][2] = { { 4, 5 }, { 1, 1 } };
    for (int c = 0; c < 2; c++) {
        struct cd_err err = { 0 };
        struct cd_model *m = dcls_model(&s);
        struct cd_graph *g = &m->g;
        g->weights[g->nodes[0].w[0]].data[0] = 2.0f;
        g->weights[g->nodes[0].w[1]].data[0] = pv[c][0];
        g->weights[g->nodes[0].w[1]].data[1] = pv[c][1];
        ck_assert_int_eq(cd_materialize_dcls_conv(g, &g->nodes[0], &err),
                         CD_OK);
        const float *k = g->weights[g->nodes[0].w[0]].data;
        for (int t = 0; t < 9; t++) {
            double want = hot[c][0] == hot[c][1]
                              ? (t == hot[c][0] ? 2.0 : 0.0)
                              : (t == hot[c][0] || t == hot[c][1] ? 1.0 : 0.0);
            ck_assert_msg(fabs(k[t] - want) < 1e-5, "case %d tap %d: %g vs %g",
                          c, t, (double)k[t], want);
        }
        cd_model_unref(m);
    }
}
END_TEST

/* The loaded graph (materialised conv, reference backend, batch 3) against a
 * direct DCLS convolution summing interpolated taps per weight. */
START_TEST(conv_equivalence)
{
    const struct dspec *s = &specs[_i];
    struct cd_err err = { 0 };
    struct cd_model *m = dcls_model(s);
    struct cd_graph *g = &m->g;
    struct cd_node orig = g->nodes[0];
    struct dspec sd = *s;
    int nsp = s->nsp, B = 3;
    int dk[3] = { 1, 1, 1 }, in[3] = { 1, 1, 1 }, on[3] = { 1, 1, 1 };
    ck_assert_int_eq(cd_graph_toposort(g, &err), CD_OK);
    ck_assert_msg(cd_graph_infer_shapes(g, &err) == CD_OK, "%s", err.msg);
    /* keep copies of the factors: the passes may rewrite the node */
    int64_t per = cd_shape_numel(&g->weights[orig.w[0]].shape);
    float *P = malloc((size_t)(per * nsp) * sizeof *P);
    float *S = orig.w[2] >= 0 ? malloc((size_t)(per * nsp) * sizeof *S) : NULL;
    memcpy(P, g->weights[orig.w[1]].data, (size_t)(per * nsp) * sizeof *P);
    if (S)
        memcpy(S, g->weights[orig.w[2]].data, (size_t)(per * nsp) * sizeof *S);
    ck_assert_msg(cd_passes_run(g, NULL, &err) == CD_OK, "%s", err.msg);
    struct cd_backend *be = NULL;
    struct cd_runner *r = NULL;
    ck_assert_int_eq(cd_backend_ref_init(&be, &err), CD_OK);
    ck_assert_msg(cd_runner_init(&r, m, be, B, &err) == CD_OK, "%s", err.msg);
    struct cd_shape os = cd_runner_output_shape(r, 0);
    for (int i = 0; i < nsp; i++) {
        dk[3 - nsp + i] = s->dks[i];
        in[3 - nsp + i] = s->in[i];
        on[3 - nsp + i] = (int)os.dim[2 + i];
    }
    int64_t xn = (int64_t)s->cin * in[0] * in[1] * in[2];
    int64_t yn = cd_shape_numel(&os), ksp = (int64_t)dk[0] * dk[1] * dk[2];
    float *x = malloc((size_t)(xn * B) * sizeof *x);
    float *y = malloc((size_t)(yn * B) * sizeof *y);
    double *X = malloc((size_t)ksp * sizeof *X);
    unsigned seed = 5;
    for (int64_t i = 0; i < xn * B; i++)
        x[i] = fx_rand(&seed);
    ck_assert_msg(cd_runner_run(r, x, B, &err) == CD_OK, "%s", err.msg);
    ck_assert_int_eq(cd_runner_read_output(r, 0, y, B, &err), CD_OK);
    /* direct: y = bias + sum_{i,k} w X_k (*) x, dense axes padded to 3 */
    struct cd_graph shadow = *g; /* direct_x reads P/SIG through a node */
    struct cd_weight wv[3] = { g->weights[orig.w[0]] };
    wv[1].data = P, wv[2].data = S;
    shadow.weights = wv;
    struct cd_node sn = orig;
    sn.w[0] = 0, sn.w[1] = 1, sn.w[2] = S ? 2 : -1;
    const float *w = wv[0].data;
    const float *bias = orig.w[3] >= 0 ? g->weights[orig.w[3]].data : NULL;
    int cig = s->cin / s->groups, cog = s->cout / s->groups;
    double maxd = 0.0, maxr = 0.0;
    double *acc = calloc((size_t)(yn * B), sizeof *acc);
    for (int o = 0; o < s->cout; o++)
        for (int ci = 0; ci < cig; ci++)
            for (int j = 0; j < s->kc; j++) {
                int64_t q = ((int64_t)o * cig + ci) * s->kc + j;
                direct_x(&shadow, &sn, &sd, q, X);
                int c = (o / cog) * cig + ci;
                for (int b = 0; b < B; b++)
                    for (int64_t t = 0; t < ksp; t++) {
                        if (X[t] == 0.0)
                            continue;
                        int kz = (int)(t / (dk[1] * dk[2]));
                        int ky = (int)(t / dk[2] % dk[1]), kx = (int)(t % dk[2]);
                        for (int oz = 0; oz < on[0]; oz++)
                            for (int oy = 0; oy < on[1]; oy++)
                                for (int ox = 0; ox < on[2]; ox++) {
                                    int st = s->stride, pd = s->pad;
                                    int iz = nsp > 2 ? oz * st - pd + kz : 0;
                                    int iy = nsp > 1 ? oy * st - pd + ky : 0;
                                    int ix = ox * st - pd + kx;
                                    if (iz < 0 || iz >= in[0] || iy < 0 ||
                                        iy >= in[1] || ix < 0 || ix >= in[2])
                                        continue;
                                    acc[b * yn + (((int64_t)o * on[0] + oz) *
                                                  on[1] + oy) * on[2] + ox] +=
                                        w[q] * X[t] *
                                        x[b * xn + (((int64_t)c * in[0] + iz) *
                                                    in[1] + iy) * in[2] + ix];
                                }
                    }
            }
    for (int64_t i = 0; i < yn * B; i++) {
        double want = acc[i] + (bias ? bias[i % yn / (yn / s->cout)] : 0.0);
        maxr = fmax(maxr, fabs(want));
        maxd = fmax(maxd, fabs(want - y[i]));
    }
    ck_assert_msg(maxd <= 1e-5 * fmax(1.0, maxr), "spec %d: max diff %g",
                  _i, maxd);
    free(acc), free(x), free(y), free(X), free(P), free(S);
    cd_runner_free(r);
    cd_backend_free(be);
    cd_model_unref(m);
}
END_TEST

/* Loads (shape inference, then the passes) and returns the status; msg gets
 * the message. */
static int load(struct cd_model *m, char *msg)
{
    struct cd_err err = { 0 };
    int rc = cd_graph_toposort(&m->g, &err);
    if (!rc)
        rc = cd_graph_infer_shapes(&m->g, &err);
    if (!rc)
        rc = cd_passes_run(&m->g, NULL, &err);
    strcpy(msg, err.msg);
    cd_model_unref(m);
    return rc;
}

#define HOSTILE(spec_, edit, code, needle)                                    \
    do {                                                                      \
        struct cd_model *m_ = dcls_model(&(spec_));                           \
        struct cd_graph *g = &m_->g;                                          \
        struct cd_node *n = &g->nodes[0];                                     \
        (void)n;                                                              \
        edit;                                                                 \
        int rc_ = load(m_, msg);                                              \
        ck_assert_msg(rc_ == (code), "%s: rc %d (%s)", needle, rc_, msg);     \
        ck_assert_msg(strstr(msg, needle) != NULL, "want '%s' in: %s",        \
                      needle, msg);                                           \
    } while (0)

START_TEST(hostile)
{
    char msg[512];
    struct dspec s = specs[0];
    struct dspec gs = specs[1];
    /* the untouched model loads */
    ck_assert_msg(load(dcls_model(&s), msg) == CD_OK, "%s", msg);
    HOSTILE(s, g->weights[n->w[1]].data[3] = NAN, CD_EINVAL,
            "P[0][3] is not finite");
    HOSTILE(s, g->weights[n->w[1]].data[130] = INFINITY, CD_EINVAL,
            "not finite");
    HOSTILE(s, g->weights[n->w[1]].data[2] = 3.5f, CD_ERANGE,
            "out of range [-3, 3]");
    HOSTILE(s, g->weights[n->w[1]].data[120 + 1] = -2.01f, CD_ERANGE,
            "P[1][1] = -2.01 out of range [-2, 2]");
    HOSTILE(gs, g->weights[n->w[2]].data[5] = NAN, CD_EINVAL,
            "SIG[0][5] is not finite");
    HOSTILE(s, g->weights[n->w[1]].shape.dim[0] = 1, CD_EINVAL,
            "weight 'P' has shape");
    HOSTILE(s, g->weights[n->w[1]].shape.dim[3] = 4, CD_EINVAL,
            "weight 'P' has shape");
    HOSTILE(s, (g->weights[n->w[0]].shape = cd_shape_make(4,
                (int64_t[]){ 6, 4, 1, 5 })), CD_EINVAL,
            "expected (out, in/groups, kernel_count)");
    HOSTILE(gs, g->weights[n->w[2]].shape.dim[2] = 2, CD_EINVAL,
            "weight 'SIG' has shape");
    HOSTILE(s, g->weights[n->w[3]].shape.dim[0] = 5, CD_EINVAL, "bias");
    HOSTILE(s, n->a.nsp = 0, CD_EINVAL, "dilated_kernel_size");
    HOSTILE(s, n->a.kernel[1] = 0, CD_EINVAL, "dilated_kernel_size[1] = 0");
    HOSTILE(s, (n->a.kernel[0] = 31, n->a.kernel[1] = 31), CD_EINVAL,
            "larger than padded input");
    HOSTILE(s, (n->a.kernel[0] = 65536, n->a.kernel[1] = 65536), CD_EINVAL,
            "too large to materialise");
    HOSTILE(s, n->a.groups = 3, CD_EINVAL, "input channels");
    HOSTILE(s, n->w[1] = -1, CD_EINVAL, "weight 'P' has shape");
}
END_TEST

static Suite *dcls_suite(void)
{
    Suite *s = suite_create("dcls");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, kernel_matches_formula, 0, N_SPECS);
    tcase_add_test(tc, axis_convention);
    tcase_add_loop_test(tc, conv_equivalence, 0, N_SPECS);
    tcase_add_test(tc, hostile);
    suite_add_tcase(s, tc);
    return s;
}

CD_TEST_MAIN(dcls_suite)
