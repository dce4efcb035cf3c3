/* test_hypercomplex.c — the load-time rewrite of phc_conv, quaternion_conv
 * and complex_conv into conv (materialize_hypercomplex.c) and their shape
 * functions (op_shape_hypercomplex.c): the materialised graph, run on the
 * reference backend, equals a direct evaluation of the structured conv from
 * its factors (the PHC Kronecker sum, the Hamilton and complex products
 * written from their unit multiplication tables); hostile factors fail
 * cd_model_load or the shape function with a message naming the culprit. */
#include "engine/backend.h"
#include "engine/op_family.h"
#include "engine/passes.h"
#include "engine/runner.h"
#include "graph_fixture.h"

#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- direct evaluation of the structured convs ---------------------------- */

struct eq_case {
    enum cd_op op;
    int nsp, cin, cout, n;        /* n: PHC only */
    int64_t sp[2], k[2];
    int stride[2], pad[2], dil[2], groups;
    int bias;                     /* complex: 1 real+imag, 2 real only */
    int act;
};

/* Hypercomplex units: e_u * e_q = sign * e_res. Quaternions 1, i, j, k
 * (i^2 = j^2 = k^2 = ijk = -1); complex 1, i. */
static void unit_mul(int nb, int u, int q, int *sign, int *res)
{
    static const int qs[4][4] = { { 1, 1, 1, 1 }, { 1, -1, 1, -1 },
                                  { 1, -1, -1, 1 }, { 1, 1, -1, -1 } };
    static const int qr[4][4] = { { 0, 1, 2, 3 }, { 1, 0, 3, 2 },
                                  { 2, 3, 0, 1 }, { 3, 2, 1, 0 } };
    if (nb == 2) {
        *sign = (u == 1 && q == 1) ? -1 : 1;
        *res = u ^ q;
        return;
    }
    *sign = qs[u][q];
    *res = qr[u][q];
}

struct factors {
    const float *p[6];
    int64_t O, I, K;
};

/* Coefficient of input channel j (within its group) for output channel co
 * at flat kernel offset t, from the factors. */
static double coef(const struct eq_case *c, const struct factors *f, int co,
                   int j, int64_t t)
{
    int64_t O = f->O, I = f->I, K = f->K;
    int r = (int)(co / O), o = (int)(co % O), q = (int)(j / I), i = (int)(j % I);
    if (c->op == CD_OP_PHC_CONV) {
        double s = 0;
        for (int m = 0; m < c->n; m++)
            s += (double)f->p[0][(m * c->n + r) * c->n + q] *
                 f->p[1][((m * O + o) * I + i) * K + t];
        return s;
    }
    int nb = c->op == CD_OP_QUATERNION_CONV ? 4 : 2;
    for (int u = 0; u < nb; u++) {
        int sign, res;
        unit_mul(nb, u, q, &sign, &res);
        if (res == r)
            return sign * (double)f->p[u][(o * I + i) * K + t];
    }
    return NAN;
}

static double bias_of(const struct eq_case *c, const struct factors *f, int co)
{
    if (c->op == CD_OP_COMPLEX_CONV) {
        const float *b = f->p[2 + co / f->O];
        return b ? b[co % f->O] : 0.0;
    }
    const float *b = f->p[c->op == CD_OP_PHC_CONV ? 2 : 4];
    return b ? b[co] : 0.0;
}

