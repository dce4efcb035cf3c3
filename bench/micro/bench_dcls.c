/* bench_dcls.c — DCLS runs as the conv it is materialised into: GFLOP/s of
 * that conv on the OpenCL device for typical DCLS layers (ConvNeXt-style
 * depthwise with a large dilated kernel, a dense layer), the parameters on
 * disk vs materialised, and the one-off materialisation time at load.
 * Random data; never writes files. */
#include "micro.h"

#include "engine/graph.h"
#include "engine/op_family.h"

struct bcase {
    const char *name;
    int c_in, c_out, groups, kc, dks, hw, batch, gauss;
};

/* Seconds to materialise the layer's kernel once (graph built in memory). */
static double materialise_time(const struct bcase *b)
{
    struct cd_graph g;
    struct cd_err err = { 0 };
    cd_graph_init(&g);
    int cig = b->c_in / b->groups;
    int64_t per = (int64_t)b->c_out * cig * b->kc;
    int64_t wd[3] = { b->c_out, cig, b->kc }, pd[4] = { 2, b->c_out, cig,
                                                         b->kc };
    float *w = malloc((size_t)per * sizeof *w);
    float *p = malloc((size_t)(2 * per) * sizeof *p);
    float *s = malloc((size_t)(2 * per) * sizeof *s);
    unsigned seed = 1;
    for (int64_t i = 0; i < per; i++)
        w[i] = harness_rand(&seed, -1, 1);
    for (int64_t i = 0; i < 2 * per; i++) {
        p[i] = harness_rand(&seed, -(float)(b->dks / 2), (float)(b->dks / 2));
        s[i] = harness_rand(&seed, 0.1f, 0.5f);
    }
    int id = cd_graph_add_node(&g, "d", CD_OP_DCLS_CONV);
    struct cd_node *n = &g.nodes[id];
    cd_attrs_default(&n->a, CD_OP_DCLS_CONV);
    n->a.nsp = 2;
    n->a.groups = b->groups;
    n->a.kernel[0] = n->a.kernel[1] = b->dks;
    for (int i = 0; i < CD_MAX_WEIGHTS; i++)
        n->w[i] = -1;
    n->w[0] = cd_graph_add_weight(&g, "w", cd_shape_make(3, wd), w, true);
    n->w[1] = cd_graph_add_weight(&g, "P", cd_shape_make(4, pd), p, true);
    if (b->gauss)
        n->w[2] = cd_graph_add_weight(&g, "S", cd_shape_make(4, pd), s, true);
    else
        free(s);
    double t0 = micro_now();
    int rc = cd_materialize_dcls_conv(&g, &g.nodes[id], &err);
    double t = micro_now() - t0;
    if (rc)
        fprintf(stderr, "bench_dcls: %s\n", err.msg);
    cd_graph_free(&g);
    return rc ? -1.0 : t;
}

int main(void)
{
    static const struct bcase cases[] = {
        { "dw 96ch kc34 dks17 56x56 gauss", 96, 96, 96, 34, 17, 56, 2, 1 },
        { "dw 192ch kc26 dks11 28x28 v1", 192, 192, 192, 26, 11, 28, 2, 0 },
        { "dense 64->64 kc9 dks7 32x32 v1", 64, 64, 1, 9, 7, 32, 2, 0 },
    };
    if (!cd_harness_cl()) {
        fprintf(stderr, "bench_dcls: no OpenCL device\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bcase *b = &cases[i];
        struct cd_harness_case c;
        memset(&c, 0, sizeof c);
        c.op = CD_OP_CONV;
        cd_attrs_default(&c.a, c.op);
        c.a.nsp = 2;
        c.a.groups = b->groups;
        c.a.pad_begin[0] = c.a.pad_begin[1] = b->dks / 2;
        c.a.pad_end[0] = c.a.pad_end[1] = b->dks / 2;
        c.n_in = 1;
        c.batch = b->batch;
        c.in[0] = cd_shape_make(4, (int64_t[]){ 1, b->c_in, b->hw, b->hw });
        c.w[0] = cd_shape_make(4, (int64_t[]){ b->c_out, b->c_in / b->groups,
                                               b->dks, b->dks });
        c.w[1] = cd_shape_make(1, (int64_t[]){ b->c_out });
        double t = cd_micro_time(&c, 5), tm = materialise_time(b);
        if (t <= 0 || tm < 0)
            return 1;
        double cig = (double)b->c_in / b->groups;
        double flop = 2.0 * b->batch * b->c_out * cig * b->dks * b->dks *
                      b->hw * b->hw;
        double disk = b->c_out * cig * b->kc * (1 + 2 + 2 * b->gauss);
        double dense = b->c_out * cig * b->dks * b->dks;
        printf("dcls %-32s batch %d: conv %7.2f ms %6.1f GFLOP/s; params "
               "disk %.0f vs dense %.0f (%.2fx); materialise %.2f ms\n",
               b->name, b->batch, t * 1e3, flop / t * 1e-9, disk, dense,
               disk / dense, tm * 1e3);
    }
    return 0;
}
