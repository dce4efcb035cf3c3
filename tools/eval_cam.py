#!/usr/bin/env python3
"""eval_cam.py — the pointing game for convd's Eigen-CAM: on held-out
synthetic shapes images that hold exactly one object (tools/data/shapes.py,
seed 7000 + --seed, never used for training), run `convd-infer --cam` on a
zoo classifier and count how often the peak of the CAM (upsampled to the
input size) falls inside the object's mask. Prints the percentage.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/eval_cam.py \
         models/shapes-resnet [--convd build/convd-infer] [--n 400]
         [--device ref|cpu|gpu|auto] [--layer NAME] [--tol PX] [--batch 64]

A hit is a peak within --tol pixels (default 4: the pointing game's 15 px
tolerance at 224 px, scaled to 64 px) of the mask; the strict score (peak
inside the mask) is printed as well. Coarse CAM layers (4x4 on a 64 px input)
put every peak at a cell centre, which is what the tolerance absorbs.

Images are made at the model's input size and normalised as its model.json
preprocess says (scale, mean, std), then handed to convd-infer as one .npy
batch per --batch images, so convd runs the model and the CAM itself.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import shapes  # noqa: E402


def components(mask):
    """Number of 8-connected components of the boolean (H, W) mask."""
    seen = np.zeros_like(mask, bool)
    H, W = mask.shape
    n = 0
    for y0, x0 in zip(*np.nonzero(mask)):
        if seen[y0, x0]:
            continue
        n += 1
        stack = [(y0, x0)]
        seen[y0, x0] = True
        while stack:
            y, x = stack.pop()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    yy, xx = y + dy, x + dx
                    if 0 <= yy < H and 0 <= xx < W and mask[yy, xx] and not seen[yy, xx]:
                        seen[yy, xx] = True
                        stack.append((yy, xx))
    return n


def single_object(n, seed, size):
    """Images, labels and masks of the generated images with one object."""
    img, lab, mask = shapes.make(n, seed=seed, size=size)
    keep = [i for i in range(n)
            if len(np.unique(mask[i][mask[i] > 0])) == 1 and components(mask[i] > 0) == 1]
    return img[keep], lab[keep], mask[keep]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--convd", default="build/convd-infer")
    ap.add_argument("--n", type=int, default=400, help="images generated")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="ref")
    ap.add_argument("--layer", default=None)
    ap.add_argument("--tol", type=int, default=4,
                    help="pixels of slack around the mask (the pointing game's "
                         "15 px at 224 px scaled to 64 px is 4; the strict "
                         "score is printed too)")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--min-strict", type=float, default=None, metavar="PCT",
                    help="exit 1 when the strict score is below PCT percent")
    ap.add_argument("--min-hits", type=float, default=None, metavar="PCT",
                    help="exit 1 when the score with --tol is below PCT percent")
    ap.add_argument("--per-class", action="store_true",
                    help="also print strict hits per class")
    a = ap.parse_args()
    spec = json.load(open(os.path.join(a.model, "model.json")))
    pre = spec["inputs"][0]["preprocess"]
    shape = spec["inputs"][0]["shape"]
    if pre.get("kind") != "image" or shape[0] != 3 or shape[1] != shape[2]:
        sys.exit("eval_cam: %s is not a square RGB image classifier" % a.model)
    size = shape[1]
    img, lab, mask = single_object(a.n, 7000 + a.seed, size)
    x = img.astype(np.float32) / float(pre.get("scale", 255.0))
    x = (x - np.array(pre.get("mean", [0, 0, 0]), np.float32)) / \
        np.array(pre.get("std", [1, 1, 1]), np.float32)
    x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    if a.tol:
        from numpy.lib.stride_tricks import sliding_window_view as win
        k = 2 * a.tol + 1
        pad = np.pad(mask > 0, ((0, 0), (a.tol, a.tol), (a.tol, a.tol)))
        target = win(pad, (k, k), axis=(1, 2)).any(axis=(-1, -2))
    else:
        target = mask > 0
    hits, rows = 0, []
    with tempfile.TemporaryDirectory() as tmp:
        for s in range(0, len(x), a.batch):
            path = os.path.join(tmp, "batch.npy")
            np.save(path, x[s:s + a.batch])
            cmd = [a.convd, "--model", a.model, "--input", path,
                   "--device", a.device, "--cam"] + ([a.layer] if a.layer else [])
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            rows += [json.loads(line) for line in out.splitlines() if line.strip()]
    strict = 0
    per_class = {}
    for i, r in enumerate(rows):
        p = r["upsampled"]["peak"]
        hits += bool(target[i, p["y"], p["x"]])
        inside = bool(mask[i, p["y"], p["x"]] > 0)
        strict += inside
        c = per_class.setdefault(shapes.CLASSES[lab[i]], [0, 0])
        c[0] += inside
        c[1] += 1
    n = len(rows)
    layer = rows[0]["layer"] if rows else "?"
    print("pointing game: model=%s layer=%s device=%s images=%d (single-object "
          "of %d) strict=%.1f%% tol=%dpx hits=%d -> %.1f%%" % (
              spec.get("name", a.model), layer, a.device, n, a.n,
              100.0 * strict / max(n, 1), a.tol, hits, 100.0 * hits / max(n, 1)))
    if a.per_class:
        print("strict per class: " + ", ".join(
            "%s %d/%d" % (k, v[0], v[1]) for k, v in sorted(per_class.items())))
    if a.min_strict is not None and 100.0 * strict / max(n, 1) < a.min_strict:
        print("eval_cam: strict score %.1f%% is below --min-strict %.1f%%"
              % (100.0 * strict / max(n, 1), a.min_strict), file=sys.stderr)
        return 1
    if a.min_hits is not None and 100.0 * hits / max(n, 1) < a.min_hits:
        print("eval_cam: score within %d px %.1f%% is below --min-hits %.1f%%"
              % (a.tol, 100.0 * hits / max(n, 1), a.min_hits), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
