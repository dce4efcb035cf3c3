/* convd_infer.c — the command-line runner: loads one model folder, runs it on
 * one image or .npy input with the chosen device, prints top-k, every output
 * as JSON, or a latency/throughput benchmark. It holds no inference logic of
 * its own: everything goes through engine/ and media/. */
#include "engine/backend.h"
#include "engine/eigencam.h"
#include "engine/model.h"
#include "engine/passes.h"
#include "engine/runner.h"
#include "cli/profile_report.h"
#include "media/image.h"
#include "media/npy.h"
#include "media/preprocess.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct opts {
    const char *model, *input, *device, *cache_dir;
    const char *cam_layer;   /* --cam LAYER; NULL: the model's cam_layer */
    int top, batch, bench;
    bool json, verbose, cam, profile;
    double peak_gflops, bandwidth_gbs; /* --profile roofline */
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: convd-infer --model DIR --input FILE [--top K] [--json]\n"
            "                   [--device auto|gpu|cpu|ref|P:D] [--batch B --bench N]\n"
            "                   [--cache-dir DIR] [--verbose] [--cam [LAYER]]\n"
            "                   [--profile [--peak-gflops G] [--bandwidth-gbs B]]\n"
            "  FILE is a JPEG/PNG image (preprocessed as model.json says) or a\n"
            "  .npy float32 array of the model's input shape, with or without\n"
            "  the leading batch dimension (no preprocessing).\n"
            "  --cam prints the Eigen-CAM map of each sample (one JSON line per\n"
            "  sample: h, w, map, peak, and the map upsampled to the input size:\n"
            "  its size and peak) at the model's cam_layer or at LAYER.\n"
            "  --profile times every planned node (a device sync after each;\n"
            "  median of --bench N runs, default 10) and prints op, shapes,\n"
            "  FLOPs, bytes, time, GFLOP/s, flop/byte, the roofline bound\n"
            "  min(G, B * flop/byte) and the efficiency; --json for JSON.\n"
            "  G defaults to 230 and B to 34.5 GB/s (this project's 2-core Zen 4\n"
            "  machine, measured by bench/peak.c and bench/stream.c);\n"
            "  bench/roofline.py passes the roofs it measures.\n");
}

static bool parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

static bool parse_pos_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || !(v > 0.0) || v > 1e9)
        return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    *o = (struct opts){ .device = "auto", .top = 5, .batch = 1,
                        .peak_gflops = 230.0, .bandwidth_gbs = 34.5 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool has_v = true;
        if (!strcmp(a, "--json"))
            o->json = true, has_v = false;
        else if (!strcmp(a, "--cam")) {
            o->cam = true;
            has_v = v && strncmp(v, "--", 2);
            if (has_v)
                o->cam_layer = v;
        } else if (!strcmp(a, "--profile")) {
            o->profile = true;
            has_v = false;
        } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v"))
            o->verbose = true, has_v = false;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return -1; /* help printed: main exits 0 */
        } else if (!v) {
            fprintf(stderr, "convd-infer: %s needs a value\n", a);
            return 2;
        } else if (!strcmp(a, "--model"))
            o->model = v;
        else if (!strcmp(a, "--input"))
            o->input = v;
        else if (!strcmp(a, "--device"))
            o->device = v;
        else if (!strcmp(a, "--cache-dir"))
            o->cache_dir = v;
        else if (!strcmp(a, "--top")) {
            if (!parse_int(v, 1, 100000, &o->top))
                goto bad;
        } else if (!strcmp(a, "--batch")) {
            if (!parse_int(v, 1, 4096, &o->batch))
                goto bad;
        } else if (!strcmp(a, "--bench")) {
            if (!parse_int(v, 1, 1000000, &o->bench))
                goto bad;
        } else if (!strcmp(a, "--peak-gflops")) {
            if (!parse_pos_double(v, &o->peak_gflops))
                goto bad;
        } else if (!strcmp(a, "--bandwidth-gbs")) {
            if (!parse_pos_double(v, &o->bandwidth_gbs))
                goto bad;
        } else {
            fprintf(stderr, "convd-infer: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (has_v)
            i++;
        continue;
bad:
        fprintf(stderr, "convd-infer: bad value for %s: %s\n", a, v);
        return 2;
    }
    if (!o->model || !o->input) {
        usage(stderr);
        return 2;
    }
    return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcasecmp(s + n - m, suffix);
}

