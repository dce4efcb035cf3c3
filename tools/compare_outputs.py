#!/usr/bin/python3
"""compare_outputs.py — checks convd-infer's --json output against a PyTorch
reference .npy: cosine similarity >= 0.99999, max |diff| <= 1e-4 * max|ref|,
and, for (N, K) outputs, the same top-5 classes in the same order per sample
(a swap is accepted only where the reference values tie within the abs
tolerance). Prints one line per sample and exits 1 on any failure.

It only reads files; it never runs convd.

Usage: tools/compare_outputs.py EXPECTED.npy CONVD_JSON [--output NAME]
                                [--name LABEL]
JSON: {"outputs": {NAME: {"shape": [...], "data": [...]}}, ...}
"""

import argparse
import json
import math
import sys

import numpy as np

COS_MIN = 0.99999
REL_TOL = 1e-4
TOPK = 5


def load_convd(path, output=None):
    with open(path) as f:
        j = json.load(f)
    outs = j.get("outputs") if isinstance(j, dict) else None
    if not isinstance(outs, dict) or not outs:
        raise ValueError("%s: no \"outputs\" object" % path)
    if output is None:
        if len(outs) != 1:
            raise ValueError("%s: %d outputs (%s); pick one with --output"
                             % (path, len(outs), ", ".join(sorted(outs))))
        output = next(iter(outs))
    if output not in outs:
        raise ValueError("%s: no output named %r" % (path, output))
    o = outs[output]
    shape = [int(d) for d in o["shape"]]
    data = np.asarray(o["data"], dtype=np.float64).reshape(-1)
    if data.size != int(np.prod(shape)):
        raise ValueError("%s: output %s: %d values for shape %s"
                         % (path, output, data.size, shape))
    return output, data.reshape(shape)


def topk_ok(ref, got, tol, k=TOPK):
    """Same top-k order, except swaps between reference values within tol."""
    k = min(k, ref.size)
    r = np.argsort(-ref, kind="stable")[:k]
    g = np.argsort(-got, kind="stable")[:k]
    for a, b in zip(r, g):
        if a != b and abs(ref[a] - ref[b]) > tol:
            return False, list(r), list(g)
    return True, list(r), list(g)


def compare(ref, got, label):
    """Returns (ok, lines)."""
    if ref.shape != got.shape:
        return False, ["%s: FAIL shape %s != expected %s"
                       % (label, list(got.shape), list(ref.shape))]
    ref = ref.astype(np.float64)
    rows = ref.reshape(ref.shape[0], -1) if ref.ndim >= 1 else ref.reshape(1, 1)
    grows = got.reshape(rows.shape)
    ok_all, lines = True, []
    for i, (r, g) in enumerate(zip(rows, grows)):
        scale = float(np.abs(r).max()) if r.size else 0.0
        tol = REL_TOL * scale
        diff = float(np.abs(r - g).max()) if r.size else 0.0
        nr, ng = np.linalg.norm(r), np.linalg.norm(g)
        if nr == 0 and ng == 0:
            cos = 1.0
        elif nr == 0 or ng == 0:
            cos = 0.0
        else:
            cos = float(np.dot(r, g) / (nr * ng))
        finite = bool(np.all(np.isfinite(g)))
        ok = finite and not math.isnan(cos) and cos >= COS_MIN and diff <= tol
        extra = ""
        if ref.ndim == 2:
            tok, rt, gt = topk_ok(r, g, tol)
            ok = ok and tok
            extra = " top%d=%s" % (TOPK, "same" if tok else "DIFF ref %s got %s" % (rt, gt))
        lines.append("%s[%d]: %s cos=%.8f maxdiff=%.3g tol=%.3g%s%s"
                     % (label, i, "ok" if ok else "FAIL", cos, diff, tol, extra,
                        "" if finite else " non-finite"))
        ok_all = ok_all and ok
    return ok_all, lines


def main(argv=None):
    ap = argparse.ArgumentParser(description="compare convd output with PyTorch")
    ap.add_argument("expected")
    ap.add_argument("convd_json")
    ap.add_argument("--output", default=None)
    ap.add_argument("--name", default=None)
    args = ap.parse_args(argv)
    label = args.name or args.expected
    try:
        ref = np.load(args.expected)
        _, got = load_convd(args.convd_json, args.output)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print("%s: FAIL %s" % (label, e))
        return 1
    ok, lines = compare(ref, got, label)
    for ln in lines:
        print(ln)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
