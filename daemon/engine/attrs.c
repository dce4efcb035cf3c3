/* attrs.c — turns a node's "attrs" JSON object into struct cd_attrs: names
 * allowed by the op's row only, JSON types and value ranges checked, spatial
 * lists consistent. It must not look at tensor shapes (the shape functions
 * do) nor keep any reference to the JSON. */
#include "attrs.h"

#include "json_util.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#define SPATIAL_MAX 65536     /* kernel, stride, dilation, padding entries */
#define SIZE_MAX_ATTR 1048576 /* upsample/adaptive pool output sizes, groups */

static int bad(struct cd_err *err, const char *name, const char *what)
{
    return cd_err_set(err, CD_EINVAL, "attribute \"%s\": expected %s", name,
                      what);
}

static int get_int(const json_t *j, const char *name, int64_t lo, int64_t hi,
                   const char *what, int64_t *out, struct cd_err *err)
{
    if (!json_is_integer(j) || json_integer_value(j) < lo ||
        json_integer_value(j) > hi)
        return bad(err, name, what);
    *out = json_integer_value(j);
    return CD_OK;
}

static int get_float(const json_t *j, const char *name, float *out,
                     struct cd_err *err)
{
    double v = json_number_value(j);
    if (!json_is_number(j) || !isfinite(v) || fabs(v) > 3.4e38)
        return bad(err, name, "a finite number");
    *out = (float)v;
    return CD_OK;
}

static int get_bool(const json_t *j, const char *name, int *out,
                    struct cd_err *err)
{
    if (json_is_boolean(j)) {
        *out = json_is_true(j);
        return CD_OK;
    }
    if (json_is_integer(j) && (json_integer_value(j) == 0 ||
                               json_integer_value(j) == 1)) {
        *out = (int)json_integer_value(j);
        return CD_OK;
    }
    return bad(err, name, "true, false, 0 or 1");
}

/* A list of 1..maxn integers in [lo, hi]. */
static int get_int_list(const json_t *j, const char *name, int maxn,
                        int64_t lo, int64_t hi, const char *what,
                        int64_t *out, int *n, struct cd_err *err)
{
    if (!json_is_array(j) || json_array_size(j) < 1 ||
        json_array_size(j) > (size_t)maxn)
        return bad(err, name, what);
    *n = (int)json_array_size(j);
    for (int i = 0; i < *n; i++)
        if (get_int(json_array_get(j, (size_t)i), name, lo, hi, what, &out[i],
                    err))
            return CD_EINVAL;
    return CD_OK;
}

static int set_nsp(struct cd_attrs *a, int n, const char *name,
                   struct cd_err *err)
{
    if (a->nsp && a->nsp != n)
        return cd_err_set(err, CD_EINVAL,
                          "attribute \"%s\": %d spatial dims, but another "
                          "spatial attribute has %d", name, n, a->nsp);
    a->nsp = n;
    return CD_OK;
}

/* kernel, stride, dilation, size, output_size: positive integers. */
static int spatial_ints(const json_t *j, const char *name, int64_t hi,
                        int *dst, struct cd_attrs *a, struct cd_err *err)
{
    int64_t v[CD_MAX_SPATIAL];
    int n;
    if (get_int_list(j, name, CD_MAX_SPATIAL, 1, hi,
                     "list of positive integers", v, &n, err) ||
        set_nsp(a, n, name, err))
        return CD_EINVAL;
    for (int i = 0; i < n; i++)
        dst[i] = (int)v[i];
    return CD_OK;
}

/* conv_transpose: non-negative, one per spatial dim. */
static int output_padding(const json_t *j, struct cd_attrs *a,
                          struct cd_err *err)
{
    int64_t v[CD_MAX_SPATIAL];
    int n;
    if (get_int_list(j, "output_padding", CD_MAX_SPATIAL, 0, SPATIAL_MAX,
                     "list of non-negative integers", v, &n, err) ||
        set_nsp(a, n, "output_padding", err))
        return CD_EINVAL;
    for (int i = 0; i < n; i++)
        a->output_padding[i] = (int)v[i];
    return CD_OK;
}