/* Fills *data with (batch, input shape) floats from an image or .npy. */
static int load_input(const struct opts *o, struct cd_model *m,
                      struct cd_shape in_shape, float **data, int *batch,
                      struct cd_err *err)
{
    size_t per = (size_t)cd_shape_numel(&in_shape);
    if (ends_with(o->input, ".npy")) {
        struct cd_shape s;
        float *d = NULL;
        int rc = cd_npy_load(o->input, &s, &d, err);
        if (rc != CD_OK)
            return rc;
        /* accept (per-sample without batch) or (B, per-sample...) */
        struct cd_shape want = in_shape;
        bool no_batch = s.ndim == in_shape.ndim - 1;
        for (int i = 0; no_batch && i < s.ndim; i++)
            no_batch = s.dim[i] == in_shape.dim[i + 1];
        bool with_batch = s.ndim == in_shape.ndim && s.dim[0] >= 1;
        for (int i = 1; with_batch && i < s.ndim; i++)
            with_batch = s.dim[i] == in_shape.dim[i];
        if (!no_batch && !with_batch) {
            char a[96], b[96];
            free(d);
            return cd_err_set(err, CD_EINVAL,
                              "%s: shape %s does not match the model input %s",
                              o->input, cd_shape_str(&s, a, sizeof a),
                              cd_shape_str(&want, b, sizeof b));
        }
        *batch = no_batch ? 1 : (int)s.dim[0];
        *data = d;
        return CD_OK;
    }
    if (m->pre.kind != CD_INPUT_IMAGE)
        return cd_err_set(err, CD_EINVAL,
                          "model \"%s\" takes no images: give a .npy input", m->name);
    struct cd_image img = { 0 };
    int rc = cd_image_load_file(o->input, m->pre.channels, (size_t)1 << 28, &img, err);
    if (rc != CD_OK)
        return rc;
    float *d = malloc(per * (size_t)o->batch * sizeof *d);
    if (!d) {
        cd_image_free(&img);
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    }
    rc = cd_preprocess_image(&img, &m->pre, d, err);
    cd_image_free(&img);
    if (rc != CD_OK) {
        free(d);
        return rc;
    }
    for (int b = 1; b < o->batch; b++)
        memcpy(d + (size_t)b * per, d, per * sizeof *d);
    *batch = o->batch;
    *data = d;
    return CD_OK;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Marks the CAM layer readable before the passes run (they keep what is
 * kept); refuses a name the graph does not have. */
static int mark_cam_layer(const struct opts *o, struct cd_model *m,
                          const char **layer, struct cd_err *err)
{
    *layer = o->cam_layer ? o->cam_layer : m->cam_layer;
    if (!*layer)
        return cd_err_set(err, CD_EINVAL, "model \"%s\" has no cam_layer: "
                          "give --cam LAYER", m->name);
    int v = cd_graph_find_value(&m->g, *layer);
    if (v < 0)
        return cd_err_set(err, CD_EINVAL, "--cam: model \"%s\" has no layer "
                          "\"%s\"", m->name, *layer);
    m->g.values[v].keep = true;
    return CD_OK;
}

/* s as a JSON string body (quotes and backslashes escaped, controls as
 * \u00XX). */
static void print_json_str(const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
}

/* Eigen-CAM of every sample of the batch, one JSON line each. */
static int print_cam(struct cd_runner *r, const char *layer, int batch,
                     struct cd_err *err)
{
    int C, h, w, mh, mw, rc;
    struct cd_eigencam_info info;
    if ((rc = cd_eigencam_layer_shape(r, layer, &C, &h, &w, err)))
        return rc;
    struct cd_shape in = cd_runner_input_shape(r);
    int H = in.ndim == 4 ? (int)in.dim[2] : 1;
    int W = (int)in.dim[in.ndim - 1];
    float *map = malloc((size_t)h * w * sizeof *map);
    float *up = malloc((size_t)H * W * sizeof *up);
    if (!map || !up) {
        rc = cd_err_set(err, CD_ENOMEM, "out of memory");
        goto fail;
    }
    for (int b = 0; b < batch; b++) {
        if ((rc = cd_eigencam_compute(r, layer, b, batch, map, (size_t)h * w, &mh,
                                      &mw, &info, err)) ||
            (rc = cd_eigencam_upsample(map, h, w, up, H, W, err)))
            goto fail;
        int uy, ux;
        cd_eigencam_peak(up, H, W, &uy, &ux);
        printf("{\"sample\":%d,\"layer\":\"", b);
        print_json_str(layer);
        printf("\",\"channels\":%d,\"h\":%d,\"w\":%d,\"map\":[", C, h, w);
        for (size_t k = 0; k < (size_t)h * w; k++)
            printf("%s%.6g", k ? "," : "", (double)map[k]);
        printf("],\"peak\":{\"y\":%d,\"x\":%d},\"upsampled\":{\"h\":%d,\"w\":%d,"
               "\"peak\":{\"y\":%d,\"x\":%d}},\"iterations\":%d,\"converged\":%s,"
               "\"flipped\":%s,\"degenerate\":%s}\n", info.peak_y, info.peak_x, H, W,
               uy, ux, info.iters, info.converged ? "true" : "false",
               info.flipped ? "true" : "false", info.degenerate ? "true" : "false");
    }
fail:
    free(map);
    free(up);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void print_json(struct cd_runner *r, float **outs, int batch)
{
    printf("{\"outputs\":{");
    for (int i = 0; i < cd_runner_n_outputs(r); i++) {
        struct cd_shape s = cd_runner_output_shape(r, i);
        size_t n = (size_t)cd_shape_numel(&s) * (size_t)batch;
        printf("%s\"%s\":{\"shape\":[%d", i ? "," : "", cd_runner_output_name(r, i),
               batch);
        for (int d = 1; d < s.ndim; d++)
            printf(",%lld", (long long)s.dim[d]);
        printf("],\"data\":[");
        for (size_t k = 0; k < n; k++)
            printf(isfinite(outs[i][k]) ? "%s%.9g" : "%snull", k ? "," : "",
                   (double)outs[i][k]);
        printf("]}");
    }
    printf("}}\n");
}

static void print_topk(const struct cd_model *m, struct cd_runner *r,
                       const float *out, int batch, int top)
{
    struct cd_shape s = cd_runner_output_shape(r, 0);
    size_t per = (size_t)cd_shape_numel(&s);
    for (int b = 0; b < batch; b++) {
        const float *x = out + (size_t)b * per;
        double mx = -INFINITY, sum = 0.0;
        for (size_t k = 0; k < per; k++)
            mx = fmax(mx, x[k]);
        for (size_t k = 0; k < per; k++)
            sum += exp(x[k] - mx);
        if (batch > 1)
            printf("sample %d:\n", b);
        bool *taken = calloc(per, sizeof *taken);
        if (!taken)
            return;
        for (int t = 0; t < top && (size_t)t < per; t++) {
            size_t best = SIZE_MAX;
            for (size_t k = 0; k < per; k++)
                if (!taken[k] && (best == SIZE_MAX || x[k] > x[best]))
                    best = k;
            taken[best] = true;
            const char *label = (int)best < m->n_labels ? m->labels[best] : "";
            printf("%2d. %-24s index=%zu score=%.4f logit=%.4f\n", t + 1, label,
                   best, exp(x[best] - mx) / sum, x[best]);
        }
        free(taken);
    }
}

int main(int argc, char **argv)
{
    struct opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc < 0 ? 0 : rc;
    struct cd_err err = { 0 };
    struct cd_model *m = NULL;
    struct cd_backend *be = NULL;
    struct cd_runner *r = NULL;
    struct cd_pass_stats st;
    float *input = NULL, *outs[16] = { 0 };
    int batch = 1, exit_code = 1;
    const char *cam_layer = NULL;

    if ((rc = cd_model_load(o.model, &m, &err)) ||
        (o.cam && (rc = mark_cam_layer(&o, m, &cam_layer, &err))) ||
        (rc = cd_passes_run(&m->g, &st, &err)))
        goto fail;
    if (!strcmp(o.device, "ref"))
        rc = cd_backend_ref_init(&be, &err);
    else
        rc = cd_backend_cl_init(&be, o.device,
                                o.cache_dir ? o.cache_dir : getenv("CONVD_CACHE_DIR"),
                                &err);
    if (rc)
        goto fail;
    struct cd_shape in_shape = m->g.values[m->g.inputs[0]].shape;
    if ((rc = load_input(&o, m, in_shape, &input, &batch, &err)))
        goto fail;
    int max_batch = batch > o.batch ? batch : o.batch;
    if ((rc = cd_runner_init(&r, m, be, max_batch, &err)))
        goto fail;
    if (o.verbose || o.bench || o.profile)
        fprintf(stderr,
                "model %s on %s: %d nodes, arena %.2f MB for batch %d, weights "
                "%.2f MB; materialised %d structured convs, folded %d batchnorms, "
                "merged %d re-param branches, fused %d activations (%d into "
                "batchnorms) and %d residual adds, %d views; %d concats "
                "chained, %d in place; %d permute pairs dropped, %d channel "
                "scales folded\n",
                m->name, be->desc, m->g.n_nodes,
                cd_runner_arena_bytes(r) / 1048576.0, max_batch,
                cd_runner_weight_bytes(r) / 1048576.0, st.n_materialized,
                st.n_bn_folded, st.n_reparam_merged,
                st.n_act_fused, st.n_norm_act_fused, st.n_residual_fused,
                st.n_aliased, st.n_concat_chained, st.n_concat_inplace,
                st.n_permute_pairs_dropped, st.n_scale_folded);
    int n_out = cd_runner_n_outputs(r);
    if (n_out > 16) {
        rc = cd_err_set(&err, CD_EUNSUPPORTED, "more than 16 outputs");
        goto fail;
    }
    if ((rc = cd_runner_run(r, input, batch, &err)))
        goto fail;
    for (int i = 0; i < n_out; i++) {
        struct cd_shape s = cd_runner_output_shape(r, i);
        outs[i] = malloc((size_t)cd_shape_numel(&s) * (size_t)batch * sizeof(float));
        if (!outs[i]) {
            rc = cd_err_set(&err, CD_ENOMEM, "out of memory");
            goto fail;
        }
        if ((rc = cd_runner_read_output(r, i, outs[i], batch, &err)))
            goto fail;
    }
    if (o.profile) {
        struct cd_profile_opts po = { .runs = o.bench ? o.bench : 10,
                                      .peak_gflops = o.peak_gflops,
                                      .bandwidth_gbs = o.bandwidth_gbs,
                                      .json = o.json };
        if ((rc = cd_profile_report(r, m->name, input, batch, &po, &err)))
            goto fail;
    } else if (o.bench) {
        double *t = malloc((size_t)o.bench * sizeof *t);
        if (!t) {
            rc = cd_err_set(&err, CD_ENOMEM, "out of memory");
            goto fail;
        }
        for (int w = 0; w < 2 && rc == CD_OK; w++)
            rc = cd_runner_run(r, input, batch, &err);
        double t0 = now_s();
        for (int i = 0; i < o.bench && rc == CD_OK; i++) {
            double s = now_s();
            rc = cd_runner_run(r, input, batch, &err);
            t[i] = now_s() - s;
        }
        double total = now_s() - t0;
        if (rc == CD_OK) {
            qsort(t, (size_t)o.bench, sizeof *t, cmp_double);
            printf("bench: model=%s batch=%d runs=%d mean_ms=%.3f p50_ms=%.3f "
                   "min_ms=%.3f images_per_s=%.2f\n",
                   m->name, batch, o.bench, total / o.bench * 1e3,
                   t[o.bench / 2] * 1e3, t[0] * 1e3, batch * o.bench / total);
        }
        free(t);
        if (rc)
            goto fail;
    } else if (o.cam) {
        if ((rc = print_cam(r, cam_layer, batch, &err)))
            goto fail;
    } else if (o.json) {
        print_json(r, outs, batch);
    } else {
        print_topk(m, r, outs[0], batch, o.top);
    }
    exit_code = 0;
fail:
    if (rc)
        fprintf(stderr, "convd-infer: %s\n", err.msg);
    for (int i = 0; i < 16; i++)
        free(outs[i]);
    free(input);
    cd_runner_free(r);
    cd_backend_free(be);
    cd_model_unref(m);
    return exit_code;
}
