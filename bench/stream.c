/* stream.c — a STREAM-like memory bandwidth benchmark (read (a sum), copy,
 * scale, add, triad on float arrays, N pthreads each owning a contiguous slice) that
 * gives the memory roof of bench/roofline.py and convd-infer --profile.
 * Bytes are counted as STREAM counts them (reads + writes, no write-allocate
 * traffic); each kernel reports its best of R repetitions. It measures the
 * host's memory, which is what POCL's CPU device reads and writes.
 *
 *   stream [--threads N] [--mb MB] [--reps R]
 * prints one line per array size: the given MB per array (default: 64 MB,
 * beyond the last-level cache, then 1 MB, cache-resident) as
 *   stream: level=dram threads=2 array_mb=64 read_gbs=.. copy_gbs=..
 *           scale_gbs=.. add_gbs=.. triad_gbs=.. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum kernel { K_READ, K_COPY, K_SCALE, K_ADD, K_TRIAD, K_COUNT };
static const char *const kernel_names[K_COUNT] = { "read", "copy", "scale", "add", "triad" };
static const int kernel_arrays[K_COUNT] = { 1, 2, 2, 3, 3 };
static volatile float read_sink; /* keeps the read kernel's sum alive */

struct slice {
    float *a, *b, *c;
    size_t n;
    enum kernel k;
    int inner;      /* passes over the slice per timing */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void run_kernel(const struct slice *s)
{
    float *restrict a = s->a, *restrict b = s->b, *restrict c = s->c;
    const float q = 3.0f;
    switch (s->k) {
    case K_READ: {
        float acc[16] = { 0 };
        size_t i = 0;
        for (; i + 16 <= s->n; i += 16)
            for (int j = 0; j < 16; j++)
                acc[j] += a[i + j];
        float sum = 0.0f;
        for (int j = 0; j < 16; j++)
            sum += acc[j];
        read_sink = sum;
        break;
    }
    case K_COPY:
        for (size_t i = 0; i < s->n; i++)
            c[i] = a[i];
        break;
    case K_SCALE:
        for (size_t i = 0; i < s->n; i++)
            b[i] = q * c[i];
        break;
    case K_ADD:
        for (size_t i = 0; i < s->n; i++)
            c[i] = a[i] + b[i];
        break;
    case K_TRIAD:
        for (size_t i = 0; i < s->n; i++)
            a[i] = b[i] + q * c[i];
        break;
    default:
        break;
    }
}

static void *worker(void *arg)
{
    struct slice *s = arg;
    for (int i = 0; i < s->inner; i++)
        run_kernel(s);
    return NULL;
}

/* Best GB/s of reps timings of kernel k over n floats per array, split over
 * nt threads, each timing `inner` passes (thread start-up amortised).
 * Returns a negative value if a thread cannot start. */
static double measure(float *a, float *b, float *c, size_t n, int nt,
                      enum kernel k, int reps, int inner)
{
    double best = 1e30;
    struct slice sl[64];
    pthread_t th[64];
    for (int r = 0; r < reps; r++) {
        int started = 0;
        double t0 = now_s();
        for (int t = 0; t < nt; t++) {
            size_t lo = n * (size_t)t / (size_t)nt, hi = n * (size_t)(t + 1) / (size_t)nt;
            sl[t] = (struct slice){ a + lo, b + lo, c + lo, hi - lo, k, inner };
            if (pthread_create(&th[t], NULL, worker, &sl[t]) != 0)
                break;
            started++;
        }
        for (int t = 0; t < started; t++)
            pthread_join(th[t], NULL);
        double dt = (now_s() - t0) / inner;
        if (started < nt) {
            fprintf(stderr, "stream: cannot start %d threads\n", nt);
            return -1.0;
        }
        if (dt < best)
            best = dt;
    }
    return (double)kernel_arrays[k] * (double)n * sizeof(float) / best * 1e-9;
}

static int level(const char *name, double mb, int nt, int reps)
{
    size_t n = (size_t)(mb * 1048576.0 / sizeof(float));
    if (n < (size_t)nt * 64)
        n = (size_t)nt * 64;
    float *a = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    float *b = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    float *c = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!a || !b || !c) {
        fprintf(stderr, "stream: cannot allocate 3 x %.1f MB\n", mb);
        free(a);
        free(b);
        free(c);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        a[i] = 1.0f;
        b[i] = 2.0f;
        c[i] = 0.0f;
    }
    /* each timing covers at least ~200 MB of traffic */
    int inner = (int)(200.0 / (3.0 * mb)) + 1;
    double gbs[K_COUNT];
    int rc = 0;
    for (int k = 0; k < K_COUNT && !rc; k++) {
        gbs[k] = measure(a, b, c, n, nt, (enum kernel)k, reps, inner);
        rc = gbs[k] < 0;
    }
    if (!rc) {
        printf("stream: level=%s threads=%d array_mb=%g", name, nt, mb);
        for (int k = 0; k < K_COUNT; k++)
            printf(" %s_gbs=%.1f", kernel_names[k], gbs[k]);
        printf("\n");
    }
    free(a);
    free(b);
    free(c);
    return rc;
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

int main(int argc, char **argv)
{
    double threads = 2, mb = 0, reps = 5;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double *dst = !strcmp(argv[i], "--threads") ? &threads
                    : !strcmp(argv[i], "--mb")      ? &mb
                    : !strcmp(argv[i], "--reps")    ? &reps
                                                    : NULL;
        double lo = dst == &mb ? 0.01 : 1, hi = dst == &threads ? 64 : dst == &mb ? 4096 : 1000;
        if (!dst || !v || !parse_num(v, lo, hi, dst)) {
            fprintf(stderr, "usage: stream [--threads 1..64] [--mb MB] [--reps 1..1000]\n");
            return 2;
        }
        i++;
    }
    if (mb > 0)
        return level("given", mb, (int)threads, (int)reps);
    int rc = level("dram", 64, (int)threads, (int)reps);
    if (!rc)
        rc = level("cache", 1, (int)threads, (int)reps);
    return rc;
}