/* multidilated_conv: one positive dilation per input-channel slice. */
static int dilation_list(const json_t *j, struct cd_attrs *a,
                         struct cd_err *err)
{
    int64_t v[CD_MAX_DILATIONS];
    int n;
    if (get_int_list(j, "dilations", CD_MAX_DILATIONS, 1, SPATIAL_MAX,
                     "list of 1 to 16 positive integers", v, &n, err))
        return CD_EINVAL;
    for (int i = 0; i < n; i++)
        a->dilations[i] = (int)v[i];
    a->n_dilations = n;
    return CD_OK;
}

static int padding(const json_t *j, struct cd_attrs *a, struct cd_err *err)
{
    const char *what = "list of non-negative integers of length d or 2d";
    int64_t v[2 * CD_MAX_SPATIAL];
    int n, d;
    if (get_int_list(j, "padding", 2 * CD_MAX_SPATIAL, 0, SPATIAL_MAX, what,
                     v, &n, err))
        return CD_EINVAL;
    bool sym;
    if (a->nsp) {
        if (n != a->nsp && n != 2 * a->nsp)
            return cd_err_set(err, CD_EINVAL,
                              "attribute \"padding\": length %d fits neither "
                              "%d nor %d spatial dims", n, a->nsp,
                              2 * a->nsp);
        sym = n == a->nsp;
    } else {
        sym = n == 1 || n == 2 || n == 3; /* [p, q] alone: symmetric 2-D */
    }
    d = sym ? n : n / 2;
    a->nsp = d;
    for (int i = 0; i < d; i++) {
        a->pad_begin[i] = (int)v[i];
        a->pad_end[i] = (int)(sym ? v[i] : v[d + i]);
    }
    return CD_OK;
}

static int scale_list(const json_t *j, struct cd_attrs *a, struct cd_err *err)
{
    const char *what = "list of positive finite numbers";
    if (!json_is_array(j) || json_array_size(j) < 1 ||
        json_array_size(j) > CD_MAX_SPATIAL)
        return bad(err, "scale", what);
    int n = (int)json_array_size(j);
    for (int i = 0; i < n; i++) {
        float f;
        if (get_float(json_array_get(j, (size_t)i), "scale", &f, err) ||
            !(f > 0.0f) || f > 65536.0f)
            return bad(err, "scale", what);
        a->scale[i] = f;
    }
    return set_nsp(a, n, "scale", err);
}

static int reshape_shape(const json_t *j, struct cd_attrs *a,
                         struct cd_err *err)
{
    const char *what = "list of positive integers with at most one -1";
    int64_t v[CD_MAX_DIMS];
    int n, minus = 0;
    if (get_int_list(j, "shape", CD_MAX_DIMS - 1, -1, INT32_MAX, what, v, &n,
                     err))
        return CD_EINVAL;
    for (int i = 0; i < n; i++) {
        if (v[i] == 0 || (v[i] == -1 && ++minus > 1))
            return bad(err, "shape", what);
        a->shape[i] = v[i];
    }
    a->n_shape = n;
    return CD_OK;
}

static int permutation(const json_t *j, struct cd_attrs *a,
                       struct cd_err *err)
{
    const char *what = "a permutation of 0..rank-1 starting with 0";
    int64_t v[CD_MAX_DIMS];
    int n;
    bool seen[CD_MAX_DIMS] = { false };
    if (get_int_list(j, "perm", CD_MAX_DIMS, 0, CD_MAX_DIMS - 1, what, v, &n,
                     err))
        return CD_EINVAL;
    for (int i = 0; i < n; i++) {
        if (v[i] >= n || seen[v[i]])
            return bad(err, "perm", what);
        seen[v[i]] = true;
        a->perm[i] = (int)v[i];
    }
    if (a->perm[0] != 0)
        return bad(err, "perm", what);
    a->n_perm = n;
    return CD_OK;
}

