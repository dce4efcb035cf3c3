/* micro.h — times one op on the OpenCL backend for the per-family kernel
 * micro-benchmarks (bench/micro/bench_*.c). Cases are described with the
 * op test harness's struct (tests/op_harness.h); inputs are random. */
#ifndef CD_MICRO_H
#define CD_MICRO_H

#include "../../tests/op_harness.h"

#include <time.h>

static inline double micro_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int micro_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Process CPU seconds (every thread, user + system): on a shared machine
 * FLOPs per CPU second are steadier than per wall second. */
static inline double micro_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Set by cd_micro_time: the fastest run's wall seconds and the CPU seconds
 * per run averaged over the timed runs. */
static double cd_micro_best_s, cd_micro_cpu_per_run_s;

/* Median seconds per run of case c over reps runs (after 2 warm-ups), or a
 * negative value on error (message printed). */
static inline double cd_micro_time(const struct cd_harness_case *c, int reps)
{
    struct cd_err err = { 0 };
    struct cd_backend *be = cd_harness_cl();
    struct cd_tref in[8] = { 0 };
    struct cd_exec_node e = { .name = "bench", .op = c->op, .a = &c->a,
                              .n_in = c->n_in, .in = in };
    struct cd_shape out = { 0 };
    if (!be || reps < 1 || reps > 1000)
        return -1.0;
    if (cd_ops[c->op].shape(&c->a, c->n_in, c->in, c->w, &out, &err)) {
        fprintf(stderr, "micro: %s\n", err.msg);
        return -1.0;
    }
    size_t arena = 0, wpool = 0;
    for (int i = 0; i < c->n_in; i++) {
        in[i].shape = c->in[i];
        in[i].off = arena;
        arena += harness_round16((size_t)cd_shape_numel(&c->in[i]) * c->batch);
    }
    e.out.shape = out;
    e.out.off = arena;
    arena += harness_round16((size_t)cd_shape_numel(&out) * c->batch);
    for (int j = 0; j < CD_MAX_WEIGHTS; j++) {
        e.has_w[j] = c->w[j].ndim > 0;
        if (!e.has_w[j])
            continue;
        e.w[j].shape = c->w[j];
        e.w[j].off = wpool;
        wpool += harness_round16((size_t)cd_shape_numel(&c->w[j]));
    }
    double t[1000], cpu0 = 0;
    int rc = be->i->alloc(be, arena, wpool, &err);
    for (int r = -2; rc == CD_OK && r < reps; r++) {
        if (r == 0)
            cpu0 = micro_cpu_s();
        double t0 = micro_now();
        rc = be->i->run(be, &e, c->batch, &err);
        if (rc == CD_OK)
            rc = be->i->finish(be, &err);
        if (r >= 0)
            t[r] = micro_now() - t0;
    }
    if (rc != CD_OK) {
        fprintf(stderr, "micro: %s\n", err.msg);
        return -1.0;
    }
    cd_micro_cpu_per_run_s = (micro_cpu_s() - cpu0) / reps;
    qsort(t, (size_t)reps, sizeof *t, micro_cmp);
    cd_micro_best_s = t[0];
    return t[reps / 2];
}

#endif