/* y (batch, cout, out...) of the structured conv on x (batch, cin, sp...). */
static void direct(const struct eq_case *c, const struct factors *f,
                   const float *x, int batch, const int64_t *osp, float *y)
{
    int64_t H = c->sp[0], W = c->nsp == 2 ? c->sp[1] : 1;
    int64_t OH = osp[0], OW = c->nsp == 2 ? osp[1] : 1;
    int64_t KH = c->k[0], KW = c->nsp == 2 ? c->k[1] : 1;
    int cin_g = c->cin / c->groups, cout_g = c->cout / c->groups;
    int sw = c->nsp == 2 ? c->stride[1] : 1, pw = c->nsp == 2 ? c->pad[1] : 0;
    int dw = c->nsp == 2 ? c->dil[1] : 1;
    for (int b = 0; b < batch; b++)
        for (int co = 0; co < c->cout; co++)
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    double s = bias_of(c, f, co);
                    int gidx = co / cout_g;
                    for (int j = 0; j < cin_g; j++)
                        for (int64_t kh = 0; kh < KH; kh++)
                            for (int64_t kw = 0; kw < KW; kw++) {
                                int64_t ih = oh * c->stride[0] - c->pad[0] +
                                             kh * c->dil[0];
                                int64_t iw = ow * sw - pw + kw * dw;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W)
                                    continue;
                                int ci = gidx * cin_g + j;
                                s += coef(c, f, co, j, kh * KW + kw) *
                                     x[((b * c->cin + ci) * H + ih) * W + iw];
                            }
                    if (c->act == CD_ACT_RELU && s < 0)
                        s = 0;
                    y[((b * c->cout + co) * OH + oh) * OW + ow] = (float)s;
                }
}

/* ---- the in-memory model ---------------------------------------------------- */

static int add_w(struct cd_graph *g, const char *name, int ndim,
                 const int64_t *d, unsigned seed)
{
    return fx_weight(g, name, ndim, d, seed, 0);
}

/* x -> one structured node "h" (the case) -> output. */
static struct cd_model *eq_model(const struct eq_case *c)
{
    struct cd_model *m = calloc(1, sizeof *m);
    m->refcount = 1;
    m->name = strdup("hypercomplex");
    struct cd_graph *g = &m->g;
    cd_graph_init(g);
    int x = cd_graph_add_value(g, "x");
    int64_t xs[4] = { 1, c->cin, c->sp[0], c->sp[1] };
    g->values[x].is_input = true;
    g->values[x].shape = cd_shape_make(2 + c->nsp, xs);
    g->n_inputs = 1;
    g->inputs = malloc(sizeof(int));
    g->inputs[0] = x;
    int id = fx_node(g, "h", c->op, 1, (const char *[]){ "x" });
    struct cd_node *n = &g->nodes[id];
    n->a.nsp = c->nsp;
    n->a.groups = c->groups;
    n->a.act = c->act;
    for (int i = 0; i < c->nsp; i++) {
        n->a.stride[i] = c->stride[i];
        n->a.dilation[i] = c->dil[i];
        n->a.pad_begin[i] = n->a.pad_end[i] = c->pad[i];
    }
    int64_t d[6];
    int nb = c->op == CD_OP_PHC_CONV ? c->n : c->op == CD_OP_QUATERNION_CONV ? 4 : 2;
    int lead = c->op == CD_OP_PHC_CONV;
    d[0] = c->n;
    d[lead] = c->cout / nb;
    d[lead + 1] = c->cin / (nb * c->groups);
    for (int i = 0; i < c->nsp; i++)
        d[lead + 2 + i] = c->k[i];
    int rank = lead + 2 + c->nsp;
    int64_t cb = c->cout, hb = c->cout / 2;
    if (c->op == CD_OP_PHC_CONV) {
        n->w[0] = add_w(g, "h.A", 3, (int64_t[]){ c->n, c->n, c->n }, 1);
        n->w[1] = add_w(g, "h.F", rank, d, 2);
        if (c->bias)
            n->w[2] = add_w(g, "h.bias", 1, &cb, 3);
    } else if (c->op == CD_OP_QUATERNION_CONV) {
        for (int p = 0; p < 4; p++) {
            char nm[16];
            snprintf(nm, sizeof nm, "h.%c", "rijk"[p]);
            n->w[p] = add_w(g, nm, rank, d, 10 + (unsigned)p);
        }
        if (c->bias)
            n->w[4] = add_w(g, "h.bias", 1, &cb, 14);
    } else {
        n->w[0] = add_w(g, "h.real", rank, d, 20);
        n->w[1] = add_w(g, "h.imag", rank, d, 21);
        if (c->bias)
            n->w[2] = add_w(g, "h.bias_real", 1, &hb, 22);
        if (c->bias == 1)
            n->w[3] = add_w(g, "h.bias_imag", 1, &hb, 23);
    }
    int out = cd_graph_find_value(g, "h");
    g->values[out].is_output = true;
    g->n_outputs = 1;
    g->outputs = malloc(sizeof(int));
    g->outputs[0] = out;
    return m;
}

