#!/usr/bin/env python3
"""eigencam_ref.py — NumPy reference of convd's Eigen-CAM (see
daemon/engine/eigencam.h and docs/eigencam.md) and the writer of the golden
fixtures tests/test_eigencam.c compares against.

For each case it writes tests/fixtures/cam/<case>_act.npy (C, h, w) float32
activations and <case>_map.npy (h, w) float32 expected normalised map; the
"upsample" case also writes <case>_up.npy, torch's bilinear
(align_corners=False) upsampling of its map to 37 x 45. It also checks the
power iteration against numpy.linalg.eigh on every non-degenerate case.

Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/eigencam_ref.py [--out DIR]
"""

import argparse
import os

import numpy as np

MAX_ITERS = 1000
TOL = 1e-7
DEGENERATE_REL = 1e-12


def power_iteration(G):
    C = G.shape[0]
    v = 1.0 + 0.1 * (np.arange(C) + 1) / C
    v /= np.linalg.norm(v)
    for _ in range(MAX_ITERS):
        w = G @ v
        n = np.linalg.norm(w)
        if not n > 0:
            break
        w /= n
        d = np.linalg.norm(w - v)
        v = w
        if d < TOL:
            break
    return v


def eigencam(A, use_eigh=False):
    """A (C, h, w) -> normalised map (h, w) float32, the algorithm of
    eigencam.h: centre channels, Gram, first eigenvector, projection, sign
    towards the channel-mean map, ReLU, min-max (constant -> zeros)."""
    A = np.asarray(A, dtype=np.float64)
    C, h, w = A.shape
    X = A.reshape(C, h * w).T                       # (hw, C)
    Xc = X - X.mean(axis=0, keepdims=True)
    G = Xc.T @ Xc
    if use_eigh:
        v = np.linalg.eigh(G)[1][:, -1]
    else:
        v = power_iteration(G)
    lam = float(v @ G @ v)
    if not lam > DEGENERATE_REL * float((A * A).sum()):
        return np.zeros((h, w), np.float32)
    p = Xc @ v
    corr = float(p @ X.mean(axis=1))
    if corr < 0 or (corr == 0 and p[np.argmax(np.abs(p))] < 0):
        p = -p
    p = np.maximum(p, 0)
    lo, hi = p.min(), p.max()
    if not hi - lo > 1e-12 * max(np.abs(p).max(), 1.0):
        return np.zeros((h, w), np.float32)
    return ((p - lo) / (hi - lo)).reshape(h, w).astype(np.float32)


def cases(rng):
    yy, xx = np.mgrid[0:8, 0:8].astype(np.float64)
    blob = np.exp(-((yy - 2) ** 2 + (xx - 5) ** 2) / 4.0)
    structured = (rng.uniform(0.5, 2, (32, 1, 1)) * blob
                  + 0.05 * rng.standard_normal((32, 8, 8)))
    structured = np.maximum(structured, 0)          # as after a ReLU
    # a layer whose dominant direction anti-correlates with the raw values:
    # every channel is high everywhere except at the blob
    inverted = 1.0 - 0.8 * structured
    return {
        "random": rng.standard_normal((16, 7, 7)),
        "structured": structured,
        "inverted": inverted,
        "wide": np.maximum(rng.standard_normal((24, 6, 10)) + 0.5, 0),
        "c1": rng.standard_normal((1, 4, 5)),
        "hw1": rng.standard_normal((8, 1, 1)),
        "zeros": np.zeros((4, 3, 3)),
        "constant": np.full((5, 4, 4), 3.25),
        "upsample": np.maximum(rng.standard_normal((12, 5, 6)), 0),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/fixtures/cam")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(20240601)
    for name, A in cases(rng).items():
        A = A.astype(np.float32)
        m = eigencam(A)
        me = eigencam(A, use_eigh=True)
        np.save(os.path.join(a.out, name + "_act.npy"), A)
        np.save(os.path.join(a.out, name + "_map.npy"), m)
        print(f"{name:11s} C={A.shape[0]:2d} {A.shape[1]}x{A.shape[2]} "
              f"max={m.max():.3f} power-vs-eigh={np.abs(m - me).max():.2e}")
        if name == "upsample":
            import torch
            import torch.nn.functional as F
            up = F.interpolate(torch.from_numpy(m)[None, None], size=(37, 45),
                               mode="bilinear", align_corners=False)[0, 0]
            np.save(os.path.join(a.out, name + "_up.npy"), up.numpy())


if __name__ == "__main__":
    main()
