/* passes.h — load-time graph rewrites: drop identities, fold BatchNorm into
 * the producing conv/linear, fuse residual adds and activations into conv /
 * linear epilogues, turn reshape/flatten into storage aliases; first of all,
 * materialise structured-weight ops (PHC, quaternion, complex, DCLS). Each pass keeps
 * graph outputs and the CAM layer observable. */
#ifndef CD_PASSES_H
#define CD_PASSES_H

#include "graph.h"

struct cd_pass_stats {
    int n_materialized;      /* structured-weight ops rewritten into conv */
    int n_identity_dropped;
    int n_bn_folded;
    int n_act_fused;
    int n_residual_fused;
    int n_aliased;
    int n_reparam_merged;    /* parallel depthwise add trees merged (pass_reparam.c) */
    int n_norm_act_fused;    /* of n_act_fused: activations fused into a batchnorm */
    int n_concat_chained;    /* concats rewritten to extend an earlier concat */
    int n_concat_inplace;    /* concat outputs made a channel prefix of the next */
    int n_permute_pairs_dropped; /* channels-last sandwiches run on NCHW */
    int n_scale_folded;      /* per-channel constant muls folded into weights */
};

/* Helpers shared by the pass files: whether value v must stay observable
 * (graph input or output, or kept, e.g. the CAM layer), and v's producer
 * node if it is live, else NULL. */
bool cd_pass_observable(const struct cd_graph *g, int v);
struct cd_node *cd_pass_producer(struct cd_graph *g, int v);

int cd_passes_run(struct cd_graph *g, struct cd_pass_stats *stats,
                  struct cd_err *err);

/* Rewrites every op with a materialize function (PHC, quaternion, complex,
 * DCLS) into plain ops, then shapes are inferred again. */
int cd_pass_materialize(struct cd_graph *g, struct cd_pass_stats *st,
                        struct cd_err *err);
int cd_pass_drop_identity(struct cd_graph *g, struct cd_pass_stats *st,
                          struct cd_err *err);
int cd_pass_fold_batchnorm(struct cd_graph *g, struct cd_pass_stats *st,
                           struct cd_err *err);
int cd_pass_fuse_epilogue(struct cd_graph *g, struct cd_pass_stats *st,
                          struct cd_err *err);
/* Merges add trees of parallel depthwise convs of one input (UniRepLKNet
 * re-param: centred paddings, same stride, BN folded) into one depthwise conv
 * (pass_reparam.c). Runs after BN folding, before epilogue fusion. */
int cd_pass_merge_parallel_dwconv(struct cd_graph *g, struct cd_pass_stats *st,
                                  struct cd_err *err);
int cd_pass_alias_views(struct cd_graph *g, struct cd_pass_stats *st,
                        struct cd_err *err);
/* DenseNet's growing concats (pass_concat.c). cat_k = concat(x0..xk) whose
 * first inputs are exactly an earlier cat_j's becomes concat(cat_j, ..xk);
 * then cat_j's storage becomes the channel prefix of cat_k's (alias_of), so
 * cat_k copies only its new inputs: one buffer per dense block instead of a
 * full copy per layer. Runs last (after cd_pass_alias_views). */
int cd_pass_concat_inplace(struct cd_graph *g, struct cd_pass_stats *st,
                           struct cd_err *err);
/* ConvNeXt blocks (pass_channels_last.c). permute(0,2,3,1) -> layernorm
 * (last dim) / linear / activations -> permute(0,3,1,2) runs on NCHW instead:
 * layernorm over dim 1, linears as 1x1 convs, both permutes gone. Not in
 * cd_passes_run: with today's kernels the 1x1 convs run slower than the
 * channels-last linears (docs/performance.md); callers that want it run it
 * before cd_passes_run, which then fuses the residual adds. */
int cd_pass_channels_first(struct cd_graph *g, struct cd_pass_stats *st,
                           struct cd_err *err);
/* mul by a constant per-channel tensor (layer scale) folded into the
 * weights and bias of the conv/linear before it, directly or through one
 * permute, when that producer has no activation or residual. Runs after
 * BN folding, before epilogue fusion. */
int cd_pass_fold_channel_scale(struct cd_graph *g, struct cd_pass_stats *st,
                               struct cd_err *err);
/* Whether op's C reference and OpenCL dispatch honour a batch stride other
 * than numel (cd_tref.bstride) on every input and the output. */
bool cd_pass_op_strided(enum cd_op op);

#endif
