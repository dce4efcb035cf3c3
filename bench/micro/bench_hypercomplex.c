/* bench_hypercomplex.c — the hypercomplex convs after load: phc_conv,
 * quaternion_conv and complex_conv are materialised into a dense conv, so
 * this times (a) the one-off materialisation (cd_pass_materialize, host) and
 * (b) the materialised conv on the OpenCL device in GFLOP/s (FLOPs = 2 * N *
 * Cout * Cin/groups * K * out pixels), and prints the parameter count on disk
 * (factors) against materialised. One line per case; never judges. */
#include "micro.h"

#include "engine/passes.h"

struct layer {
    const char *what;
    enum cd_op op;
    int n;                       /* PHC only */
    int batch, cin, cout, nsp, len, k; /* 2-D: len x len input, k x k kernel */
};

static int nblocks(const struct layer *l)
{
    return l->op == CD_OP_PHC_CONV ? l->n : l->op == CD_OP_QUATERNION_CONV ? 4 : 2;
}

static int add_rand(struct cd_graph *g, const char *name, struct cd_shape s,
                    unsigned *seed)
{
    size_t n = (size_t)cd_shape_numel(&s);
    float *d = malloc(n * sizeof *d);
    if (!d)
        return -1;
    for (size_t i = 0; i < n; i++)
        d[i] = harness_rand(seed, -0.5f, 0.5f);
    return cd_graph_add_weight(g, name, s, d, true);
}

/* Builds x -> layer in g with random factors; returns the factor count. */
static int64_t build(struct cd_graph *g, const struct layer *l)
{
    unsigned seed = 1;
    int nb = nblocks(l), sp = l->nsp;
    int64_t d[6], disk = 0;
    int lead = l->op == CD_OP_PHC_CONV, x = cd_graph_add_value(g, "x");
    g->values[x].shape = cd_shape_make(2 + sp,
                                       (int64_t[]){ 1, l->cin, l->len, l->len });
    int id = cd_graph_add_node(g, "layer", l->op);
    struct cd_node *n = &g->nodes[id];
    n->n_in = 1;
    n->in = malloc(sizeof(int));
    n->in[0] = x;
    n->out = cd_graph_add_value(g, "layer");
    n->a.nsp = sp;
    for (int i = 0; i < sp; i++)
        n->a.pad_begin[i] = n->a.pad_end[i] = l->k / 2;
    d[0] = l->n;
    d[lead] = l->cout / nb;
    d[lead + 1] = l->cin / nb;
    for (int i = 0; i < sp; i++)
        d[lead + 2 + i] = l->k;
    struct cd_shape part = cd_shape_make(lead + 2 + sp, d);
    if (l->op == CD_OP_PHC_CONV) {
        struct cd_shape a = cd_shape_make(3, (int64_t[]){ l->n, l->n, l->n });
        n->w[0] = add_rand(g, "A", a, &seed);
        n->w[1] = add_rand(g, "F", part, &seed);
        disk = cd_shape_numel(&a) + cd_shape_numel(&part);
    } else {
        for (int p = 0; p < nb; p++) {
            char nm[8] = { 'p', (char)('0' + p), 0 };
            g->nodes[id].w[p] = add_rand(g, nm, part, &seed);
        }
        disk = nb * cd_shape_numel(&part);
    }
    return disk;
}

int main(void)
{
    static const struct layer layers[] = {
        { "phc n=2 3x3", CD_OP_PHC_CONV, 2, 2, 64, 64, 2, 56, 3 },
        { "phc n=4 3x3", CD_OP_PHC_CONV, 4, 2, 64, 64, 2, 56, 3 },
        { "phc n=4 1x1", CD_OP_PHC_CONV, 4, 2, 256, 256, 2, 28, 1 },
        { "phc n=3 3x3", CD_OP_PHC_CONV, 3, 2, 96, 96, 2, 28, 3 },
        { "phc n=4 1-D k9", CD_OP_PHC_CONV, 4, 2, 64, 64, 1, 2048, 9 },
        { "quaternion 3x3", CD_OP_QUATERNION_CONV, 0, 2, 64, 64, 2, 56, 3 },
        { "complex 3x3", CD_OP_COMPLEX_CONV, 0, 2, 64, 64, 2, 56, 3 },
    };
    if (!cd_harness_cl()) {
        fprintf(stderr, "bench_hypercomplex: no OpenCL device\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
        const struct layer *l = &layers[i];
        struct cd_err err = { 0 };
        struct cd_graph g;
        struct cd_pass_stats st = { 0 };
        cd_graph_init(&g);
        int64_t disk = build(&g, l);
        double t0 = micro_now();
        if (cd_graph_infer_shapes(&g, &err) ||
            cd_pass_materialize(&g, &st, &err)) {
            fprintf(stderr, "bench_hypercomplex: %s\n", err.msg);
            cd_graph_free(&g);
            return 1;
        }
        double tm = micro_now() - t0;
        struct cd_shape wd = g.weights[g.nodes[0].w[0]].shape;
        int64_t dense = cd_shape_numel(&wd);
        cd_graph_free(&g);

        struct cd_harness_case hc;
        memset(&hc, 0, sizeof hc);
        hc.op = CD_OP_CONV;
        cd_attrs_default(&hc.a, CD_OP_CONV);
        hc.a.nsp = l->nsp;
        for (int s = 0; s < l->nsp; s++)
            hc.a.pad_begin[s] = hc.a.pad_end[s] = l->k / 2;
        hc.n_in = 1;
        hc.batch = l->batch;
        hc.in[0] = cd_shape_make(2 + l->nsp,
                                 (int64_t[]){ 1, l->cin, l->len, l->len });
        hc.w[0] = wd;
        double t = cd_micro_time(&hc, 7);
        if (t <= 0)
            return 1;
        double pix = l->nsp == 2 ? (double)l->len * l->len : l->len;
        double kk = l->nsp == 2 ? (double)l->k * l->k : l->k;
        double fl = 2.0 * l->batch * l->cout * l->cin * kk * pix;
        printf("%-15s %4d->%-4d %s%-4d N=%d  materialise %6.2f ms  conv "
               "%8.3f ms %7.2f GFLOP/s  params disk %7lld / dense %7lld = "
               "%.3f\n", l->what, l->cin, l->cout, l->nsp == 2 ? "2-D " :
               "1-D ", l->len, l->batch, tm * 1e3, t * 1e3, fl / t * 1e-9,
               (long long)disk, (long long)dense, (double)disk / dense);
    }
    return 0;
}