static const struct eq_case eq_cases[] = {
    /* PHC: n = 2, 3, 4; 2-D and 1-D; stride, padding, dilation, groups */
    { CD_OP_PHC_CONV, 2, 4, 8, 2, { 9, 7 }, { 3, 3 }, { 1, 1 }, { 1, 1 },
      { 1, 1 }, 1, 0, 0 },
    { CD_OP_PHC_CONV, 2, 6, 9, 3, { 11, 10 }, { 3, 2 }, { 2, 1 }, { 1, 0 },
      { 1, 2 }, 1, 1, CD_ACT_RELU },
    { CD_OP_PHC_CONV, 2, 16, 8, 4, { 7, 7 }, { 3, 3 }, { 1, 2 }, { 2, 1 },
      { 2, 1 }, 2, 0, 0 },
    { CD_OP_PHC_CONV, 1, 6, 12, 3, { 23, 1 }, { 5, 1 }, { 2, 1 }, { 2, 0 },
      { 1, 1 }, 1, 0, 0 },
    { CD_OP_PHC_CONV, 1, 1, 3, 1, { 9, 1 }, { 3, 1 }, { 1, 1 }, { 1, 0 },
      { 1, 1 }, 1, 1, 0 },
    /* quaternion */
    { CD_OP_QUATERNION_CONV, 2, 8, 12, 0, { 9, 8 }, { 3, 3 }, { 1, 1 },
      { 1, 1 }, { 1, 1 }, 1, 1, 0 },
    { CD_OP_QUATERNION_CONV, 2, 16, 8, 0, { 7, 9 }, { 1, 3 }, { 2, 1 },
      { 0, 2 }, { 1, 2 }, 2, 0, CD_ACT_RELU },
    { CD_OP_QUATERNION_CONV, 1, 4, 8, 0, { 17, 1 }, { 3, 1 }, { 1, 1 },
      { 1, 0 }, { 3, 1 }, 1, 1, 0 },
    /* complex: bias real+imag, real only, none */
    { CD_OP_COMPLEX_CONV, 2, 4, 6, 0, { 9, 9 }, { 3, 3 }, { 1, 1 }, { 1, 1 },
      { 1, 1 }, 1, 1, CD_ACT_RELU },
    { CD_OP_COMPLEX_CONV, 2, 2, 8, 0, { 8, 11 }, { 3, 2 }, { 2, 1 }, { 2, 0 },
      { 2, 1 }, 1, 2, 0 },
    { CD_OP_COMPLEX_CONV, 1, 8, 4, 0, { 19, 1 }, { 5, 1 }, { 1, 1 }, { 2, 0 },
      { 1, 1 }, 2, 0, 0 },
};
#define N_EQ ((int)(sizeof eq_cases / sizeof *eq_cases))

