/* kernels_embed.h — the OpenCL sources of the kernels folder (.cl files), embedded at build time
 * by tools/embed_kernels.sh (build/gen/kernels_embed.c). */
#ifndef CD_KERNELS_EMBED_H
#define CD_KERNELS_EMBED_H

#include <stddef.h>

extern const size_t cd_kernel_count;
extern const char *const cd_kernel_names[];   /* "conv.cl", ... NULL-ended */
extern const char *const cd_kernel_sources[]; /* same order, NULL-ended */

#endif
