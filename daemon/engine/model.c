/* model.c — loads a model folder: parses and validates model.json (metadata,
 * input, labels, graph; the preprocess spec is model_preprocess.c's), maps
 * the safetensors weights, builds the graph, sorts it and infers shapes;
 * reference counting. It must not rewrite the graph (passes.c does), touch a
 * device, or abort on any file content: every refusal names the file and the
 * key, node or tensor. */
#include "model.h"

#include "attrs.h"
#include "json_util.h"
#include "model_preprocess.h"
#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JSON_MAX ((size_t)64 * 1024 * 1024)
#define NAME_MAX_LEN 256      /* node, value and input names */
#define LABELS_MAX (1 << 20)
#define DIM_MAX CD_MODEL_DIM_MAX

static const char *const top_keys =
    "format,version,name,task,weights,inputs,outputs,labels,cam_layer,graph";
static const char *const tasks[] = { "classification", "segmentation",
                                     "detection", "embedding", "other" };

/* obj[key] as a string of 1..maxlen chars; NULL with a message otherwise. */
static const char *get_str(const json_t *obj, const char *key, size_t maxlen,
                           const char *ctx, struct cd_err *err)
{
    json_t *j = json_object_get(obj, key);
    const char *s = json_string_value(j);
    if (!s || !*s || strlen(s) > maxlen) {
        cd_err_set(err, j ? CD_EINVAL : CD_EFORMAT,
                   "%s\"%s\": %s (a non-empty string of at most %zu chars)",
                   ctx, key, j ? "wrong type or length" : "missing", maxlen);
        return NULL;
    }
    return s;
}

static char *join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Reads path into a NUL-terminated buffer of at most JSON_MAX bytes. */
static json_t *load_json(const char *path, struct cd_err *err)
{
    json_t *root = NULL;
    char *buf = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        cd_err_set(err, CD_EIO, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t len = 0, cap = 1 << 16;
    for (;;) {
        if (len == cap || !buf) {
            char *nb = len > JSON_MAX ? NULL : realloc(buf, buf ? cap * 2 : cap);
            if (!nb) {
                cd_err_set(err, len > JSON_MAX ? CD_EFORMAT : CD_ENOMEM,
                           len > JSON_MAX ? "larger than 64 MB"
                                          : "out of memory");
                goto fail;
            }
            cap = buf ? cap * 2 : cap;
            buf = nb;
        }
        ssize_t r = read(fd, buf + len, cap - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            cd_err_set(err, CD_EIO, "read: %s", strerror(errno));
            goto fail;
        }
        if (r == 0)
            break;
        len += (size_t)r;
    }
    if (len > JSON_MAX) {
        cd_err_set(err, CD_EFORMAT, "larger than 64 MB");
        goto fail;
    }
    json_error_t jerr;
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        cd_err_set(err, CD_EFORMAT, "not valid JSON: %s (line %d, column %d)",
                   jerr.text, jerr.line, jerr.column);
    else if (!json_is_object(root)) {
        cd_err_set(err, CD_EFORMAT, "top level is not a JSON object");
        json_decref(root);
        root = NULL;
    }
fail:
    free(buf);
    close(fd);
    return root;
}

static int parse_header(const json_t *root, struct cd_model *m,
                        const char **weights, struct cd_err *err)
{
    int rc = cd_json_check_keys(root, top_keys, "top-level", err);
    if (rc)
        return rc;
    const char *s = json_string_value(json_object_get(root, "format"));
    if (!s || strcmp(s, CD_MODEL_FORMAT))
        return cd_err_set(err, CD_EFORMAT, "\"format\" must be \"%s\"",
                          CD_MODEL_FORMAT);
    json_t *v = json_object_get(root, "version");
    if (!json_is_integer(v))
        return cd_err_set(err, CD_EFORMAT,
                          "\"version\" missing or not an integer");
    if (json_integer_value(v) != CD_MODEL_VERSION)
        return cd_err_set(err, CD_EUNSUPPORTED,
                          "\"version\" %lld is not supported (expected %d)",
                          (long long)json_integer_value(v), CD_MODEL_VERSION);
    if (!(s = get_str(root, "name", 64, "", err)))
        return err->code;
    for (const char *p = s; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    "0123456789._-", *p))
            return cd_err_set(err, CD_EINVAL, "\"name\" \"%s\": only "
                              "[A-Za-z0-9._-] allowed", s);
    if (!(m->name = strdup(s)))
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    if (!(s = get_str(root, "task", 64, "", err)))
        return err->code;
    size_t i = 0;
    while (i < sizeof tasks / sizeof *tasks && strcmp(tasks[i], s))
        i++;
    if (i == sizeof tasks / sizeof *tasks)
        return cd_err_set(err, CD_EINVAL, "\"task\" \"%s\" unknown "
                          "(classification, segmentation, detection, "
                          "embedding, other)", s);
    if (!(m->task = strdup(s)))
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    if (!(*weights = get_str(root, "weights", 255, "", err)))
        return err->code;
    if (strchr(*weights, '/') || !strcmp(*weights, ".") ||
        !strcmp(*weights, ".."))
        return cd_err_set(err, CD_EINVAL, "\"weights\" \"%s\" must be a file "
                          "name inside the model folder", *weights);
    return CD_OK;
}

