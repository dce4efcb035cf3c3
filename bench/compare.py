#!/usr/bin/python3
"""compare.py — convd-infer and PyTorch side by side, same weights, same
inputs, one run, on every model that matters here:

  - torchvision resnet18, mobilenet_v2, convnext_tiny, densenet121 at random
    init (seed 0, batch-norm statistics calibrated), 224x224, converted with
    tools/convert.py;
  - every classifier under models/ (the zoo and tiny-demo) at its own input
    size; inputs are the folder's held-out check_input.npy (network inputs:
    log-mel / STFT features for the audio models), else seeded noise.

For each model it first runs both engines on the same batch-8 input and
prints the max |convd - PyTorch| (a model whose outputs disagree is reported
and not timed), then alternates PyTorch / convd-infer --bench (A/B, then B/A)
for several rounds at batch 1 and 8, and prints the images/s of each and
the ratio convd / PyTorch of the best round of each (best-of-N, as timeit
does: on a shared machine the best round is the one least disturbed by
other work; every round is printed). PyTorch runs under
torch.inference_mode with torch.set_num_threads(2) and
OPENBLAS_NUM_THREADS=1, and by default with
OMP_WAIT_POLICY=PASSIVE: on this shared 2-core machine libgomp's default
spin-waiting made PyTorch 10-50x slower whenever other processes ran
(mobilenet_v2 batch 1: 3-6 s vs 60-400 ms per image at load 8), so passive
waiting is the stronger, fairer baseline here; --torch-omp default measures
libgomp's default instead.

  bench/compare.py [--build DIR] [--quick | --smoke] [--models a,b,...]
                   [--rounds R] [--seconds S] [--device DEV] [--md FILE]
                   [--budget S] [--torch-omp passive|default]

--quick: resnet18 and the zoo, fewer rounds, shorter timings (about a
minute); --smoke: one zoo model, 2 iterations (the make check smoke test).
--budget bounds the run: models not started within it are skipped. --md
writes the table as Markdown. Converted models and inputs go under BUILD/bench/compare.
"""

import os
import sys

os.environ["OPENBLAS_NUM_THREADS"] = "1"  # before numpy/torch load
# --torch-omp passive|default, read before torch loads libgomp (see --help)
TORCH_OMP = "default" if "--torch-omp=default" in sys.argv or any(
    a == "--torch-omp" and i + 1 < len(sys.argv) and sys.argv[i + 1] == "default"
    for i, a in enumerate(sys.argv)) else "passive"
if TORCH_OMP == "passive":
    os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
else:
    os.environ.pop("OMP_WAIT_POLICY", None)

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import torch_models  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tools"))
import convert  # noqa: E402

TORCHVISION = ["resnet18", "mobilenet_v2", "convnext_tiny", "densenet121"]
REL_TOL = 1e-3   # max |diff| / max |ref| above which outputs "disagree"


def machine_line():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d CPUs, %s, PyTorch %s, load average %s" % (
        cpu, os.cpu_count() or 0, platform.platform(terse=True), torch.__version__,
        " ".join("%.2f" % v for v in os.getloadavg()))


def zoo_folders():
    """(name, dir, reason) for each models/*/ folder; reason is None for a
    classifier we can benchmark, else why it is skipped."""
    out = []
    mdir = os.path.join(ROOT, "models")
    for name in sorted(os.listdir(mdir)):
        d = os.path.join(mdir, name)
        if not os.path.isfile(os.path.join(d, "model.json")):
            continue
        with open(os.path.join(d, "model.json")) as f:
            task = json.load(f).get("task")
        out.append((name, d, None if task == "classification" else
                    "task %s: not a classifier" % task))
    return out


class Model:
    def __init__(self, name, folder, module, x8):
        self.name, self.folder, self.module = name, folder, module
        self.x8 = x8                       # (8, ...) float32 input
        self.shape = "x".join(str(d) for d in x8.shape[1:])


def prepare_torchvision(arch, work, seed=0, size=224):
    module = torch_models.torchvision_module(arch, seed, size)
    folder = os.path.join(work, "%s-%d" % (arch, size))
    convert.convert(module, torch.zeros(1, 3, size, size), folder, name=arch,
                    preprocess=convert.imagenet_preprocess(size, size))
    g = torch.Generator().manual_seed(seed + 1)
    x8 = torch.randn(8, 3, size, size, generator=g).numpy()
    return Model(arch, folder, module, x8)


