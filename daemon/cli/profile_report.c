/* profile_report.c — convd-infer --profile: times each planned node (device
 * sync after every node, median over runs) and prints, per node, its op,
 * shapes, FLOPs, bytes moved, time, achieved GFLOP/s, arithmetic intensity,
 * roofline-attainable GFLOP/s and efficiency, then one summary row per cost
 * class. It measures and prints; the cost model is engine/node_cost.c. */
#include "profile_report.h"

#include "engine/node_cost.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct row {
    const struct cd_exec_node *e;
    struct cd_node_cost c;
    double t;       /* median seconds */
    double roof;    /* attainable GFLOP/s */
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* "64x56x56" (per-sample dims after the batch dim). */
static void dims_str(const struct cd_shape *s, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 1; i < s->ndim && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, "%s%lld", i > 1 ? "x" : "",
                              (long long)s->dim[i]);
    if (s->ndim <= 1)
        snprintf(buf, len, "-");
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20)
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static double roof_of(const struct cd_node_cost *c, const struct cd_profile_opts *o)
{
    double ai = c->bytes > 0 ? c->flops / c->bytes : 0.0;
    double mem = ai * o->bandwidth_gbs;
    return mem < o->peak_gflops ? mem : o->peak_gflops;
}

struct class_sum {
    int n;
    double flops, t, t_at_roof;
};

static void print_table(const char *model, int batch, const struct row *rows,
                        int n, const struct class_sum *cls, double total_t,
                        double total_flops, const struct cd_profile_opts *o)
{
    printf("profile: model=%s batch=%d runs=%d peak_gflops=%.0f bandwidth_gbs=%.1f\n",
           model, batch, o->runs, o->peak_gflops, o->bandwidth_gbs);
    printf("%3s %-28s %-14s %-14s %-14s %9s %8s %9s %8s %7s %8s %5s\n", "#",
           "node", "op", "in", "out", "MFLOP", "MB", "time_us", "GFLOP/s",
           "flop/B", "roof", "eff%");
    for (int i = 0; i < n; i++) {
        const struct row *w = &rows[i];
        char in[48], out[48];
        if (w->e->n_in > 0)
            dims_str(&w->e->in[0].shape, in, sizeof in);
        else
            snprintf(in, sizeof in, "-");
        dims_str(&w->e->out.shape, out, sizeof out);
        double gf = w->t > 0 ? w->c.flops / w->t * 1e-9 : 0.0;
        printf("%3d %-28.28s %-14s %-14s %-14s %9.2f %8.3f %9.1f %8.1f %7.2f %8.1f %5.1f\n",
               i, w->e->name, w->c.label, in, out, w->c.flops * 1e-6,
               w->c.bytes * 1e-6, w->t * 1e6, gf,
               w->c.bytes > 0 ? w->c.flops / w->c.bytes : 0.0, w->roof,
               w->roof > 0 ? 100.0 * gf / w->roof : 0.0);
    }
    printf("%-12s %5s %9s %6s %9s %7s %8s %6s\n", "class", "nodes", "time_ms",
           "share%", "GFLOP/s", "%peak", "roof", "eff%");
    for (int k = 0; k < CD_COST_COUNT; k++) {
        const struct class_sum *s = &cls[k];
        if (!s->n)
            continue;
        double gf = s->t > 0 ? s->flops / s->t * 1e-9 : 0.0;
        double roof = s->t_at_roof > 0 ? s->flops / s->t_at_roof * 1e-9 : 0.0;
        printf("%-12s %5d %9.3f %6.1f %9.1f %7.1f %8.1f %6.1f\n",
               cd_cost_class_name((enum cd_cost_class)k), s->n, s->t * 1e3,
               total_t > 0 ? 100.0 * s->t / total_t : 0.0, gf,
               100.0 * gf / o->peak_gflops, roof, roof > 0 ? 100.0 * gf / roof : 0.0);
    }
    printf("total: nodes=%d time_ms=%.3f gflop=%.3f gflops=%.1f images_per_s=%.2f\n",
           n, total_t * 1e3, total_flops * 1e-9,
           total_t > 0 ? total_flops / total_t * 1e-9 : 0.0,
           total_t > 0 ? batch / total_t : 0.0);
}

