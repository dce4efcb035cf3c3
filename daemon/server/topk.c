/* topk.c — softmax and top-K selection for classification answers. It is
 * exact and order-stable (ties keep the lower class index), runs in O(n*k)
 * without allocating, and must not depend on anything but its arguments. */
#include "server/topk.h"

#include <math.h>

static float clean(float v)
{
    return isfinite(v) ? v : -INFINITY;
}

int cd_topk_softmax(const float *logits, size_t n, int k,
                    struct cd_topk_item *out)
{
    if (!logits || !out || n == 0 || k <= 0 || n > (size_t)1 << 30)
        return 0;
    if ((size_t)k > n)
        k = (int)n;
    float mx = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (clean(logits[i]) > mx)
            mx = clean(logits[i]);
    double sum = 0;
    if (isfinite(mx))
        for (size_t i = 0; i < n; i++)
            sum += exp((double)clean(logits[i]) - (double)mx);
    int m = 0;
    for (size_t i = 0; i < n; i++) {
        float v = clean(logits[i]);
        /* insertion into the sorted list of at most k: strictly greater
         * values move ahead, so equal values keep index order */
        int pos = m;
        while (pos > 0 && v > clean(logits[out[pos - 1].index]))
            pos--;
        if (pos >= k)
            continue;
        int last = m < k ? m : k - 1;
        for (int j = last; j > pos; j--)
            out[j] = out[j - 1];
        out[pos].index = (int)i;
        if (m < k)
            m++;
    }
    for (int j = 0; j < m; j++) {
        float v = clean(logits[out[j].index]);
        out[j].score = sum > 0 ? (float)(exp((double)v - (double)mx) / sum)
                               : 1.0f / (float)n;
    }
    return m;
}
