/* topk.h — classification post-processing: softmax over logits and the K
 * best classes, ties broken by the lower index so answers are deterministic
 * whatever the batch. Pure: no allocation, no HTTP. */
#ifndef CD_TOPK_H
#define CD_TOPK_H

#include <stddef.h>

struct cd_topk_item {
    int index;
    float score;     /* softmax probability */
};

/* Writes the k highest-probability classes of logits[0..n) into out, best
 * first; returns the number written (min(k, n); 0 for bad arguments).
 * Non-finite logits are treated as the lowest possible score. */
int cd_topk_softmax(const float *logits, size_t n, int k,
                    struct cd_topk_item *out);

#endif