static void print_json(const char *model, int batch, const struct row *rows,
                       int n, const struct class_sum *cls, double total_t,
                       double total_flops, const struct cd_profile_opts *o)
{
    printf("{\"model\":");
    json_str(model);
    printf(",\"batch\":%d,\"runs\":%d,\"peak_gflops\":%.6g,\"bandwidth_gbs\":%.6g,"
           "\"nodes\":[", batch, o->runs, o->peak_gflops, o->bandwidth_gbs);
    for (int i = 0; i < n; i++) {
        const struct row *w = &rows[i];
        char in[48], out[48];
        if (w->e->n_in > 0)
            dims_str(&w->e->in[0].shape, in, sizeof in);
        else
            snprintf(in, sizeof in, "-");
        dims_str(&w->e->out.shape, out, sizeof out);
        printf("%s{\"name\":", i ? "," : "");
        json_str(w->e->name);
        printf(",\"op\":\"%s\",\"label\":", cd_ops[w->e->op].name);
        json_str(w->c.label);
        printf(",\"class\":\"%s\",\"in\":\"%s\",\"out\":\"%s\",\"flops\":%.6g,"
               "\"bytes\":%.6g,\"time_s\":%.6g,\"roof_gflops\":%.6g}",
               cd_cost_class_name(w->c.klass), in, out, w->c.flops, w->c.bytes,
               w->t, w->roof);
    }
    printf("],\"classes\":{");
    int first = 1;
    for (int k = 0; k < CD_COST_COUNT; k++) {
        if (!cls[k].n)
            continue;
        printf("%s\"%s\":{\"nodes\":%d,\"flops\":%.6g,\"time_s\":%.6g,"
               "\"time_at_roof_s\":%.6g}", first ? "" : ",",
               cd_cost_class_name((enum cd_cost_class)k), cls[k].n, cls[k].flops,
               cls[k].t, cls[k].t_at_roof);
        first = 0;
    }
    printf("},\"total_time_s\":%.6g,\"total_flops\":%.6g}\n", total_t, total_flops);
}

int cd_profile_report(struct cd_runner *r, const char *model_name,
                      const float *input, int batch,
                      const struct cd_profile_opts *o, struct cd_err *err)
{
    int n = cd_runner_n_exec(r), runs = o->runs < 1 ? 1 : o->runs, rc = CD_OK;
    double *t = calloc((size_t)n * (size_t)runs + 1, sizeof *t);
    double *col = calloc((size_t)runs + 1, sizeof *col);
    struct row *rows = calloc((size_t)n + 1, sizeof *rows);
    if (!t || !col || !rows) {
        rc = cd_err_set(err, CD_ENOMEM, "out of memory");
        goto done;
    }
    /* one warm-up run, untimed */
    rc = cd_runner_run_profiled(r, input, batch, t, err);
    for (int k = 0; rc == CD_OK && k < runs; k++)
        rc = cd_runner_run_profiled(r, input, batch, t + (size_t)k * n, err);
    if (rc)
        goto done;
    struct class_sum cls[CD_COST_COUNT] = { 0 };
    double total_t = 0.0, total_flops = 0.0;
    for (int i = 0; i < n; i++) {
        struct row *w = &rows[i];
        w->e = cd_runner_exec_node(r, i);
        for (int k = 0; k < runs; k++)
            col[k] = t[(size_t)k * n + i];
        qsort(col, (size_t)runs, sizeof *col, cmp_double);
        w->t = runs % 2 ? col[runs / 2] : 0.5 * (col[runs / 2 - 1] + col[runs / 2]);
        cd_node_cost(w->e, batch, &w->c);
        w->roof = roof_of(&w->c, o);
        struct class_sum *s = &cls[w->c.klass];
        s->n++;
        s->flops += w->c.flops;
        s->t += w->t;
        if (w->roof > 0)
            s->t_at_roof += w->c.flops / (w->roof * 1e9);
        total_t += w->t;
        total_flops += w->c.flops;
    }
    if (o->json)
        print_json(model_name, batch, rows, n, cls, total_t, total_flops, o);
    else
        print_table(model_name, batch, rows, n, cls, total_t, total_flops, o);
done:
    free(t);
    free(col);
    free(rows);
    return rc;
}
