/* rle.h — class-index maps of segmentation answers: argmax over logits,
 * nearest-neighbour resize to the input image's resolution, per-class pixel
 * counts, and run-length encoding for JSON.
 *
 * RLE format: the map (H, W) is read row-major (row 0 left to right, then
 * row 1, ...) and cut into maximal runs of one class; the encoding is the
 * flat array [class_0, length_0, class_1, length_1, ...] of alternating class
 * index and run length, every length >= 1, lengths summing to H*W, and two
 * consecutive runs never share a class. An empty map encodes to [].
 * Example: the 2x3 map [[0,0,1],[1,1,2]] is [0,2, 1,3, 2,1]. */
#ifndef CD_MEDIA_RLE_H
#define CD_MEDIA_RLE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

/* Encodes classes[0..n) into *runs (owned, malloc'd; free with free()):
 * 2 * *n_runs uint32 entries as above. n = 0 gives *runs = NULL, 0 runs. */
int cd_rle_encode(const uint8_t *classes, size_t n, uint32_t **runs,
                  size_t *n_runs, struct cd_err *err);

/* Decodes n_runs pairs into out[0..n); fails with CD_EFORMAT when a class
 * exceeds 255, a length is 0, or the lengths do not sum to exactly n. */
int cd_rle_decode(const uint32_t *runs, size_t n_runs, uint8_t *out, size_t n,
                  struct cd_err *err);

/* classes (H, W) = argmax over K of logits (K, H, W); ties go to the lowest
 * index, NaN never wins (an all-NaN pixel is class 0). 1 <= K <= 256. */
int cd_argmax_classes(const float *logits, int K, int H, int W,
                      uint8_t *classes, struct cd_err *err);

/* Nearest-neighbour resize of a class map (h, w) to dst (H, W) with PyTorch's
 * F.interpolate(mode="nearest") rule: src = min(floor(d * (in / out)), in-1). */
int cd_classes_resize_nearest(const uint8_t *src, int h, int w, uint8_t *dst,
                              int H, int W, struct cd_err *err);

/* counts[k] = pixels of class k among classes[0..n), k < 256. */
void cd_classes_count(const uint8_t *classes, size_t n, size_t counts[256]);

#endif
