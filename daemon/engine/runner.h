/* runner.h — a model planned for one backend and a maximum batch: the exec
 * nodes, the activation arena layout, the uploaded weights. Built once at
 * load; cd_runner_run only writes the input, enqueues nodes and reads the
 * outputs — it allocates nothing. One runner is used by one thread at a time. */
#ifndef CD_RUNNER_H
#define CD_RUNNER_H

#include "backend.h"
#include "model.h"

struct cd_runner;

/* Plans model m (after cd_passes_run) on backend b for up to max_batch
 * samples. Borrows b; takes a reference on m. */
int cd_runner_init(struct cd_runner **out, struct cd_model *m,
                   struct cd_backend *b, int max_batch, struct cd_err *err);
void cd_runner_free(struct cd_runner *r); /* NULL ok */

/* input is (batch, per-sample input shape), row-major float32. */
int cd_runner_run(struct cd_runner *r, const float *input, int batch,
                  struct cd_err *err);
/* Number of graph outputs, and the per-sample shape of output i. */
int cd_runner_n_outputs(const struct cd_runner *r);
const char *cd_runner_output_name(const struct cd_runner *r, int i);
struct cd_shape cd_runner_output_shape(const struct cd_runner *r, int i);
/* Copies output i of the last run (batch samples) into dst (borrowed). */
int cd_runner_read_output(struct cd_runner *r, int i, float *dst, int batch,
                          struct cd_err *err);
/* Same for any kept value by name (e.g. the CAM layer). */
int cd_runner_read_value(struct cd_runner *r, const char *name, float *dst,
                         int batch, struct cd_shape *shape, struct cd_err *err);

/* Where a kept (or input/output) value lives: its per-sample shape and
 * arena offset; sample b is at out->off + b * numel(out->shape). Same
 * readability rule as cd_runner_read_value. */
int cd_runner_value_ref(const struct cd_runner *r, const char *name,
                        struct cd_tref *out, struct cd_err *err);
/* The backend the runner was planned on (borrowed). */
struct cd_backend *cd_runner_backend(const struct cd_runner *r);

/* Planned activation arena size in bytes (for max_batch), and weight bytes. */
size_t cd_runner_arena_bytes(const struct cd_runner *r);
size_t cd_runner_weight_bytes(const struct cd_runner *r);
int cd_runner_max_batch(const struct cd_runner *r);
struct cd_shape cd_runner_input_shape(const struct cd_runner *r);

/* Profiling (convd-infer --profile). The planned exec nodes in run order
 * (borrowed), and a run that waits for the device after each node and
 * stores its wall-clock seconds in node_s[i] (cd_runner_n_exec entries).
 * Same results as cd_runner_run, slower: one device sync per node. */
int cd_runner_n_exec(const struct cd_runner *r);
const struct cd_exec_node *cd_runner_exec_node(const struct cd_runner *r, int i);
int cd_runner_run_profiled(struct cd_runner *r, const float *input, int batch,
                           double *node_s, struct cd_err *err);

#endif