static int string_choice(const json_t *j, const char *name, const char *c0,
                         const char *c1, int *out, struct cd_err *err)
{
    const char *s = json_string_value(j);
    if (s && !strcmp(s, c0))
        *out = 0;
    else if (s && !strcmp(s, c1))
        *out = 1;
    else
        return cd_err_set(err, CD_EINVAL,
                          "attribute \"%s\": expected \"%s\" or \"%s\"", name,
                          c0, c1);
    return CD_OK;
}

/* One attribute; name already known to be accepted by the op. */
static int parse_one(const char *k, const json_t *v, struct cd_attrs *a,
                     bool *act_alpha_set, bool *act_beta_set,
                     struct cd_err *err)
{
    int64_t i64;
    float f;
    int rc;
    if (!strcmp(k, "kernel"))
        return spatial_ints(v, k, SPATIAL_MAX, a->kernel, a, err);
    if (!strcmp(k, "stride"))
        return spatial_ints(v, k, SPATIAL_MAX, a->stride, a, err);
    if (!strcmp(k, "dilation"))
        return spatial_ints(v, k, SPATIAL_MAX, a->dilation, a, err);
    if (!strcmp(k, "dilated_kernel_size")) /* DCLS: the dense kernel's size */
        return spatial_ints(v, k, SPATIAL_MAX, a->kernel, a, err);
    if (!strcmp(k, "output_padding"))
        return output_padding(v, a, err);
    if (!strcmp(k, "dilations"))
        return dilation_list(v, a, err);
    if (!strcmp(k, "size") || !strcmp(k, "output_size"))
        return spatial_ints(v, k, SIZE_MAX_ATTR, a->size, a, err);
    if (!strcmp(k, "scale"))
        return scale_list(v, a, err);
    if (!strcmp(k, "groups")) {
        rc = get_int(v, k, 1, SIZE_MAX_ATTR, "a positive integer", &i64, err);
        a->groups = (int)i64;
        return rc;
    }
    if (!strcmp(k, "ceil_mode"))
        return get_bool(v, k, &a->ceil_mode, err);
    if (!strcmp(k, "count_include_pad"))
        return get_bool(v, k, &a->count_include_pad, err);
    if (!strcmp(k, "align_corners"))
        return get_bool(v, k, &a->align_corners, err);
    if (!strcmp(k, "reverse"))
        return get_bool(v, k, &a->reverse, err);
    if (!strcmp(k, "residual"))
        return get_bool(v, k, &a->residual, err);
    if (!strcmp(k, "mode"))
        return string_choice(v, k, "nearest", "bilinear", &a->mode, err);
    if (!strcmp(k, "approximate"))
        return string_choice(v, k, "none", "tanh", &a->approximate, err);
    if (!strcmp(k, "axis")) {
        rc = get_int(v, k, -CD_MAX_DIMS, CD_MAX_DIMS - 1,
                     "an integer axis", &i64, err);
        a->axis = (int)i64;
        return rc;
    }
    if (!strcmp(k, "start_dim") || !strcmp(k, "end_dim")) {
        rc = get_int(v, k, -CD_MAX_DIMS, CD_MAX_DIMS - 1, "an integer dim",
                     &i64, err);
        if (!rc && !strcmp(k, "start_dim") && i64 == 0)
            return bad(err, k, "a dim other than 0 (the batch)");
        *(!strcmp(k, "start_dim") ? &a->start_dim : &a->end_dim) = (int)i64;
        return rc;
    }
    if (!strcmp(k, "start") || !strcmp(k, "end"))
        return get_int(v, k, INT64_MIN, INT64_MAX, "an integer",
                       !strcmp(k, "start") ? &a->start : &a->end, err);
    if (!strcmp(k, "step"))
        return get_int(v, k, 1, INT64_MAX, "a positive integer", &a->step,
                       err);
    if (!strcmp(k, "shape"))
        return reshape_shape(v, a, err);
    if (!strcmp(k, "perm"))
        return permutation(v, a, err);
    if (!strcmp(k, "activation")) {
        int act = json_is_string(v) ? cd_act_parse(json_string_value(v)) : -1;
        if (act < 0)
            return bad(err, k, "an activation name (relu, gelu, ...)");
        a->act = act;
        return CD_OK;
    }
    if (!strcmp(k, "p")) { /* dropout probability: checked, ignored */
        if (get_float(v, k, &f, err) || f < 0.0f || f > 1.0f)
            return bad(err, k, "a number in [0, 1]");
        return CD_OK;
    }
    /* every remaining attribute is one finite float */
    if ((rc = get_float(v, k, &f, err)))
        return rc;
    if (!strcmp(k, "eps")) {
        if (!(f > 0.0f))
            return bad(err, k, "a positive finite number");
        a->eps = f;
    } else if (!strcmp(k, "alpha") || !strcmp(k, "min") ||
               !strcmp(k, "value")) {
        a->alpha = f;
    } else if (!strcmp(k, "max")) {
        a->beta = f;
    } else if (!strcmp(k, "scalar")) {
        a->has_scalar = 1;
        a->scalar = f;
    } else if (!strcmp(k, "activation_alpha")) {
        a->act_alpha = f;
        *act_alpha_set = true;
    } else if (!strcmp(k, "activation_beta")) {
        a->act_beta = f;
        *act_beta_set = true;
    } else {
        return cd_err_set(err, CD_EINVAL, "attribute \"%s\": not handled", k);
    }
    return CD_OK;
}

