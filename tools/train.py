#!/usr/bin/python3
"""train.py MODEL [--out DIR] [--seed S] [--quick] — rebuilds one model of
convd's zoo (tools/zoo/<name>.py): regenerates its data, trains it with fixed
seeds, measures held-out quality in PyTorch, converts it with
tools/convert.py, writes a held-out sample, checks that build/convd-infer
agrees with PyTorch (same argmax) on held-out examples, prints one summary
line and updates the model's row in models/README.md.

It never downloads anything and only writes DIR (default models/MODEL, or
build/zoo/MODEL with --quick) and models/README.md (full runs into models/).
`tools/train.py --list` names the registered models.
"""

import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy/torch load
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import argparse  # noqa: E402
import fcntl  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import convert  # noqa: E402
import zoo  # noqa: E402

README = os.path.join(ROOT, "models", "README.md")
README_HEAD = """# convd model zoo

Every model here is trained by convd itself on data it generates (or on
Debian's Fashion-MNIST), on 2 CPU cores with Debian's PyTorch, and converted
with tools/convert.py. Rebuild one with the command in its row; numbers are
from the last rebuild (held-out data never seen in training). "convd
agreement" is the share of held-out examples on which build/convd-infer and
PyTorch pick the same class. Each folder holds model.json,
weights.safetensors and a held-out sample (test.png or test.wav) whose
expected answer is in test.json.

| model | family | task | parameters | size on disk | training time | held-out quality | convd agreement | rebuild |
|---|---|---|---|---|---|---|---|---|
"""


def set_determinism(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(2)


def folder_bytes(d):
    return sum(os.path.getsize(os.path.join(d, f)) for f in ("model.json", "weights.safetensors"))


def run_convd(convd, model_dir, inp, device, args=("--json",)):
    cmd = [convd, "--model", model_dir, "--input", inp, "--device", device] + list(args)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                                   p.stderr.strip()[-500:]))
    return p.stdout


def convd_agreement(convd, model_dir, x, ref, device, chunk=250):
    """Runs convd on x (N, *input) in chunks of .npy files; returns
    (n_same_argmax, n, max |convd - torch|) against ref logits (N, K), or,
    for dense outputs (N, K, ...) such as segmentation, counted per output
    position (n = N * H * W pixels)."""
    same, tot, maxdiff = 0, 0, 0.0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "x.npy")
        for i in range(0, x.shape[0], chunk):
            xb = np.ascontiguousarray(x[i:i + chunk].numpy().astype(np.float32))
            np.save(path, xb)
            js = json.loads(run_convd(convd, model_dir, path, device))
            out = next(iter(js["outputs"].values()))
            got = np.asarray(out["data"], np.float32).reshape(out["shape"])
            want = ref[i:i + chunk].numpy()
            got = got.reshape(want.shape)
            eq = got.argmax(1) == want.argmax(1)
            same += int(eq.sum())
            tot += eq.size
            maxdiff = max(maxdiff, float(np.abs(got - want).max()))
    return same, tot, maxdiff


def check_sample(convd, model_dir, info, device):
    """convd-infer's top-1 on the shipped sample file, or None."""
    out = run_convd(convd, model_dir, os.path.join(model_dir, info["file"]), device,
                    ("--top", "1"))
    m = re.search(r"^\s*1\.\s+(.*?)\s+index=(\d+)", out, re.M)
    return m.group(1) if m else None


N_CHECK = 8


def write_check(model, x, out):
    """Ships N_CHECK held-out inputs and PyTorch's outputs for them
    (check_input.npy, check_expected.npy): tests/zoo/run.sh, run by make
    check, proves convd still agrees with PyTorch on the shipped model."""
    xs = x[:N_CHECK].contiguous()
    with torch.no_grad():
        ys = model(xs)
    for name, t in (("check_input.npy", xs), ("check_expected.npy", ys)):
        np.save(os.path.join(out, name),
                np.ascontiguousarray(t.detach().numpy().astype("<f4")))


def training_lock():
    """Full trainings take the whole machine (2 threads): one at a time."""
    f = open(os.path.join(tempfile.gettempdir(), "convd-train.lock"), "w")
    fcntl.flock(f, fcntl.LOCK_EX)
    return f


def fmt_time(s):
    return "%.0f s" % s if s < 120 else "%.1f min" % (s / 60)