START_TEST(materialised_equals_direct)
{
    const struct eq_case *c = &eq_cases[_i];
    struct cd_err err = { 0 };
    struct cd_model *m = eq_model(c);
    /* factor data before the rewrite (the factors stay in the graph) */
    struct factors f = { .O = 0 };
    const struct cd_node *n = &m->g.nodes[0];
    for (int j = 0; j < CD_MAX_WEIGHTS; j++)
        f.p[j] = n->w[j] >= 0 ? m->g.weights[n->w[j]].data : NULL;
    int nb = c->op == CD_OP_PHC_CONV ? c->n : c->op == CD_OP_QUATERNION_CONV ? 4 : 2;
    f.O = c->cout / nb;
    f.I = c->cin / (nb * c->groups);
    f.K = c->k[0] * (c->nsp == 2 ? c->k[1] : 1);
    ck_assert_msg(cd_graph_infer_shapes(&m->g, &err) == CD_OK, "%s", err.msg);
    struct cd_pass_stats st;
    ck_assert_msg(cd_passes_run(&m->g, &st, &err) == CD_OK, "%s", err.msg);
    ck_assert_int_eq(st.n_materialized, 1);
    n = &m->g.nodes[0];
    ck_assert_int_eq(n->op, CD_OP_CONV);
    ck_assert_int_ge(n->w[0], 0);
    ck_assert_ptr_nonnull(strchr(m->g.weights[n->w[0]].name, '#'));
    ck_assert_int_eq(n->w[1] >= 0, c->bias != 0);
    for (int j = 2; j < CD_MAX_WEIGHTS; j++)
        ck_assert_int_eq(n->w[j], -1);

    struct cd_backend *be = NULL;
    ck_assert_msg(cd_backend_ref_init(&be, &err) == CD_OK, "%s", err.msg);
    struct cd_runner *r = NULL;
    const int batch = 2;
    ck_assert_msg(cd_runner_init(&r, m, be, batch, &err) == CD_OK, "%s", err.msg);
    struct cd_shape os = cd_runner_output_shape(r, 0);
    size_t nx = (size_t)c->cin * c->sp[0] * (c->nsp == 2 ? c->sp[1] : 1) * batch;
    size_t ny = (size_t)cd_shape_numel(&os) * batch;
    float *x = malloc(nx * sizeof *x), *y = malloc(ny * sizeof *y),
          *want = malloc(ny * sizeof *want);
    unsigned seed = 77 + (unsigned)_i;
    for (size_t i = 0; i < nx; i++)
        x[i] = fx_rand(&seed);
    ck_assert_msg(cd_runner_run(r, x, batch, &err) == CD_OK, "%s", err.msg);
    ck_assert_int_eq(cd_runner_read_output(r, 0, y, batch, &err), CD_OK);
    direct(c, &f, x, batch, &os.dim[2], want);
    double maxd = 0, maxr = 0;
    for (size_t i = 0; i < ny; i++) {
        maxd = fmax(maxd, fabs((double)y[i] - want[i]));
        maxr = fmax(maxr, fabs((double)want[i]));
    }
    ck_assert_msg(maxr > 0.01, "case %d: degenerate output", _i);
    ck_assert_msg(maxd <= 1e-5 * fmax(1.0, maxr), "case %d (%s): max diff %g "
                  "(max |ref| %g)", _i, cd_ops[c->op].name, maxd, maxr);
    free(x);
    free(y);
    free(want);
    cd_runner_free(r);
    cd_backend_free(be);
    cd_model_unref(m);
}
END_TEST

/* A structured node whose factors do not fit is refused by the pass too. */
START_TEST(materialize_validates)
{
    struct eq_case c = eq_cases[0];
    struct cd_err err = { 0 };
    struct cd_model *m = eq_model(&c);
    ck_assert_int_eq(cd_graph_infer_shapes(&m->g, &err), CD_OK);
    struct cd_node *n = &m->g.nodes[0];
    n->w[0] = add_w(&m->g, "bad.A", 3, (int64_t[]){ 2, 2, 3 }, 5);
    struct cd_pass_stats st;
    ck_assert_int_eq(cd_pass_materialize(&m->g, &st, &err), CD_EINVAL);
    ck_assert_msg(strstr(err.msg, "\"h\" (phc_conv)") && strstr(err.msg, "'A'"),
                  "%s", err.msg);
    ck_assert_int_eq(m->g.nodes[0].op, CD_OP_PHC_CONV);
    cd_model_unref(m);
}
END_TEST

/* ---- hostile factors ---------------------------------------------------- */

static char hdir[64];

