#!/usr/bin/python3
"""bench_infer.py — convd-infer and PyTorch side by side on the same model.

Converts torchvision resnet18 (random init, fixed seed, 224x224) with
tools/convert.py, then times, in one run on this machine:
  - PyTorch 1.13 eager (torch.set_num_threads(2), OPENBLAS_NUM_THREADS=1),
  - convd-infer --bench on the OpenCL device (POCL on a CPU machine),
at batch 1 and 8, and prints images/s for both and the ratio convd/PyTorch.
"""
import argparse
import os
import re
import subprocess
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402

import convert  # noqa: E402


def torch_ips(model, batch, runs, size):
    x = torch.randn(batch, 3, size, size)
    with torch.no_grad():
        for _ in range(2):
            model(x)
        t0 = time.perf_counter()
        for _ in range(runs):
            model(x)
        dt = time.perf_counter() - t0
    return batch * runs / dt


def convd_ips(build, model_dir, npy, batch, runs, device):
    cmd = [os.path.join(build, "convd-infer"), "--model", model_dir,
           "--input", npy, "--device", device, "--batch", str(batch),
           "--bench", str(runs)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         timeout=900)
    m = re.search(r"images_per_s=([0-9.]+)", out.stdout)
    if not m:
        raise RuntimeError("no bench line in: " + out.stdout + out.stderr)
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--model", default="resnet18")
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--device", default="auto")
    args = ap.parse_args()
    torch.set_num_threads(2)
    work = os.path.join(args.build, "bench")
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    model = getattr(torchvision.models, args.model)(weights=None).eval()
    model_dir = os.path.join(work, f"{args.model}-{args.size}")
    example = torch.randn(1, 3, args.size, args.size)
    convert.convert(model, example, model_dir, name=args.model)
    print(f"# {args.model} {args.size}x{args.size}, PyTorch {torch.__version__} "
          f"with 2 threads vs convd-infer --device {args.device}")
    print(f"{'batch':>5} {'pytorch img/s':>14} {'convd img/s':>12} {'ratio':>6}")
    for b in [int(v) for v in args.batches.split(",")]:
        x = np.random.default_rng(b).standard_normal(
            (b, 3, args.size, args.size)).astype("<f4")
        npy = os.path.join(work, f"input_b{b}.npy")
        np.save(npy, x)
        runs = max(2, args.runs // b) if b > 1 else args.runs
        pt = torch_ips(model, b, runs, args.size)
        cd = convd_ips(args.build, model_dir, npy, b, runs, args.device)
        print(f"{b:>5} {pt:>14.2f} {cd:>12.2f} {cd / pt:>6.2f}")


if __name__ == "__main__":
    main()
