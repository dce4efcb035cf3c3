/* conv_select.h — per-layer choice of the convolution and linear kernel
 * variants on the OpenCL backend (conv_select.c): a plan per conv or linear
 * layer (its packed weights and the variant for batch 1 and for larger
 * batches), chosen at load by a bounded autotuner whose results are cached
 * on disk next to the program binary, or by a deterministic heuristic
 * (linear layers: always their shape's heuristic). Only files of the
 * OpenCL layer include this header (it pulls <CL/cl.h>). */
#ifndef CD_CONV_SELECT_H
#define CD_CONV_SELECT_H

#include "ops_cl_conv.h"
#include "ops_cl_linear.h"

/* Tuning budget per backend (one model) in ms when CONVD_CONV_TUNE_MS is
 * unset; CONVD_CONV_TUNE_MS=0 turns timing off (heuristic + cached results
 * only), and so does a backend without a writable cache dir. */
#define CD_CONV_TUNE_MS_DEFAULT 2000

/* Runs e (a 1-D/2-D or pointwise conv) for `batch` samples with the
 * variant planned for it; plans it with the heuristic first when it was not
 * prepared (packing its weights once). */
int cd_conv_select_run(struct cd_cl_backend *be, const struct cd_exec_node *e,
                       const struct cd_cl_conv_geo *g,
                       const struct cd_cl_conv_epi *p, int batch,
                       struct cd_err *err);

/* Load time: plans e (no-op for ops and convs without variants). A linear
 * layer gets its shape's variants, its packed weights and one run of each
 * chosen kernel. A conv: packs its weights, takes the variants from the
 * tuning cache, else times every
 * variant that fits at batch 1 and max_batch while the budget lasts (the
 * heuristic's once it is spent) and records the result in the cache; then
 * runs the chosen kernels once so that nothing is compiled at the first
 * request. May write e's output (load time only). */
int cd_conv_select_prepare(struct cd_cl_backend *be,
                           const struct cd_exec_node *e, int max_batch,
                           struct cd_err *err);

/* The heuristic's variant for geometry g at `batch` samples. */
int cd_conv_select_heuristic(const struct cd_cl_conv_geo *g, int batch);

/* The variant e runs with at `batch` (planning it if needed); -1 on error. */
int cd_conv_select_variant(struct cd_cl_backend *be,
                           const struct cd_exec_node *e, int batch,
                           struct cd_err *err);

/* Runs linear node e (geometry g) for `batch` samples with the variant
 * planned for it; plans it from its shape first when it was not prepared
 * (packing its weights once). */
int cd_conv_select_linear_run(struct cd_cl_backend *be,
                              const struct cd_exec_node *e,
                              const struct cd_cl_linear_geo *g, int batch,
                              struct cd_err *err);

/* Tests and benches: every linear runs with variant v (-1: back to plans)
 * and, when t is not NULL, the packed ones with tiling t. */
void cd_conv_select_force_linear(struct cd_cl_backend *be, int v,
                                 const struct cd_cl_linear_tiling *t);

/* Tests: every conv that variant v fits runs with v (-1: back to plans). */
void cd_conv_select_force(struct cd_cl_backend *be, int v);

/* Tests: with on == false the packed kernels read the input unpadded and
 * test its borders themselves (default: a zero-padded copy first). */
void cd_conv_select_padding(struct cd_cl_backend *be, bool on);

/* Forgets the plans whose weights overlap floats [off, off + n) of the
 * weight pool (n == SIZE_MAX: every plan), releasing their buffers. */
void cd_conv_select_forget(struct cd_cl_backend *be, size_t off, size_t n);

/* Releases every plan and the tuning state. */
void cd_conv_select_free(struct cd_cl_backend *be);

#endif