struct htensor {
    const char *name;             /* also the weight slot name */
    int ndim;
    int64_t dim[6];
};

struct hcase {
    const char *op;
    int cin, nsp;                 /* input (cin, 9[, 9]) */
    const char *attrs;            /* JSON object body, may be "" */
    struct htensor t[6];          /* name NULL ends */
    const char *want1, *want2;
};

static const struct hcase hcases[] = {
    { "phc_conv", 4, 2, "", { { "A", 3, { 2, 2, 3 } },
      { "F", 5, { 2, 4, 2, 3, 3 } } }, "'A'", "(n, n, n)" },
    { "phc_conv", 4, 2, "", { { "A", 2, { 2, 2 } },
      { "F", 5, { 2, 4, 2, 3, 3 } } }, "'A'", "rank 3" },
    { "phc_conv", 4, 2, "", { { "A", 3, { 2, 2, 2 } },
      { "F", 4, { 2, 4, 2, 3 } } }, "'F'", "(n, Cout/n, Cin/n, kh, kw)" },
    { "phc_conv", 4, 1, "", { { "A", 3, { 2, 2, 2 } },
      { "F", 5, { 2, 4, 2, 3, 3 } } }, "'F'", "(n, Cout/n, Cin/n, k)" },
    { "phc_conv", 4, 2, "", { { "A", 3, { 2, 2, 2 } },
      { "F", 5, { 3, 4, 2, 3, 3 } } }, "dim 0 must be n = 2", NULL },
    { "phc_conv", 4, 2, "", { { "A", 3, { 3, 3, 3 } },
      { "F", 5, { 3, 2, 1, 3, 3 } } },
      "n = 3 does not divide the input channels 4", NULL },
    { "phc_conv", 8, 2, "", { { "A", 3, { 2, 2, 2 } },
      { "F", 5, { 2, 4, 2, 3, 3 } } }, "materialised weight [8, 4, 3, 3]",
      "input channels 8" },
    { "phc_conv", 4, 2, "", { { "A", 3, { 2, 2, 2 } },
      { "F", 5, { 2, 4, 2, 3, 3 } }, { "bias", 1, { 7 } } }, "'bias'", "[8]" },
    { "quaternion_conv", 4, 2, "", { { "r", 4, { 2, 1, 3, 3 } },
      { "i", 4, { 2, 1, 3, 3 } }, { "j", 4, { 2, 1, 3, 1 } },
      { "k", 4, { 2, 1, 3, 3 } } }, "quaternion parts differ", "'j'" },
    { "quaternion_conv", 6, 2, "", { { "r", 4, { 2, 1, 3, 3 } },
      { "i", 4, { 2, 1, 3, 3 } }, { "j", 4, { 2, 1, 3, 3 } },
      { "k", 4, { 2, 1, 3, 3 } } }, "input channels 6 not divisible by 4",
      NULL },
    { "quaternion_conv", 4, 2, "", { { "r", 3, { 2, 1, 3 } },
      { "i", 3, { 2, 1, 3 } }, { "j", 3, { 2, 1, 3 } },
      { "k", 3, { 2, 1, 3 } } }, "'r'", "rank 4" },
    { "quaternion_conv", 4, 2, "", { { "r", 4, { 2, 1, 3, 3 } },
      { "i", 4, { 2, 1, 3, 3 } }, { "j", 4, { 2, 1, 3, 3 } },
      { "k", 4, { 2, 1, 3, 3 } }, { "bias", 1, { 6 } } }, "'bias'", "[8]" },
    { "complex_conv", 2, 2, "", { { "real", 4, { 2, 1, 3, 3 } },
      { "imag", 4, { 2, 2, 3, 3 } } }, "complex halves differ", "[2, 2, 3, 3]" },
    { "complex_conv", 3, 2, "", { { "real", 4, { 2, 1, 3, 3 } },
      { "imag", 4, { 2, 1, 3, 3 } } }, "input channels 3 not even", NULL },
    { "complex_conv", 2, 2, "", { { "real", 4, { 2, 1, 3, 3 } },
      { "imag", 4, { 2, 1, 3, 3 } }, { "bias_real", 1, { 2 } },
      { "bias_imag", 1, { 3 } } }, "'bias_imag'", "[2] (Cout/2)" },
    { "complex_conv", 2, 2, "\"groups\": 2", { { "real", 4, { 2, 1, 3, 3 } },
      { "imag", 4, { 2, 1, 3, 3 } } }, "materialised weight [4, 2, 3, 3]",
      "groups" },
};
#define N_HOSTILE ((int)(sizeof hcases / sizeof *hcases))

