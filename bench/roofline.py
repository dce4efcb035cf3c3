#!/usr/bin/python3
"""roofline.py — convd's per-layer roofline: measures the memory roof with
bench/stream.c (BUILD/bench/stream, STREAM-like copy/scale/add/triad with 2
threads; the roof is the best of the four at the 64 MB "dram" level, the
1 MB "cache" level is drawn for reference) and the compute roof with
bench/peak.c (BUILD/bench/peak: FP32 FMA throughput of 2 threads, 512- and
256-bit vectors; --peak G overrides it), runs
`convd-infer --profile --json` on each model with those roofs, prints the per-class summary (conv3x3, conv1x1,
depthwise, ...: achieved GFLOP/s, % of peak, roofline bound, efficiency) and
the per-layer table of the first model, and draws every layer on a
log-log roofline plot (matplotlib, Debian's python3-matplotlib).

  bench/roofline.py [--build DIR] [--models resnet18,mobilenet_v2]
                    [--batch B] [--runs N] [--png FILE] [--md FILE]
                    [--quick | --smoke]

Models are torchvision archs (converted at random init, 224x224, by
bench/compare.py's recipe) or folders under models/. --smoke: shapes-resnet,
2 runs, PNG under BUILD/bench (the make check smoke test).
"""

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEAK = 230.0    # replaced by the measured peak (bench/peak) in main()
CLASSES = ["conv3x3", "conv1x1", "depthwise", "conv-other", "gemm", "other"]
COLOURS = {"conv3x3": "tab:blue", "conv1x1": "tab:orange", "depthwise": "tab:green",
           "conv-other": "tab:purple", "gemm": "tab:red", "other": "tab:gray"}


def measure_bandwidth(build, quick):
    exe = os.path.join(build, "bench", "stream")
    if not os.access(exe, os.X_OK):
        raise RuntimeError("%s not built (make %s)" % (exe, os.path.relpath(exe, ROOT)))
    cmd = [exe, "--reps", "2" if quick else "5"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         timeout=120).stdout
    levels = {}
    for line in out.splitlines():
        m = re.match(r"stream: level=(\w+) (.*)", line)
        if m:
            kv = dict(p.split("=") for p in m.group(2).split())
            levels[m.group(1)] = {k[:-4]: float(v) for k, v in kv.items()
                                  if k.endswith("_gbs")}
    if "dram" not in levels:
        raise RuntimeError("no dram line from %s: %s" % (exe, out))
    return levels, out.strip()