/* "inputs": exactly one; adds the graph input value with its batch-1 shape. */
static int parse_input(const json_t *root, struct cd_model *m,
                       struct cd_err *err)
{
    json_t *ins = json_object_get(root, "inputs");
    if (!json_is_array(ins) || json_array_size(ins) != 1)
        return cd_err_set(err, CD_EINVAL, "\"inputs\": expected a list of "
                          "exactly one input");
    json_t *in = json_array_get(ins, 0);
    if (!json_is_object(in))
        return cd_err_set(err, CD_EINVAL, "inputs[0] is not an object");
    int rc = cd_json_check_keys(in, "name,shape,preprocess", "input", err);
    if (rc)
        return rc;
    const char *name = get_str(in, "name", NAME_MAX_LEN, "inputs[0] ", err);
    if (!name)
        return err->code;
    json_t *js = json_object_get(in, "shape");
    struct cd_shape s = { .ndim = 1, .dim = { 1 } };
    if (!json_is_array(js) || json_array_size(js) < 1 ||
        json_array_size(js) > CD_MAX_DIMS - 1)
        return cd_err_set(err, CD_EINVAL, "inputs[0] \"shape\": expected a "
                          "list of 1..%d dims (without the batch)",
                          CD_MAX_DIMS - 1);
    for (size_t i = 0; i < json_array_size(js); i++) {
        json_t *d = json_array_get(js, i);
        if (!json_is_integer(d) || json_integer_value(d) < 1 ||
            json_integer_value(d) > DIM_MAX)
            return cd_err_set(err, CD_EINVAL, "inputs[0] \"shape\"[%zu]: "
                              "expected a positive integer", i);
        s.dim[s.ndim++] = json_integer_value(d);
    }
    if (cd_shape_numel(&s) < 0 || cd_shape_numel(&s) > DIM_MAX * 64)
        return cd_err_set(err, CD_EINVAL, "inputs[0] \"shape\": too many "
                          "elements");
    if ((rc = cd_model_preprocess_parse(json_object_get(in, "preprocess"), &s,
                                        &m->pre, err)))
        return rc;
    int v = cd_graph_add_value(&m->g, name);
    if (v < 0 || !(m->g.inputs = malloc(sizeof *m->g.inputs)))
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    m->g.inputs[m->g.n_inputs++] = v;
    m->g.values[v].shape = s;
    m->g.values[v].is_input = true;
    return CD_OK;
}