static void hostile_setup(void)
{
    strcpy(hdir, "/tmp/cd_hyper_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(hdir));
}

static void hostile_teardown(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/model.json", hdir);
    unlink(p);
    snprintf(p, sizeof p, "%s/w.safetensors", hdir);
    unlink(p);
    rmdir(hdir);
}

/* Writes hdir/w.safetensors (F32 zeros) and hdir/model.json for case c. */
static void write_case(const struct hcase *c)
{
    json_t *h = json_object(), *slots = json_object();
    size_t off = 0;
    for (int k = 0; k < 6 && c->t[k].name; k++) {
        json_t *shape = json_array();
        size_t n = 4;
        for (int i = 0; i < c->t[k].ndim; i++) {
            json_array_append_new(shape, json_integer(c->t[k].dim[i]));
            n *= (size_t)c->t[k].dim[i];
        }
        json_object_set_new(h, c->t[k].name, json_pack(
            "{s:s,s:o,s:[I,I]}", "dtype", "F32", "shape", shape,
            "data_offsets", (json_int_t)off, (json_int_t)(off + n)));
        json_object_set_new(slots, c->t[k].name, json_string(c->t[k].name));
        off += n;
    }
    char *txt = json_dumps(h, JSON_COMPACT);
    json_decref(h);
    size_t hl = strlen(txt), hpad = (hl + 7) / 8 * 8;
    unsigned char *buf = calloc(1, 8 + hpad + off);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)hpad >> (8 * i));
    memset(buf + 8, ' ', hpad);
    memcpy(buf + 8, txt, hl);
    free(txt);
    char p[128];
    snprintf(p, sizeof p, "%s/w.safetensors", hdir);
    FILE *f = fopen(p, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, 8 + hpad + off, f), 8 + hpad + off);
    fclose(f);
    free(buf);
    char *sl = json_dumps(slots, JSON_COMPACT);
    json_decref(slots);
    char js[2048];
    snprintf(js, sizeof js,
             "{\"format\": \"convd-model\", \"version\": 1, \"name\": \"h\","
             " \"task\": \"other\", \"weights\": \"w.safetensors\","
             " \"inputs\": [{\"name\": \"input\", \"shape\": [%d, 9%s]}],"
             " \"outputs\": [\"h\"], \"graph\": [{\"name\": \"h\", \"op\":"
             " \"%s\", \"inputs\": [\"input\"], \"weights\": %s,"
             " \"attrs\": {%s}}]}", c->cin, c->nsp == 2 ? ", 9" : "", c->op,
             sl, c->attrs);
    free(sl);
    snprintf(p, sizeof p, "%s/model.json", hdir);
    f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(js, f);
    fclose(f);
}

START_TEST(hostile_load)
{
    const struct hcase *c = &hcases[_i];
    write_case(c);
    struct cd_model *m = (void *)1;
    struct cd_err e = { 0 };
    int rc = cd_model_load(hdir, &m, &e);
    ck_assert_msg(rc == CD_EINVAL, "case %d: got %s (%s)", _i,
                  cd_status_name(rc), e.msg);
    ck_assert_ptr_null(m);
    ck_assert_msg(strstr(e.msg, c->want1), "case %d: \"%s\" lacks \"%s\"", _i,
                  e.msg, c->want1);
    ck_assert_msg(!c->want2 || strstr(e.msg, c->want2), "case %d: \"%s\" "
                  "lacks \"%s\"", _i, e.msg, c->want2);
    ck_assert_msg(strstr(e.msg, "node \"h\""), "case %d: %s", _i, e.msg);
}
END_TEST

