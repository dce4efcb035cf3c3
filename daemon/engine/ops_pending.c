/* ops_pending.c — TEMPORARY development scaffolding: weak definitions of the
 * family ops' functions so the tree links while the real ones are written in
 * parallel. Each reports CD_EUNSUPPORTED. Removed before issue 4 closes. */
#include "op_family.h"

#define W __attribute__((weak))
#define PEND(kind) return cd_err_set(err, CD_EUNSUPPORTED, "%s not written yet", kind)
#define S(n) W CD_SHAPE_FN(n) { PEND("shape " #n); }
#define R(n) W CD_REF_FN(n) { PEND("ref " #n); }
#define C(n) W CD_CL_FN(n) { PEND("cl " #n); }
#define M(n) W CD_MATERIALIZE_FN(n) { PEND("materialize " #n); }
S(phc_conv) S(quaternion_conv) S(complex_conv) S(dcls_conv)
M(phc_conv) M(quaternion_conv) M(complex_conv) M(dcls_conv)
#define ALL3(n) S(n) R(n) C(n)
ALL3(multidilated_conv) ALL3(grn) ALL3(haar_dwt) ALL3(haar_idwt)
ALL3(conv_transpose) ALL3(dynamic_dwconv) ALL3(scnn)
