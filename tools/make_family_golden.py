#!/usr/bin/python3
"""make_family_golden.py --out DIR [--only NAME ...] — golden fixtures of the
convolution families: for every GOLDEN case in tools/families/*.py, builds the
PyTorch reference model (random weights, fixed seed), converts it with
tools/convert.py into DIR/<case>/, and saves DIR/<case>/input_0.npy (a batch
> 1) and expected_0.npy (PyTorch's output). tests/golden/run.sh compares
convd against them. It only writes fixtures; it never judges them.

A GOLDEN case is (name, factory, input_shape) where factory() returns an
nn.Module (called after torch.manual_seed) and input_shape includes the batch.
"""
import argparse
import importlib
import os
import pkgutil
import sys
import zlib

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import convert  # noqa: E402
import families  # noqa: E402


def cases():
    for info in sorted(pkgutil.iter_modules(families.__path__), key=lambda i: i.name):
        mod = importlib.import_module("families." + info.name)
        for case in getattr(mod, "GOLDEN", []):
            yield case


def save(path, t):
    np.save(path, np.ascontiguousarray(t.detach().numpy().astype("<f4")))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    n = 0
    for name, factory, shape in cases():
        if args.only and name not in args.only:
            continue
        seed = zlib.crc32(name.encode()) & 0x7FFFFFFF
        torch.manual_seed(seed)
        model = factory().eval()
        x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed + 1))
        with torch.no_grad():
            y = model(x)
        d = os.path.join(args.out, name)
        convert.convert(model, x, d, name=name, task="other")
        save(os.path.join(d, "input_0.npy"), x)
        save(os.path.join(d, "expected_0.npy"), y)
        n += 1
    print("make_family_golden: wrote %d cases to %s" % (n, args.out))


if __name__ == "__main__":
    main()