/* Shapes no model file of this size could carry, straight to the shape fn. */
START_TEST(hostile_shape)
{
    struct cd_attrs a;
    struct cd_shape in[2] = { { 4, { 1, 4, 9, 9 } } }, w[CD_MAX_WEIGHTS], out;
    struct cd_err e = { 0 };
    memset(w, 0, sizeof w);
    int rc = CD_OK;
    const char *want = NULL;
    switch (_i) {
    case 0: /* A too large to exist */
        cd_attrs_default(&a, CD_OP_PHC_CONV);
        w[0] = (struct cd_shape){ 3, { 65536, 65536, 65536 } };
        w[1] = (struct cd_shape){ 5, { 65536, 1, 1, 3, 3 } };
        rc = cd_shape_phc_conv(&a, 1, in, w, &out, &e);
        want = "too large";
        break;
    case 1: /* dense weight dim over the limit */
        cd_attrs_default(&a, CD_OP_QUATERNION_CONV);
        for (int p = 0; p < 4; p++)
            w[p] = (struct cd_shape){ 4, { (int64_t)1 << 30, 1, 1, 1 } };
        rc = cd_shape_quaternion_conv(&a, 1, in, w, &out, &e);
        want = "too large";
        break;
    case 2: /* no input at all */
        cd_attrs_default(&a, CD_OP_COMPLEX_CONV);
        rc = cd_shape_complex_conv(&a, 0, in, w, &out, &e);
        want = "no input";
        break;
    case 3: /* input with 4 spatial dims */
        cd_attrs_default(&a, CD_OP_PHC_CONV);
        in[0] = (struct cd_shape){ 6, { 1, 4, 3, 3, 3, 3 } };
        rc = cd_shape_phc_conv(&a, 1, in, w, &out, &e);
        want = "1-3 spatial dims";
        break;
    case 4: /* residual epilogue without its input */
        cd_attrs_default(&a, CD_OP_COMPLEX_CONV);
        a.residual = 1;
        w[0] = w[1] = (struct cd_shape){ 4, { 2, 2, 3, 3 } };
        rc = cd_shape_complex_conv(&a, 1, in, w, &out, &e);
        want = "residual";
        break;
    case 5: /* negative dim */
        cd_attrs_default(&a, CD_OP_QUATERNION_CONV);
        for (int p = 0; p < 4; p++)
            w[p] = (struct cd_shape){ 4, { 2, -1, 3, 3 } };
        rc = cd_shape_quaternion_conv(&a, 1, in, w, &out, &e);
        want = "out of range";
        break;
    }
    ck_assert_msg(rc == CD_EINVAL, "case %d: rc %d (%s)", _i, rc, e.msg);
    ck_assert_msg(strstr(e.msg, want), "case %d: \"%s\" lacks \"%s\"", _i,
                  e.msg, want);
}
END_TEST
#define N_HOSTILE_SHAPE 6

static Suite *hypercomplex_suite(void)
{
    Suite *s = suite_create("hypercomplex");
    TCase *t = tcase_create("rewrite");
    tcase_add_loop_test(t, materialised_equals_direct, 0, N_EQ);
    tcase_add_test(t, materialize_validates);
    suite_add_tcase(s, t);
    t = tcase_create("hostile");
    tcase_add_checked_fixture(t, hostile_setup, hostile_teardown);
    tcase_add_loop_test(t, hostile_load, 0, N_HOSTILE);
    tcase_add_loop_test(t, hostile_shape, 0, N_HOSTILE_SHAPE);
    suite_add_tcase(s, t);
    return s;
}

#include "check_main.h"
CD_TEST_MAIN(hypercomplex_suite)