def prepare_folder(name, folder):
    module, meta = torch_models.folder_module(folder)
    shape = meta["inputs"][0]["shape"]
    path = os.path.join(folder, "check_input.npy")
    if os.path.isfile(path):
        x = np.load(path).astype(np.float32)
        reps = -(-8 // x.shape[0])
        x8 = np.concatenate([x] * reps)[:8]
    else:
        g = torch.Generator().manual_seed(1)
        x8 = torch.randn(8, *shape, generator=g).numpy()
    return Model(name, folder, module, np.ascontiguousarray(x8))


def convd_env():
    """convd-infer's environment: the bench's, without the OpenMP setting
    meant for PyTorch."""
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    return env


def convd_cmd(args, m, npy, extra):
    return [os.path.join(args.build, "convd-infer"), "--model", m.folder,
            "--input", npy, "--device", args.device, "--cache-dir", args.cache] + extra


def run_convd(args, m, npy, extra, timeout=600):
    p = subprocess.run(convd_cmd(args, m, npy, extra), capture_output=True,
                       text=True, timeout=timeout, env=convd_env())
    if p.returncode != 0:
        raise RuntimeError("convd-infer failed (%d): %s" % (p.returncode,
                                                             p.stderr.strip()[-400:]))
    return p.stdout


def agreement(args, m, npy8):
    """max |convd - torch| and max |torch| on the batch-8 input."""
    out = json.loads(run_convd(args, m, npy8, ["--json"]))
    outs = out["outputs"]
    got = np.array(next(iter(outs.values()))["data"], dtype=np.float64)
    with torch.inference_mode():
        ref = m.module(torch.from_numpy(np.load(npy8)))
    ref = (ref[0] if isinstance(ref, (tuple, list)) else ref).double().numpy().ravel()
    if got.size != ref.size:
        raise RuntimeError("output sizes differ: convd %d, PyTorch %d" % (got.size, ref.size))
    return float(np.abs(got - ref).max()), float(np.abs(ref).max())


def torch_ips(m, x, runs):
    with torch.inference_mode():
        m.module(x)
        t0 = time.perf_counter()
        for _ in range(runs):
            m.module(x)
        dt = time.perf_counter() - t0
    return x.shape[0] * runs / dt, dt / runs


def convd_ips(args, m, npy, batch, runs):
    out = run_convd(args, m, npy, ["--batch", str(batch), "--bench", str(runs)])
    mt = re.search(r"images_per_s=([0-9.]+)", out)
    if not mt:
        raise RuntimeError("no bench line in convd-infer output: " + out[-300:])
    return float(mt.group(1))


def bench_model(args, m, work):
    """Returns a result dict (ips per engine and batch, maxdiff, note)."""
    res = {"name": m.name, "shape": m.shape, "ips": {}}
    npy = {}
    for b in args.batches:
        npy[b] = os.path.join(work, "%s-b%d.npy" % (m.name, b))
        np.save(npy[b], m.x8[:b] if b <= 8 else np.concatenate([m.x8] * (b // 8 + 1))[:b])
    b_max = max(args.batches)
    diff, ref_max = agreement(args, m, npy[b_max])
    res["maxdiff"], res["refmax"] = diff, ref_max
    print("  %-22s agreement: max|convd-torch| = %.3g (max|torch| = %.3g)"
          % (m.name, diff, ref_max), flush=True)
    if diff > REL_TOL * max(ref_max, 1e-6):
        res["note"] = "outputs disagree: not timed"
        return res
    for b in args.batches:
        x = torch.from_numpy(np.load(npy[b]))
        _, per_run = torch_ips(m, x, 1)
        runs = args.runs if args.runs else max(1, min(50, int(args.seconds / max(per_run, 1e-4))))
        pt, cd = [], []
        for r in range(args.rounds):
            order = ("torch", "convd") if r % 2 == 0 else ("convd", "torch")
            for eng in order:
                if eng == "torch":
                    pt.append(torch_ips(m, x, runs)[0])
                else:
                    cd.append(convd_ips(args, m, npy[b], b, runs))
        res["ips"][b] = (max(pt), max(cd), runs)
        print("  %-22s batch %d: %d runs x %d rounds, PyTorch %s, convd %s img/s"
              % (m.name, b, runs, args.rounds, " ".join("%.1f" % v for v in pt),
                 " ".join("%.1f" % v for v in cd)), flush=True)
    return res


def print_table(results, batches, out=sys.stdout, md=False):
    head = ["model", "input"] + sum([["b%d torch" % b, "b%d convd" % b, "b%d ratio" % b]
                                     for b in batches], []) + ["max abs diff"]
    rows = []
    for r in results:
        cells = [r["name"], r.get("shape", "")]
        for b in batches:
            if b in r.get("ips", {}):
                pt, cd, _ = r["ips"][b]
                cells += ["%.1f" % pt, "%.1f" % cd, "%.2f" % (cd / pt)]
            else:
                cells += ["-", "-", "-"]
        cells.append("%.2g" % r["maxdiff"] if "maxdiff" in r else "-")
        if r.get("note"):
            cells[-1] += " (%s)" % r["note"]
        rows.append(cells)
    if md:
        out.write("| " + " | ".join(head) + " |\n")
        out.write("|" + "---|" * len(head) + "\n")
        for c in rows:
            out.write("| " + " | ".join(c) + " |\n")
        return
    w = [max(len(head[i]), *(len(c[i]) for c in rows)) if rows else len(head[i])
         for i in range(len(head))]
    out.write("  ".join(h.ljust(w[i]) if i < 2 else h.rjust(w[i])
                        for i, h in enumerate(head)) + "\n")
    for c in rows:
        out.write("  ".join(v.ljust(w[i]) if i < 2 else v.rjust(w[i])
                            for i, v in enumerate(c)) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--models", default=None,
                    help="comma-separated subset (torchvision archs and/or models/ names)")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--seconds", type=float, default=None,
                    help="target seconds per timing (sets the run count)")
    ap.add_argument("--runs", type=int, default=0, help="fixed runs per timing")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--md", default=None, help="also write the table as Markdown")
    ap.add_argument("--torch-omp", choices=["passive", "default"], default="passive",
                    help="PyTorch's OpenMP waiting: passive (OMP_WAIT_POLICY=PASSIVE, "
                    "default here) or libgomp's default spin-waiting")
    ap.add_argument("--budget", type=float, default=None,
                    help="seconds; models not started by then are skipped (default 600, "
                    "--quick 150)")
    args = ap.parse_args(argv)
    args.batches = [1, 8]
    if args.smoke:
        args.rounds, args.runs, args.batches = args.rounds or 1, 2, [1, 2]
        args.models = args.models or "shapes-resnet"
    args.rounds = args.rounds or (2 if args.quick else 3)
    args.budget = args.budget or (150 if args.quick or args.smoke else 600)
    args.seconds = args.seconds or (0.15 if args.quick else 0.4)
    args.build = os.path.abspath(args.build)
    if not os.access(os.path.join(args.build, "convd-infer"), os.X_OK):
        print("compare.py: %s/convd-infer not built (make)" % args.build, file=sys.stderr)
        return 2
    work = os.path.join(args.build, "bench", "compare")
    args.cache = os.path.join(args.build, "bench", "cl-cache")
    os.makedirs(work, exist_ok=True)
    os.makedirs(args.cache, exist_ok=True)
    torch.set_num_threads(2)

    wanted = args.models.split(",") if args.models else None
    todo = [("tv", a, None, None) for a in TORCHVISION
            if (wanted is None and not args.quick) or (wanted and a in wanted)]
    if args.quick and wanted is None:
        todo = [("tv", "resnet18", None, None)]
    for name, d, why in zoo_folders():
        if wanted is None or name in wanted:
            todo.append(("zoo", name, d, why))
    if wanted:
        known = set(TORCHVISION) | {n for n, _, _ in zoo_folders()}
        bad = [w for w in wanted if w not in known]
        if bad:
            print("compare.py: unknown model(s) %s (known: %s)"
                  % (", ".join(bad), ", ".join(sorted(known))), file=sys.stderr)
            return 2

    t_start = time.time()
    print("# convd-infer vs PyTorch, %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    print("# %s" % machine_line())
    print("# PyTorch: inference_mode, 2 threads, OPENBLAS_NUM_THREADS=1, OpenMP waiting %s; "
          "convd-infer --device %s; best of %d alternating rounds"
          % (TORCH_OMP, args.device, args.rounds))
    results, status = [], 0
    for kind, name, folder, why in todo:
        if not why and time.time() - t_start > args.budget:
            why = "time budget of %.0f s used up (a busy machine?)" % args.budget
        if why:
            print("  %-22s skipped: %s" % (name, why))
            continue
        try:
            m = (prepare_torchvision(name, work) if kind == "tv"
                 else prepare_folder(name, folder))
            results.append(bench_model(args, m, work))
        except (RuntimeError, ValueError, OSError, subprocess.TimeoutExpired,
                convert.ConvertError) as e:
            print("  %-22s FAILED: %s" % (name, e), flush=True)
            results.append({"name": name, "note": "failed: %s" % str(e)[-60:]})
            status = 1
        if any("disagree" in r.get("note", "") for r in results[-1:]):
            status = 1
    print()
    print_table(results, args.batches)
    print("# %.0f s in all; load average at the end %s" % (
        time.time() - t_start, " ".join("%.2f" % v for v in os.getloadavg())))
    if args.md:
        with open(args.md, "w") as f:
            f.write("%s; %s\n\n" % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                   machine_line()))
            print_table(results, args.batches, f, md=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