static int parse_labels(const json_t *root, struct cd_model *m,
                        struct cd_err *err)
{
    json_t *j = json_object_get(root, "labels");
    if (!j)
        return CD_OK;
    if (!json_is_array(j) || json_array_size(j) > LABELS_MAX)
        return cd_err_set(err, CD_EINVAL, "\"labels\": expected a list of "
                          "strings");
    size_t n = json_array_size(j);
    if (!(m->labels = calloc(n ? n : 1, sizeof *m->labels)))
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(j, i));
        if (!s)
            return cd_err_set(err, CD_EINVAL, "\"labels\"[%zu] is not a "
                              "string", i);
        if (!(m->labels[i] = strdup(s)))
            return cd_err_set(err, CD_ENOMEM, "out of memory");
        m->n_labels = (int)i + 1;
    }
    return CD_OK;
}

/* The graph weight for tensor t, converted to f32 once; returns its id. */
static int tensor_weight(struct cd_graph *g, const struct cd_st_tensor *t,
                         struct cd_err *err)
{
    int id = cd_graph_find_weight(g, t->name);
    if (id >= 0)
        return id;
    size_t n = t->nbytes / cd_dtype_size(t->dtype), bytes;
    float *data;
    bool owned = true;
    if (t->dtype == CD_DTYPE_F32 && (uintptr_t)t->data % _Alignof(float) == 0) {
        data = (float *)(uintptr_t)t->data; /* read-only mapping: never write */
        owned = false;
    } else if (!cd_size_mul(n ? n : 1, sizeof(float), &bytes) ||
               !(data = malloc(bytes))) {
        return cd_err_set(err, CD_ENOMEM, "tensor \"%s\": out of memory",
                          t->name);
    } else {
        const unsigned char *p = t->data;
        for (size_t i = 0; i < n; i++) {
            if (t->dtype == CD_DTYPE_F32) {
                memcpy(&data[i], p + 4 * i, 4);
                continue;
            }
            uint16_t h = (uint16_t)(p[2 * i] | p[2 * i + 1] << 8);
            data[i] = t->dtype == CD_DTYPE_F16 ? cd_f16_to_f32(h)
                                               : cd_bf16_to_f32(h);
        }
    }
    struct cd_shape s = t->shape;
    if (s.ndim == 0) /* a scalar tensor is a [1] weight: ndim 0 means absent */
        s = (struct cd_shape){ .ndim = 1, .dim = { 1 } };
    id = cd_graph_add_weight(g, t->name, s, data, owned);
    if (id < 0) {
        if (owned)
            free(data);
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    }
    return id;
}

/* Slot index of name in the op's weight list, its optionality, or -1. */
static int slot_of(enum cd_op op, const char *name)
{
    for (int i = 0; i < CD_MAX_WEIGHTS && cd_ops[op].weights[i]; i++) {
        const char *s = cd_ops[op].weights[i];
        size_t n = strlen(s) - (s[strlen(s) - 1] == '?');
        if (strlen(name) == n && !strncmp(s, name, n))
            return i;
    }
    return -1;
}

static int node_weights(struct cd_model *m, int id, const json_t *jw,
                        struct cd_err *err)
{
    enum cd_op op = m->g.nodes[id].op;
    if (jw && !json_is_object(jw))
        return cd_err_set(err, CD_EINVAL, "\"weights\" is not an object");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)jw, k, v) {
        int slot = slot_of(op, k);
        if (slot < 0)
            return cd_err_set(err, CD_EINVAL, "op \"%s\" has no weight slot "
                              "\"%.64s\"", cd_ops[op].name, k);
        const char *tn = json_string_value(v);
        if (!tn)
            return cd_err_set(err, CD_EINVAL, "weight \"%s\": tensor name is "
                              "not a string", k);
        const struct cd_st_tensor *t = cd_safetensors_find(m->weights_file, tn);
        if (!t)
            return cd_err_set(err, CD_EINVAL, "weight \"%s\": tensor \"%.128s\" "
                              "not found in the weights file", k, tn);
        int w = tensor_weight(&m->g, t, err);
        if (w < 0)
            return err->code;
        m->g.nodes[id].w[slot] = w;
    }
    for (int i = 0; i < CD_MAX_WEIGHTS && cd_ops[op].weights[i]; i++) {
        const char *s = cd_ops[op].weights[i];
        if (s[strlen(s) - 1] != '?' && m->g.nodes[id].w[i] < 0)
            return cd_err_set(err, CD_EINVAL, "required weight \"%s\" "
                              "missing", s);
    }
    return CD_OK;
}