def update_readme(name, cells):
    """Replaces (or appends) the row of model name in models/README.md."""
    text = open(README).read() if os.path.exists(README) else README_HEAD
    row = "| " + " | ".join([name] + cells) + " |"
    lines = text.rstrip("\n").split("\n")
    for i, ln in enumerate(lines):
        if ln.startswith("| %s |" % name):
            lines[i] = row
            break
    else:
        last = max(i for i, ln in enumerate(lines) if ln.startswith("|"))
        lines.insert(last + 1, row)
    with open(README, "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description="train and ship one zoo model")
    ap.add_argument("model", nargs="?")
    ap.add_argument("--out", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quick", action="store_true",
                    help="small data, few epochs, into build/zoo (smoke test)")
    ap.add_argument("--convd", default=os.path.join(ROOT, "build", "convd-infer"))
    ap.add_argument("--device", default="auto", help="convd-infer --device")
    ap.add_argument("--n-agree", type=int, default=0,
                    help="held-out examples checked with convd (0: all)")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args(argv)
    if args.list or not args.model:
        print("\n".join(zoo.names()))
        return 0 if args.list else 2
    entry = zoo.get(args.model)
    out = args.out or os.path.join(ROOT, "build" if args.quick else "models",
                                   "zoo" if args.quick else "", args.model)
    out = os.path.normpath(out)
    log = lambda s: print("[%s] %s" % (args.model, s), flush=True)  # noqa: E731

    lock = None if args.quick else training_lock()  # noqa: F841 (held)
    set_determinism(args.seed)
    t0 = time.time()
    d = entry.data(args.seed, args.quick)
    t_data = time.time() - t0
    log("data ready in %.1f s" % t_data)
    torch.manual_seed(args.seed)
    model = entry.build_model()
    n_params = sum(p.numel() for p in model.parameters())
    t0 = time.time()
    model = entry.train(model, d, args.seed, args.quick, log).eval()
    t_train = time.time() - t0
    q = entry.evaluate(model, d)
    log("held-out %s %.4f after %.1f s of training" % (q["metric"], q["value"], t_train))

    x, _ = entry.held_out(d)
    convert.convert(model, x[:2], out, name=entry.NAME, task=entry.TASK,
                    labels=entry.LABELS, preprocess=entry.PREPROCESS,
                    cam_layer=getattr(entry, "CAM_LAYER", None))
    write_check(model, x, out)
    info = entry.write_sample(model, d, out)
    size = folder_bytes(out)

    agree, agree_txt, sample_txt = None, "n/a (no convd-infer)", ""
    if os.access(args.convd, os.X_OK):
        n = x.shape[0] if args.n_agree <= 0 else min(args.n_agree, x.shape[0])
        with torch.no_grad():
            ref = model(x[:n])
        try:
            same, tot, maxdiff = convd_agreement(args.convd, out, x[:n], ref, args.device)
            agree = same / tot
            agree_txt = "%.2f%% (%d/%d)" % (100 * agree, same, tot)
            log("convd agreement %s, max |logit diff| %.2e" % (agree_txt, maxdiff))
            if entry.TASK == "classification":  # top-1 means nothing for masks
                got = check_sample(args.convd, out, info, args.device)
                sample_txt = " sample %s -> %s" % (info["file"], got)
                if got != info["label"]:
                    log("WARNING: convd says %s on %s, expected %s"
                        % (got, info["file"], info["label"]))
        except (RuntimeError, subprocess.TimeoutExpired, ValueError, KeyError) as e:
            agree_txt = "failed"
            log("convd check failed: %s" % e)

    cmd = "tools/train.py %s%s" % (args.model, " --seed %d" % args.seed if args.seed else "")
    print("SUMMARY %s params=%d size=%.1fKB data=%.1fs train=%.1fs %s=%.4f "
          "convd_agreement=%s%s out=%s" % (entry.NAME, n_params, size / 1024, t_data,
                                           t_train, q["metric"], q["value"], agree_txt,
                                           sample_txt, os.path.relpath(out, ROOT)))
    if not args.quick and os.path.dirname(out) == os.path.join(ROOT, "models"):
        update_readme(entry.NAME, [
            entry.FAMILY, entry.TASK, "{:,}".format(n_params), "%.0f KB" % (size / 1024),
            fmt_time(t_train), "%s %.2f%%" % (q["metric"], 100 * q["value"])
            if q["metric"] == "accuracy" else "%s %.3f" % (q["metric"], q["value"]),
            agree_txt, "`%s`" % cmd])
    return 0


if __name__ == "__main__":
    sys.exit(main())
