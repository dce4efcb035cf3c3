/* node_cost.c — FLOPs and compulsory bytes of one planned node, from its
 * shapes and attributes alone (the roofline model of convd-infer --profile).
 * It does not time or run anything and knows nothing of devices. */
#include "node_cost.h"

#include <stdio.h>

static double numel(const struct cd_shape *s)
{
    double n = 1.0;
    for (int i = 0; i < s->ndim; i++)
        n *= (double)s->dim[i];
    return n;
}

/* Product of the spatial kernel dims of a conv weight (Cout, Cin/g, k...). */
static double kernel_elems(const struct cd_shape *w, int *kh, int *kw)
{
    double k = 1.0;
    for (int i = 2; i < w->ndim; i++)
        k *= (double)w->dim[i];
    *kh = w->ndim >= 3 ? (int)w->dim[2] : 1;
    *kw = w->ndim >= 4 ? (int)w->dim[w->ndim - 1] : 1;
    return k;
}

static void conv_cost(const struct cd_exec_node *e, double out_elems,
                      struct cd_node_cost *c)
{
    const struct cd_shape *w = &e->w[0].shape;
    int kh, kw;
    double k = kernel_elems(w, &kh, &kw);
    double cin_per_group = w->ndim >= 2 ? (double)w->dim[1] : 1.0;
    int cin = e->n_in > 0 && e->in[0].shape.ndim >= 2 ? (int)e->in[0].shape.dim[1] : 0;
    int groups = e->a->groups > 0 ? e->a->groups : 1;
    int stride = e->a->nsp > 0 ? e->a->stride[0] : 1;
    bool depthwise = groups > 1 && groups == cin && w->ndim >= 2 && w->dim[1] == 1;
    const char *kind = depthwise ? "dw" : groups > 1 ? "gconv" : "conv";
    c->flops = 2.0 * out_elems * cin_per_group * k;
    if (e->a->nsp == 2) {
        snprintf(c->label, sizeof c->label, "%s%dx%d%s", kind, kh, kw,
                 stride > 1 ? (stride == 2 ? "/s2" : "/s") : "");
        if (depthwise)
            c->klass = CD_COST_DEPTHWISE;
        else if (kh == 3 && kw == 3)
            c->klass = CD_COST_CONV3X3;
        else if (kh == 1 && kw == 1 && groups == 1)
            c->klass = CD_COST_CONV1X1;
        else
            c->klass = CD_COST_CONV_OTHER;
    } else {
        snprintf(c->label, sizeof c->label, "%s%dd k%d", kind, e->a->nsp,
                 (int)k);
        c->klass = depthwise ? CD_COST_DEPTHWISE : CD_COST_CONV_OTHER;
    }
}

/* Whether concat input i already lies where the concat would copy it (a
 * channel prefix laid in place by pass_concat.c): no bytes moved. */
static bool concat_in_place(const struct cd_exec_node *e, int i)
{
    const struct cd_shape *os = &e->out.shape;
    int axis = e->a->axis < 0 ? e->a->axis + os->ndim : e->a->axis;
    if (axis != 1 || os->ndim < 2)
        return false;
    double at = 0.0;
    for (int k = 0; k < i; k++)
        at += (double)e->in[k].shape.dim[1];
    double inner = numel(os) / (double)os->dim[1];
    return (double)e->in[i].off == (double)e->out.off + at * inner &&
           cd_tref_bstride(&e->in[i]) == cd_tref_bstride(&e->out);
}

void cd_node_cost(const struct cd_exec_node *e, int batch, struct cd_node_cost *c)
{
    double b = (double)batch;
    double out_elems = numel(&e->out.shape) * b;
    double moved = out_elems;
    for (int i = 0; i < e->n_in; i++) {
        if (e->op == CD_OP_CONCAT && concat_in_place(e, i))
            moved -= numel(&e->in[i].shape) * b; /* neither read nor written */
        else
            moved += numel(&e->in[i].shape) * b;
    }
    for (int j = 0; j < CD_MAX_WEIGHTS; j++)
        if (e->has_w[j])
            moved += numel(&e->w[j].shape);
    *c = (struct cd_node_cost){ .flops = out_elems, .bytes = 4.0 * moved,
                                .klass = CD_COST_OTHER };
    snprintf(c->label, sizeof c->label, "%s", cd_ops[e->op].name);
    switch (e->op) {
    case CD_OP_CONV:
    case CD_OP_MULTIDILATED_CONV:
        if (e->has_w[0])
            conv_cost(e, out_elems, c);
        break;
    case CD_OP_CONV_TRANSPOSE:
        if (e->has_w[0] && e->n_in > 0) {
            /* weight (Cin, Cout/g, k...): every input element feeds
             * Cout/g * k outputs */
            int kh, kw;
            double k = kernel_elems(&e->w[0].shape, &kh, &kw);
            c->flops = 2.0 * numel(&e->in[0].shape) * b *
                       (double)e->w[0].shape.dim[1] * k;
            c->klass = CD_COST_CONV_OTHER;
        }
        break;
    case CD_OP_LINEAR:
        if (e->has_w[0] && e->w[0].shape.ndim == 2) {
            c->flops = 2.0 * out_elems * (double)e->w[0].shape.dim[1];
            c->klass = CD_COST_GEMM;
        }
        break;
    case CD_OP_MATMUL:
        if (e->n_in > 0 && e->in[0].shape.ndim >= 2) {
            const struct cd_shape *a = &e->in[0].shape;
            c->flops = 2.0 * out_elems * (double)a->dim[a->ndim - 1];
            c->klass = CD_COST_GEMM;
        }
        break;
    case CD_OP_MAXPOOL:
    case CD_OP_AVGPOOL: {
        double k = 1.0;
        for (int i = 0; i < e->a->nsp; i++)
            k *= (double)e->a->kernel[i];
        c->flops = out_elems * k;
        break;
    }
    default:
        break;
    }
}

const char *cd_cost_class_name(enum cd_cost_class c)
{
    static const char *const names[CD_COST_COUNT] = {
        [CD_COST_CONV3X3] = "conv3x3",   [CD_COST_CONV1X1] = "conv1x1",
        [CD_COST_DEPTHWISE] = "depthwise", [CD_COST_CONV_OTHER] = "conv-other",
        [CD_COST_GEMM] = "gemm",         [CD_COST_OTHER] = "other",
    };
    return c >= 0 && c < CD_COST_COUNT ? names[c] : "?";
}