/* One node: op, attrs, inputs resolved by name, weights. Values exist. */
static int parse_node(struct cd_model *m, const json_t *jn, int value,
                      struct cd_err *err)
{
    int rc = cd_json_check_keys(jn, "name,op,inputs,weights,attrs", "node", err);
    if (rc)
        return rc;
    const char *ops = json_string_value(json_object_get(jn, "op"));
    if (!ops)
        return cd_err_set(err, CD_EFORMAT, "\"op\" missing or not a string");
    int op = cd_op_parse(ops);
    if (op < 0)
        return cd_err_set(err, CD_EUNSUPPORTED, "unknown op \"%.64s\"", ops);
    int id = cd_graph_add_node(&m->g, m->g.values[value].name, op);
    if (id < 0)
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    struct cd_node *n = &m->g.nodes[id];
    n->out = value;
    m->g.values[value].producer = id;
    if ((rc = cd_attrs_parse(json_object_get(jn, "attrs"), op, &n->a, err)))
        return rc;
    json_t *ji = json_object_get(jn, "inputs");
    if (!json_is_array(ji))
        return cd_err_set(err, CD_EFORMAT, "\"inputs\" missing or not a list");
    size_t nin = json_array_size(ji);
    if (nin < (size_t)cd_ops[op].n_in_min || nin > (size_t)cd_ops[op].n_in_max)
        return cd_err_set(err, CD_EINVAL, "%zu inputs, op \"%s\" takes %d..%d",
                          nin, ops, cd_ops[op].n_in_min, cd_ops[op].n_in_max);
    if ((op == CD_OP_CONV || op == CD_OP_LINEAR) &&
        nin != (size_t)(n->a.residual ? 2 : 1))
        return cd_err_set(err, CD_EINVAL, "%zu inputs, op \"%s\" takes %d "
                          "with residual=%d", nin, ops, n->a.residual ? 2 : 1,
                          n->a.residual);
    if (!(n->in = malloc(nin * sizeof *n->in)))
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    for (size_t i = 0; i < nin; i++) {
        const char *in = json_string_value(json_array_get(ji, i));
        if (!in)
            return cd_err_set(err, CD_EINVAL, "inputs[%zu] is not a string", i);
        int v = cd_graph_find_value(&m->g, in);
        if (v < 0)
            return cd_err_set(err, CD_EINVAL, "input \"%.128s\" names no graph "
                              "input or node (dangling)", in);
        n->in[n->n_in++] = v;
    }
    return node_weights(m, id, json_object_get(jn, "weights"), err);
}

