/* peak.c — the compute roof: FP32 fused multiply-add throughput of this
 * host's cores, measured rather than taken from a datasheet, for
 * bench/roofline.py and convd-infer --profile. Each thread runs 12
 * independent accumulator chains (enough to hide FMA latency) of 512-bit and
 * then 256-bit vectors, so the two rates also tell whether 512-bit FMAs are
 * full width (Zen 5, Intel server cores: twice the 256-bit rate) or
 * double-pumped (Zen 4: the same rate). Counts 2 FLOPs per lane per FMA.
 *
 *   peak [--threads N] [--ms M]
 * prints one line:
 *   peak: threads=2 fma512_gflops=.. fma256_gflops=.. per_core_gflops=.. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef float v16 __attribute__((vector_size(64)));
typedef float v8 __attribute__((vector_size(32)));

#define CHAINS 12

struct job {
    int wide;               /* 1: 512-bit, 0: 256-bit */
    long iters;
    double seconds;
    float sink;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The loops are written out so the compiler keeps 12 live vector registers
 * and emits one FMA per statement (-O2 -mavx512f -mfma, GNU C contracts
 * a * b + c). */
#define CHAIN_BODY(T)                                                         \
    T z = { 0 }, m = z + 0.999999f, d = z + 1e-7f;                            \
    T a0 = z + 0.1f, a1 = z + 0.2f, a2 = z + 0.3f, a3 = z + 0.4f;             \
    T a4 = z + 0.5f, a5 = z + 0.6f, a6 = z + 0.7f, a7 = z + 0.8f;             \
    T a8 = z + 0.9f, a9 = z + 1.0f, a10 = z + 1.1f, a11 = z + 1.2f;           \
    long n = j->iters;                                                        \
    for (long i = 0; i < n; i++) {                                            \
        a0 = a0 * m + d; a1 = a1 * m + d; a2 = a2 * m + d;                    \
        a3 = a3 * m + d; a4 = a4 * m + d; a5 = a5 * m + d;                    \
        a6 = a6 * m + d; a7 = a7 * m + d; a8 = a8 * m + d;                    \
        a9 = a9 * m + d; a10 = a10 * m + d; a11 = a11 * m + d;                \
    }                                                                         \
    T s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;        \
    j->sink = s[0];

static void run512(struct job *j) { CHAIN_BODY(v16) }
static void run256(struct job *j) { CHAIN_BODY(v8) }

static void *worker(void *arg)
{
    struct job *j = arg;
    double t0 = now_s();
    if (j->wide)
        run512(j);
    else
        run256(j);
    j->seconds = now_s() - t0;
    return NULL;
}

/* GFLOP/s of `threads` threads each running `iters` iterations: total FLOPs
 * over the slowest thread's time. */
static double measure(int threads, int wide, long iters)
{
    pthread_t tid[64];
    struct job jobs[64];
    for (int t = 0; t < threads; t++) {
        jobs[t] = (struct job){ .wide = wide, .iters = iters };
        if (pthread_create(&tid[t], NULL, worker, &jobs[t]) != 0) {
            fprintf(stderr, "peak: pthread_create: %s\n", strerror(errno));
            return -1.0;
        }
    }
    double worst = 0.0;
    float sink = 0.0f;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        if (jobs[t].seconds > worst)
            worst = jobs[t].seconds;
        sink += jobs[t].sink;
    }
    if (sink == 12345.0f)
        fputc(' ', stderr);
    double lanes = wide ? 16.0 : 8.0;
    return 2.0 * lanes * CHAINS * (double)iters * threads / worst / 1e9;
}

/* Best of five timings of about `ms` milliseconds each. */
static double best_rate(int threads, int wide, double ms)
{
    long iters = 100000;
    double r = measure(threads, wide, iters);
    if (r <= 0)
        return r;
    /* scale to ms: flops per thread = 2*lanes*CHAINS*iters */
    double per_iter_s = 2.0 * (wide ? 16 : 8) * CHAINS * threads / (r * 1e9);
    iters = (long)(ms * 1e-3 / per_iter_s);
    if (iters < 1000)
        iters = 1000;
    double best = 0.0;
    for (int rep = 0; rep < 5; rep++) {
        double x = measure(threads, wide, iters);
        if (x > best)
            best = x;
    }
    return best;
}

int main(int argc, char **argv)
{
    int threads = 2;
    double ms = 100.0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            threads = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--ms") == 0 && i + 1 < argc) {
            ms = atof(argv[++i]);
        } else {
            fprintf(stderr, "usage: peak [--threads N] [--ms M]\n");
            return 2;
        }
    }
    if (threads < 1 || threads > 64 || ms <= 0 || ms > 10000) {
        fprintf(stderr, "peak: --threads must be 1..64 and --ms 0..10000\n");
        return 2;
    }
    double w = best_rate(threads, 1, ms), n = best_rate(threads, 0, ms);
    if (w <= 0 || n <= 0)
        return 1;
    printf("peak: threads=%d fma512_gflops=%.1f fma256_gflops=%.1f "
           "per_core_gflops=%.1f\n", threads, w, n,
           (w > n ? w : n) / threads);
    return 0;
}