def measure_peak(build, quick):
    """Best FP32 FMA rate of 2 threads (GFLOP/s) and bench/peak's line."""
    exe = os.path.join(build, "bench", "peak")
    if not os.access(exe, os.X_OK):
        raise RuntimeError("%s not built (make %s)" % (exe, os.path.relpath(exe, ROOT)))
    out = subprocess.run([exe, "--threads", "2", "--ms", "30" if quick else "200"],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    m = re.search(r"fma512_gflops=([\d.]+) fma256_gflops=([\d.]+)", out)
    if not m:
        raise RuntimeError("no peak line from %s: %s" % (exe, out))
    return max(float(m.group(1)), float(m.group(2))), out.strip()


def model_folder(name, build):
    d = os.path.join(ROOT, "models", name)
    if os.path.isfile(os.path.join(d, "model.json")):
        return d, None
    folder = os.path.join(build, "bench", "compare", "%s-224" % name)
    if not os.path.isfile(os.path.join(folder, "model.json")):
        sys.path.insert(0, HERE)
        sys.path.insert(0, os.path.join(ROOT, "tools"))
        import torch
        import convert
        import torch_models
        torch.set_num_threads(2)
        m = torch_models.torchvision_module(name, 0, 224)
        convert.convert(m, torch.zeros(1, 3, 224, 224), folder, name=name,
                        preprocess=convert.imagenet_preprocess(224, 224))
    return folder, None


def input_for(folder, batch, work):
    import numpy as np
    with open(os.path.join(folder, "model.json")) as f:
        shape = json.load(f)["inputs"][0]["shape"]
    x = np.random.default_rng(1).standard_normal((batch, *shape)).astype("<f4")
    path = os.path.join(work, "roofline-%s-b%d.npy" % (os.path.basename(folder), batch))
    np.save(path, x)
    return path


def profile(build, folder, npy, batch, runs, bw, device, cache):
    cmd = [os.path.join(build, "convd-infer"), "--model", folder, "--input", npy,
           "--batch", str(batch), "--bench", str(runs), "--profile", "--json",
           "--peak-gflops", str(PEAK), "--bandwidth-gbs", "%.3f" % bw,
           "--device", device, "--cache-dir", cache]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("convd-infer --profile failed: %s" % p.stderr.strip()[-400:])
    return json.loads(p.stdout)


def class_rows(prof):
    rows = []
    total = prof["total_time_s"]
    for c in CLASSES:
        s = prof["classes"].get(c)
        if not s:
            continue
        gf = s["flops"] / s["time_s"] * 1e-9 if s["time_s"] > 0 else 0.0
        roof = s["flops"] / s["time_at_roof_s"] * 1e-9 if s["time_at_roof_s"] > 0 else 0.0
        rows.append([c, str(s["nodes"]), "%.2f" % (s["time_s"] * 1e3),
                     "%.0f" % (100 * s["time_s"] / total if total else 0),
                     "%.1f" % gf, "%.1f" % (100 * gf / PEAK), "%.1f" % roof,
                     "%.0f" % (100 * gf / roof if roof else 0)])
    return rows


def node_rows(prof, only_conv):
    rows = []
    for i, n in enumerate(prof["nodes"]):
        if only_conv and n["class"] not in ("conv3x3", "conv1x1", "depthwise", "conv-other"):
            continue
        gf = n["flops"] / n["time_s"] * 1e-9 if n["time_s"] > 0 else 0.0
        ai = n["flops"] / n["bytes"] if n["bytes"] else 0.0
        rows.append([str(i), n["name"], n["label"], n["in"], n["out"],
                     "%.1f" % (n["flops"] * 1e-6), "%.2f" % (n["bytes"] * 1e-6),
                     "%.0f" % (n["time_s"] * 1e6), "%.1f" % gf, "%.1f" % ai,
                     "%.0f" % n["roof_gflops"],
                     "%.0f" % (100 * gf / n["roof_gflops"] if n["roof_gflops"] else 0)])
    return rows


def write_table(f, head, rows, md):
    if md:
        f.write("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
        for r in rows:
            f.write("| " + " | ".join(r) + " |\n")
        return
    w = [max([len(head[i])] + [len(r[i]) for r in rows]) for i in range(len(head))]
    f.write("  ".join(h.rjust(w[i]) for i, h in enumerate(head)) + "\n")
    for r in rows:
        f.write("  ".join(v.rjust(w[i]) for i, v in enumerate(r)) + "\n")


CLASS_HEAD = ["class", "nodes", "time ms", "share %", "GFLOP/s", "% of peak",
              "roof GFLOP/s", "eff %"]
NODE_HEAD = ["#", "node", "op", "in", "out", "MFLOP", "MB", "time us", "GFLOP/s",
             "flop/B", "roof", "eff %"]


def plot(profs, levels, bw, png):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    ai = np.logspace(-2, 3, 400)
    ax.plot(ai, np.minimum(PEAK, ai * bw), "k-", lw=1.5,
            label="roof: %.0f GFLOP/s, %.1f GB/s (stream, dram)" % (PEAK, bw))
    cache_bw = max(levels.get("cache", {}).values() or [0])
    if cache_bw > bw:
        ax.plot(ai, np.minimum(PEAK, ai * cache_bw), "k--", lw=0.8,
                label="cache-resident roof: %.0f GB/s (stream, 1 MB)" % cache_bw)
    markers = ["o", "s", "^", "D"]
    seen = set()
    for k, prof in enumerate(profs):
        for n in prof["nodes"]:
            if n["time_s"] <= 0 or n["flops"] <= 0 or n["bytes"] <= 0:
                continue
            c = n["class"]
            lab = None
            if (k, c) not in seen:
                seen.add((k, c))
                lab = "%s %s" % (prof["model"], c)
            ax.scatter(n["flops"] / n["bytes"], n["flops"] / n["time_s"] * 1e-9,
                       s=12 + 400 * n["time_s"] / prof["total_time_s"],
                       c=COLOURS.get(c, "black"), marker=markers[k % len(markers)],
                       alpha=0.7, edgecolors="none", label=lab)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(1e-2, 1e3)
    ax.set_ylim(1e-2, 1e3)
    ax.set_xlabel("arithmetic intensity (FLOP / compulsory byte)")
    ax.set_ylabel("achieved GFLOP/s")
    ax.set_title("convd per-layer roofline, batch %d (%s; marker area ~ time share)"
                 % (profs[0]["batch"], time.strftime("%Y-%m-%d", time.gmtime())),
                 fontsize=10)
    ax.grid(True, which="both", lw=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(png)), exist_ok=True)
    fig.savefig(png)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--models", default="resnet18,mobilenet_v2")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--png", default=os.path.join(ROOT, "docs", "images", "roofline.png"))
    ap.add_argument("--md", default=None, help="also write the tables as Markdown")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--peak", type=float, default=0.0,
                    help="compute roof in GFLOP/s (default: measured by bench/peak)")
    args = ap.parse_args(argv)
    args.build = os.path.abspath(args.build)
    work = os.path.join(args.build, "bench")
    cache = os.path.join(work, "cl-cache")
    os.makedirs(cache, exist_ok=True)
    if args.smoke:
        args.models, args.runs, args.batch = "shapes-resnet", 2, 2
        args.png = os.path.join(work, "roofline-smoke.png")
    elif args.quick:
        args.runs = 3
    global PEAK
    levels, stream_out = measure_bandwidth(args.build, args.quick or args.smoke)
    bw = max(levels["dram"].values())
    if args.peak > 0:
        PEAK, peak_out = args.peak, "peak: --peak %.1f" % args.peak
    else:
        PEAK, peak_out = measure_peak(args.build, args.quick or args.smoke)
    print("# convd per-layer roofline, %s" % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    print("# %s" % stream_out.replace("\n", "\n# "))
    print("# %s" % peak_out)
    print("# roofs: peak %.0f GFLOP/s, memory %.1f GB/s (best stream kernel at the dram level); "
          "load average %s" % (PEAK, bw, " ".join("%.2f" % v for v in os.getloadavg())))
    profs = []
    for name in args.models.split(","):
        folder, _ = model_folder(name, args.build)
        npy = input_for(folder, args.batch, work)
        prof = profile(args.build, folder, npy, args.batch, args.runs, bw, args.device, cache)
        prof["model"] = name
        profs.append(prof)
        print("\n## %s, batch %d, median of %d profiled runs: %.2f ms in nodes, %.1f GFLOP/s overall"
              % (name, args.batch, args.runs, prof["total_time_s"] * 1e3,
                 prof["total_flops"] / prof["total_time_s"] * 1e-9))
        write_table(sys.stdout, CLASS_HEAD, class_rows(prof), False)
    print("\n## per layer: %s (convolutions)" % profs[0]["model"])
    write_table(sys.stdout, NODE_HEAD, node_rows(profs[0], True), False)
    plot(profs, levels, bw, args.png)
    print("\nwrote %s" % args.png)
    if args.md:
        with open(args.md, "w") as f:
            f.write("%s; memory roof %.1f GB/s (stream dram best), cache level %s GB/s; "
                    "peak %.0f GFLOP/s; batch %d\n\n" % (
                        time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), bw,
                        "%.0f" % max(levels.get("cache", {"x": 0}).values()), PEAK, args.batch))
            for prof in profs:
                f.write("%s:\n\n" % prof["model"])
                write_table(f, CLASS_HEAD, class_rows(prof), True)
                f.write("\n")
            f.write("%s, convolution layers:\n\n" % profs[0]["model"])
            write_table(f, NODE_HEAD, node_rows(profs[0], True), True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as e:
        print("roofline.py: %s" % e, file=sys.stderr)
        sys.exit(1)