static int parse_graph(const json_t *root, struct cd_model *m,
                       struct cd_err *err)
{
    json_t *jg = json_object_get(root, "graph");
    if (!json_is_array(jg) || !json_array_size(jg) ||
        json_array_size(jg) > (1 << 20))
        return cd_err_set(err, CD_EINVAL, "\"graph\": expected a non-empty "
                          "list of nodes");
    size_t nn = json_array_size(jg);
    int first = m->g.n_values;
    for (size_t i = 0; i < nn; i++) { /* one value per node, names unique */
        json_t *jn = json_array_get(jg, i);
        char ctx[32];
        snprintf(ctx, sizeof ctx, "graph[%zu] ", i);
        if (!json_is_object(jn))
            return cd_err_set(err, CD_EINVAL, "graph[%zu] is not an object", i);
        const char *name = get_str(jn, "name", NAME_MAX_LEN, ctx, err);
        if (!name)
            return err->code;
        if (cd_graph_find_value(&m->g, name) >= 0)
            return cd_err_set(err, CD_EINVAL, "duplicate node name \"%s\"",
                              name);
        if (cd_graph_add_value(&m->g, name) < 0)
            return cd_err_set(err, CD_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < nn; i++) {
        int rc = parse_node(m, json_array_get(jg, i), first + (int)i, err);
        if (rc) {
            cd_err_wrap(err, "node \"%s\"", m->g.values[first + i].name);
            return rc;
        }
    }
    return CD_OK;
}

/* "outputs" and "cam_layer": names of existing values. */
static int mark_outputs(const json_t *root, struct cd_model *m,
                        struct cd_err *err)
{
    json_t *jo = json_object_get(root, "outputs");
    size_t n = json_array_size(jo);
    if (!json_is_array(jo) || !n || n > (size_t)m->g.n_values)
        return cd_err_set(err, CD_EINVAL, "\"outputs\": expected a non-empty "
                          "list of distinct value names");
    if (!(m->g.outputs = malloc(n * sizeof *m->g.outputs)))
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(jo, i));
        int v = s ? cd_graph_find_value(&m->g, s) : -1;
        if (v < 0)
            return cd_err_set(err, CD_EINVAL, "output \"%.128s\" names no "
                              "value", s ? s : "(not a string)");
        if (m->g.values[v].is_output)
            return cd_err_set(err, CD_EINVAL, "output \"%s\" listed twice", s);
        m->g.values[v].is_output = true;
        m->g.outputs[m->g.n_outputs++] = v;
    }
    json_t *jc = json_object_get(root, "cam_layer");
    if (!jc)
        return CD_OK;
    const char *s = json_string_value(jc);
    int v = s ? cd_graph_find_value(&m->g, s) : -1;
    if (v < 0)
        return cd_err_set(err, CD_EINVAL, "cam_layer \"%.128s\" names no value",
                          s ? s : "(not a string)");
    m->g.values[v].keep = true;
    if (!(m->cam_layer = strdup(s)))
        return cd_err_set(err, CD_ENOMEM, "out of memory");
    return CD_OK;
}

static void model_free(struct cd_model *m)
{
    if (!m)
        return;
    cd_graph_free(&m->g);
    cd_safetensors_free(m->weights_file);
    for (int i = 0; i < m->n_labels; i++)
        free(m->labels[i]);
    free(m->labels);
    free(m->cam_layer);
    free(m->task);
    free(m->name);
    free(m->dir);
    free(m);
}

int cd_model_load(const char *dir, struct cd_model **out, struct cd_err *err)
{
    struct cd_err local;
    if (!err) /* the status travels in err->code below */
        err = &local;
    *out = NULL;
    int rc = CD_ENOMEM;
    json_t *root = NULL;
    char *jpath = join(dir, "model.json"), *wpath = NULL;
    struct cd_model *m = calloc(1, sizeof *m);
    if (!jpath || !m || !(m->dir = strdup(dir))) {
        cd_err_set(err, rc, "%s: out of memory", dir);
        goto fail;
    }
    cd_graph_init(&m->g);
    m->refcount = 1;
    const char *weights = NULL;
    if (!(root = load_json(jpath, err)) ||
        parse_header(root, m, &weights, err))
        goto wrap;
    if (!(wpath = join(dir, weights))) {
        cd_err_set(err, rc, "out of memory");
        goto wrap;
    }
    if (parse_input(root, m, err) || parse_labels(root, m, err))
        goto wrap;
    if ((rc = cd_safetensors_open(wpath, &m->weights_file, err)))
        goto fail; /* the message already names the weights file */
    if (parse_graph(root, m, err) || mark_outputs(root, m, err) ||
        cd_graph_toposort(&m->g, err) || cd_graph_infer_shapes(&m->g, err))
        goto wrap;
    json_decref(root);
    free(jpath);
    free(wpath);
    *out = m;
    return CD_OK;
wrap:
    rc = err->code;
    cd_err_wrap(err, "%s", jpath);
fail:
    json_decref(root);
    free(jpath);
    free(wpath);
    model_free(m);
    return rc;
}

void cd_model_ref(struct cd_model *m)
{
    if (m)
        __atomic_fetch_add(&m->refcount, 1, __ATOMIC_RELAXED);
}

void cd_model_unref(struct cd_model *m)
{
    if (m && __atomic_fetch_sub(&m->refcount, 1, __ATOMIC_ACQ_REL) == 1)
        model_free(m);
}