int cd_attrs_parse(const json_t *attrs, enum cd_op op, struct cd_attrs *a,
                   struct cd_err *err)
{
    if ((unsigned)op >= CD_OP_COUNT)
        return cd_err_set(err, CD_EINVAL, "invalid op %d", (int)op);
    cd_attrs_default(a, op);
    if (op == CD_OP_PAD)
        a->alpha = 0.0f; /* pad value, not the leaky slope */
    if (attrs && !json_is_object(attrs))
        return cd_err_set(err, CD_EINVAL, "\"attrs\" is not an object");
    const json_t *pad = NULL;
    bool has_kernel = false, has_stride = false;
    bool act_alpha_set = false, act_beta_set = false;
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)attrs, k, v) {
        if (!cd_json_listed(cd_ops[op].attrs, k))
            return cd_err_set(err, CD_EINVAL,
                              "attribute \"%.64s\" is not accepted by op "
                              "\"%s\" (accepted: %s)", k, cd_ops[op].name,
                              *cd_ops[op].attrs ? cd_ops[op].attrs : "none");
        if (!strcmp(k, "padding")) { /* after the lists that fix nsp */
            pad = v;
            continue;
        }
        has_kernel |= !strcmp(k, "kernel");
        has_stride |= !strcmp(k, "stride");
        int rc = parse_one(k, v, a, &act_alpha_set, &act_beta_set, err);
        if (rc)
            return rc;
    }
    if (pad && padding(pad, a, err))
        return CD_EINVAL;
    if (op == CD_OP_MAXPOOL || op == CD_OP_AVGPOOL) {
        if (!has_kernel)
            return cd_err_set(err, CD_EINVAL,
                              "attribute \"kernel\" is required");
        if (!has_stride)
            memcpy(a->stride, a->kernel, sizeof a->stride);
    }
    if (op == CD_OP_CLAMP && a->alpha > a->beta)
        return cd_err_set(err, CD_EINVAL,
                          "attribute \"min\": %g is greater than max %g",
                          (double)a->alpha, (double)a->beta);
    if (a->act == CD_ACT_LEAKY_RELU && !act_alpha_set)
        a->act_alpha = 0.01f;
    if (a->act == CD_ACT_CLAMP) {
        if (!act_alpha_set)
            a->act_alpha = -INFINITY;
        if (!act_beta_set)
            a->act_beta = INFINITY;
    }
    if (op == CD_OP_UPSAMPLE && a->size[0] && a->scale[0] != 0.0f)
        return cd_err_set(err, CD_EINVAL,
                          "attribute \"size\": give size or scale, not both");
    return CD_OK;
}
