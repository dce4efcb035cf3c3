/* ops_pending.c — TEMPORARY development scaffolding: weak definitions of every
 * op function so the tree links while the real ones are written in parallel.
 * Each reports CD_EUNSUPPORTED. Removed before issue 2 closes. */
#include "op_shape.h"
#include "ops_cl.h"
#include "ops_ref.h"

#define W __attribute__((weak))
#define PEND(kind) return cd_err_set(err, CD_EUNSUPPORTED, "%s not written yet", kind)
#define S(n) W CD_SHAPE_FN(n) { PEND("shape " #n); }
#define R(n) W CD_REF_FN(n) { PEND("ref " #n); }
#define C(n) W CD_CL_FN(n) { PEND("cl " #n); }
#define ALL3(n) S(n) R(n) C(n)
S(same) S(binary) S(flatten) S(reshape)
ALL3(conv) ALL3(linear) ALL3(matmul) ALL3(batchnorm) ALL3(layernorm)
R(unary) C(unary) R(binary) C(binary) ALL3(concat) ALL3(slice) R(copy) C(copy)
ALL3(permute) ALL3(pool) ALL3(adaptive_pool) ALL3(global_pool) ALL3(upsample)
ALL3(softmax) ALL3(pad)
