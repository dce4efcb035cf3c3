#!/usr/bin/python3
"""serve_compare.py — convd versus a Python server (bench/pyserver/server.py:
aiohttp + PyTorch inference_mode in a worker thread, 2 threads, same
preprocessing, same /v1/models/{m}/classify contract) on the same models,
on 127.0.0.1, both started (the Python server first) but only one under
load at a time, taking turns row by row:

  - time from start to ready (GET /readyz answers 200): convd with an empty
    kernel cache (cold) and again with the cache it just filled (warm); the
    Python server twice (the second start has the OS file cache warm);
  - closed loop: wrk (bench/load/post_image.lua) at concurrency 1, 8, 32:
    requests/s, p50 and p99 latency, CPU seconds per request of the server
    process (utime + stime from /proc/PID/stat, over the row and the drain
    request after it, divided by every request served: wrk's count, the <= c
    it abandoned at the end, the drain);
  - open loop: bench/load/poisson (BUILD/bench/poisson) at a fixed Poisson
    rate, latency from the scheduled send time so queueing is not hidden; the
    rate is 70% of the Python server's best closed-loop throughput on that
    model (measured first in the same run), the same for both servers;
  - resident memory (VmRSS) after the load and its peak (VmHWM).

Before measuring a model each server gets 3 requests, bursts of 2..8
concurrent requests (each waited for) and a discarded --warmup seconds of
load at the highest concurrency: convd compiles the kernels of a batch size
on its first use (seconds each with an empty kernel cache), the Python
server warms batch 1 and 8 at start.

Models: torchvision resnet18 converted at random init (224x224, seed 0) and
the zoo's shapes-resnet; request bodies: skimage's chelsea photo as PNG
(451x300) for resnet18, the zoo's test.png for shapes-resnet. The Python
server runs with OMP_WAIT_POLICY=PASSIVE unless --torch-omp default (see
bench/compare.py: libgomp's spin-waiting collapses on a shared machine).

  bench/serve_compare.py [--build DIR] [--quick | --smoke] [--seconds S]
                         [--conc 1,8,32] [--rate R] [--md FILE]

--quick keeps the whole run under about a minute; --smoke (make check) one
model, batches up to 2, 1 s per row, convd's kernel cache in
BUILD/bench/cl-cache and POCL's kernels in its default cache
(~/.cache/pocl): what bench/compare.py --smoke has just filled in make
check, so "cold" there is not cold. After every row one request drains what the load generator left
queued, so the next row starts on an idle server. Bounded: every server
start, request and run has a timeout; servers are stopped with SIGTERM
(then SIGKILL) on every exit path.
"""

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3"
TICK = os.sysconf("SC_CLK_TCK")


def http(url, body=None, ctype=None, timeout=60):
    req = urllib.request.Request(url, data=body, method="POST" if body else "GET")
    if ctype:
        req.add_header("Content-Type", ctype)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def fmt_s(t):
    return "-" if t is None else "%.2f" % t


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICK   # utime, stime


def memory_mb(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024.0
    return out.get("VmRSS", 0.0), out.get("VmHWM", 0.0)


class Server:
    """One server process: started, polled until /readyz answers, stopped."""

    def __init__(self, kind, cmd, port_file, log_path, env=None):
        self.kind, self.cmd, self.port_file, self.env = kind, cmd, port_file, env
        self.log = open(log_path, "w")
        self.proc, self.port = None, None

    def start(self, timeout):
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(self.cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=self.env)
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited at start (status %d); see %s"
                                   % (self.kind, self.proc.returncode, self.log.name))
            if self.port is None and os.path.exists(self.port_file):
                txt = open(self.port_file).read().strip()
                self.port = int(txt) if txt.isdigit() else None
            if self.port:
                try:
                    if http("http://127.0.0.1:%d/readyz" % self.port, timeout=2)[0] == 200:
                        return time.perf_counter() - t0
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.02)
        raise RuntimeError("%s not ready after %.0f s" % (self.kind, timeout))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc, self.port = None, None


def convd_server(args, models_dir, cache, tmp):
    cmd = [os.path.join(args.build, "convd"), "--models", models_dir, "--host", "127.0.0.1",
           "--port", "0", "--port-file", os.path.join(tmp, "convd.port"),
           "--device", args.device, "--log-level", "warn", "--cache-dir", cache,
           "--max-batch", str(args.max_batch)]
    env = dict(os.environ)
    if args.smoke and not env.get("POCL_CACHE_DIR"):
        # smoke: POCL's default kernel cache, which bench/compare.py --smoke
        # (convd-infer, same model and batches) has just filled
        env["POCL_CACHE_DIR"] = os.path.join(os.path.expanduser("~"), ".cache", "pocl")
    return Server("convd", cmd, os.path.join(tmp, "convd.port"), os.path.join(tmp, "convd.log"),
                  env)


def python_server(args, models_dir, tmp):
    cmd = [PYTHON, os.path.join(HERE, "pyserver", "server.py"), "--models", models_dir,
           "--port", "0", "--port-file", os.path.join(tmp, "py.port"),
           "--max-batch", str(args.max_batch)]
    env = dict(os.environ)
    if args.torch_omp == "passive":
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    else:
        env.pop("OMP_WAIT_POLICY", None)
    return Server("python", cmd, os.path.join(tmp, "py.port"), os.path.join(tmp, "py.log"),
                  env)


def warm_batches(url, body, max_batch=8, timeout=300):
    """Bursts of k concurrent requests, k = 2..max_batch, twice, each
    waited for: every batch size a server can form is met before the
    measurements (convd builds a batch size's kernels on first use; with an
    empty kernel cache that can take seconds)."""
    import threading
    failures = []

    def one():
        try:
            http(url, body, "image/png", timeout=timeout)
        except (urllib.error.URLError, OSError) as e:
            failures.append(e)
    for _ in range(2):
        for k in range(2, max_batch + 1):
            th = [threading.Thread(target=one) for _ in range(k)]
            for t in th:
                t.start()
            for t in th:
                t.join(timeout)
    if failures:
        raise RuntimeError("warm-up requests failed: %s" % failures[0])


def drain(url, body):
    """When wrk stops, up to `concurrency` requests it gave up on are still
    queued in the server and are answered to closed sockets; one request
    sent now comes back only after them (both servers are FIFO), so the next
    row starts on an idle server instead of behind seconds of backlog."""
    http(url, body, "image/png", timeout=300)


def run_wrk(url, image, conc, seconds):
    env = dict(os.environ, IMAGE=image)
    cmd = ["wrk", "-t1", "-c%d" % conc, "-d%ds" % seconds, "--timeout", "30s", "--latency",
           "-s", os.path.join(HERE, "load", "post_image.lua"), url]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            w = {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
            # throughput counts answered requests only (a 503 is fast)
            w["rps"] = max(0.0, w["requests"] - w["errors"]) / w["duration_s"]
            return w
    raise RuntimeError("wrk gave no RESULT line: %s" % (p.stdout + p.stderr)[-300:])


def run_poisson(args, port, path, image, rate, seconds):
    cmd = [os.path.join(args.build, "bench", "poisson"), "--port", str(port), "--path", path,
           "--body", image, "--type", "image/png", "--rate", "%.3f" % rate,
           "--duration", str(seconds), "--conns", "128", "--drain", "10", "--seed", "7"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if p.returncode != 0:
        raise RuntimeError("poisson failed: %s" % p.stderr.strip()[-300:])
    line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}


def prepare(args, work):
    """Models folder (resnet18 converted + shapes-resnet) and request images."""
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import numpy as np
    import skimage.data
    from PIL import Image
    models = os.path.join(work, "models")
    os.makedirs(models, exist_ok=True)
    plan = []
    if "shapes-resnet" in args.models:
        dst = os.path.join(models, "shapes-resnet")
        if os.path.exists(dst):
            shutil.rmtree(dst)
        shutil.copytree(os.path.join(ROOT, "models", "shapes-resnet"), dst)
        plan.append(("shapes-resnet", os.path.join(dst, "test.png")))
    if "resnet18" in args.models:
        import torch
        import convert
        import torch_models
        torch.set_num_threads(2)
        dst = os.path.join(models, "resnet18")
        m = torch_models.torchvision_module("resnet18", 0, 224)
        convert.convert(m, torch.zeros(1, 3, 224, 224), dst, name="resnet18",
                        preprocess=convert.imagenet_preprocess(224, 224))
        img = os.path.join(work, "chelsea.png")
        Image.fromarray(np.asarray(skimage.data.chelsea())).save(img)
        plan.insert(0, ("resnet18", img))
    return models, plan


def warm_server(args, srv, name, image, res):
    """Top-1 check and warm-up of one model on one server."""
    url = "http://127.0.0.1:%d/v1/models/%s/classify" % (srv.port, name)
    body = open(image, "rb").read()
    _, out = http(url + "?top=1", body, "image/png", timeout=120)
    top1 = json.loads(out)["predictions"][0]
    res.setdefault("top1", {}).setdefault(name, {})[srv.kind] = (top1["index"], top1["score"])
    for _ in range(3):
        http(url, body, "image/png", timeout=120)
    warm_batches(url, body, args.max_batch)
    # warm-up burst at the highest concurrency, discarded: both servers meet
    # every batch size once (convd compiles kernels for a batch size on its
    # first use) before anything is measured
    if args.warmup:
        run_wrk(url, image, max(args.conc), args.warmup)
        drain(url, body)
    return url, body


def bench_model(args, servers, name, image, rates, res):
    """Closed- and open-loop rows for one model, the two servers taking
    turns row by row (Python first, then convd first, ...), so a change in
    the machine's load hits both alike."""
    urls = {srv.kind: warm_server(args, srv, name, image, res) for srv in servers}
    for i, c in enumerate(args.conc):
        for srv in (servers if i % 2 == 0 else servers[::-1]):
            url, body = urls[srv.kind]
            c0 = cpu_seconds(srv.proc.pid)
            w = run_wrk(url, image, c, args.seconds)
            drain(url, body)
            # served: what wrk counted, the <= c it abandoned, the drain
            w["cpu_ms_per_req"] = ((cpu_seconds(srv.proc.pid) - c0)
                                   / (w["requests"] + c + 1) * 1e3)
            w["load"] = os.getloadavg()[0]
            res["closed"].append((name, srv.kind, c, w))
            print("  %-14s %-7s c=%-3d %8.1f req/s  p50 %8.1f ms  p99 %8.1f ms  errors %d  "
                  "cpu %.1f ms/req  load %.1f"
                  % (name, srv.kind, c, w["rps"], w["p50_ms"], w["p99_ms"], w["errors"],
                     w["cpu_ms_per_req"], w["load"]), flush=True)
    best = max(w["rps"] for (n, k, _, w) in res["closed"] if n == name and k == "python")
    rates[name] = args.rate or max(0.5, 0.7 * best)
    for srv in servers:
        url, body = urls[srv.kind]
        c0 = cpu_seconds(srv.proc.pid)
        o = run_poisson(args, srv.port, "/v1/models/%s/classify" % name, image,
                        rates[name], args.open_seconds)
        drain(url, body)
        o["cpu_ms_per_req"] = (cpu_seconds(srv.proc.pid) - c0) / (o["completed"] + 1) * 1e3
        res["open"].append((name, srv.kind, o))
        print("  %-14s %-7s open loop %.1f req/s offered: %.1f achieved, p50 %.1f ms, "
              "p99 %.1f ms, max %.1f ms, %d errors, %d timeouts"
              % (name, srv.kind, o["offered_rps"], o["achieved_rps"], o["p50_ms"],
                 o["p99_ms"], o["max_ms"], o["errors"], o["timeouts"]), flush=True)


def report(res, plan, f, md):
    def table(head, rows):
        if md:
            f.write("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
            for r in rows:
                f.write("| " + " | ".join(r) + " |\n")
        else:
            w = [max([len(head[i])] + [len(r[i]) for r in rows]) for i in range(len(head))]
            f.write("  ".join(h.ljust(w[i]) for i, h in enumerate(head)) + "\n")
            for r in rows:
                f.write("  ".join(v.ljust(w[i]) for i, v in enumerate(r)) + "\n")
        f.write("\n")

    rows = []
    for name, _ in plan:
        for c in sorted({c for (n, _, c, _) in res["closed"] if n == name}):
            got = {k: w for (n, k, cc, w) in res["closed"] if n == name and cc == c}
            if "convd" not in got or "python" not in got:
                continue
            cv, py = got["convd"], got["python"]
            rows.append([name, str(c), "%.1f" % py["rps"], "%.1f" % cv["rps"],
                         "%.2f" % (cv["rps"] / py["rps"] if py["rps"] else 0),
                         "%.1f / %.1f" % (py["p50_ms"], py["p99_ms"]),
                         "%.1f / %.1f" % (cv["p50_ms"], cv["p99_ms"]),
                         "%.1f" % py["cpu_ms_per_req"], "%.1f" % cv["cpu_ms_per_req"],
                         "%d / %d" % (py["errors"], cv["errors"])])
    f.write("Closed loop (wrk, one connection per concurrent client):\n\n")
    table(["model", "conc", "python 2xx req/s", "convd 2xx req/s", "convd/python",
           "python p50/p99 ms", "convd p50/p99 ms", "python CPU ms/req", "convd CPU ms/req",
           "errors py/convd"], rows)
    rows = []
    for name, _ in plan:
        got = {k: o for (n, k, o) in res["open"] if n == name}
        for k in ("python", "convd"):
            if k in got:
                o = got[k]
                rows.append([name, k, "%.1f" % o["offered_rps"], "%.1f" % o["achieved_rps"],
                             "%.1f" % o["p50_ms"], "%.1f" % o["p90_ms"], "%.1f" % o["p99_ms"],
                             "%.1f" % o["max_ms"], "%d" % o["errors"], "%d" % o["timeouts"],
                             "%.1f" % o["cpu_ms_per_req"]])
    f.write("Open loop (bench/load/poisson, Poisson arrivals, latency from the scheduled "
            "send time):\n\n")
    table(["model", "server", "offered req/s", "achieved req/s", "p50 ms", "p90 ms", "p99 ms",
           "max ms", "errors", "timeouts", "CPU ms/req"], rows)
    rows = []
    for k in ("python", "convd"):
        if k in res["ready"]:
            r = res["ready"][k]
            rss, hwm = res["memory"].get(k, (0, 0))
            rows.append([k, fmt_s(r[0]), fmt_s(r[1]), "%.0f" % rss, "%.0f" % hwm])
    f.write("Start to ready and memory (ready = GET /readyz answers 200, all models loaded):\n\n")
    table(["server", "first start s (convd: empty kernel cache)",
           "second start s (convd: warm kernel cache)", "RSS MB after load", "peak RSS MB"],
          rows)
    rows = [[n, "%d (%.3f)" % v.get("python", (-1, 0)), "%d (%.3f)" % v.get("convd", (-1, 0))]
            for n, v in res.get("top1", {}).items()]
    f.write("Same answer check (top-1 index and score of the benchmark image):\n\n")
    table(["model", "python", "convd"], rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--models", default="resnet18,shapes-resnet")
    ap.add_argument("--seconds", type=int, default=None, help="wrk seconds per row")
    ap.add_argument("--open-seconds", type=float, default=None)
    ap.add_argument("--conc", default="1,8,32")
    ap.add_argument("--warmup", type=int, default=None,
                    help="seconds of discarded load per model before measuring (0: none)")
    ap.add_argument("--rate", type=float, default=None, help="open-loop req/s (default: "
                    "70%% of the Python server's best closed-loop rate)")
    ap.add_argument("--max-batch", type=int, default=8, help="both servers' batch limit")
    ap.add_argument("--torch-omp", choices=["passive", "default"], default="passive",
                    help="the Python server's OpenMP waiting (as bench/compare.py)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--md", default=None)
    args = ap.parse_args(argv)
    args.build = os.path.abspath(args.build)
    if args.smoke:  # one model, batches up to 2, kernel cache kept between runs
        args.models, args.conc = "shapes-resnet", args.conc if args.conc != "1,8,32" else "1,8"
        args.max_batch = 2
    args.seconds = args.seconds or (1 if args.smoke else 3 if args.quick else 8)
    if args.warmup is None:
        args.warmup = 1 if args.smoke or args.quick else 3
    args.open_seconds = args.open_seconds or (1.0 if args.smoke else 3.0 if args.quick else 8.0)
    if args.quick and args.models == "resnet18,shapes-resnet":
        args.models = "resnet18"
    args.models = args.models.split(",")
    args.conc = [int(c) for c in args.conc.split(",")]
    for exe in ("convd", os.path.join("bench", "poisson")):
        if not os.access(os.path.join(args.build, exe), os.X_OK):
            print("serve_compare.py: %s/%s not built (make bench-serve builds it)"
                  % (args.build, exe), file=sys.stderr)
            return 2
    if not shutil.which("wrk"):
        print("serve_compare.py: wrk not installed (make deps)", file=sys.stderr)
        return 2
    work = os.path.join(args.build, "bench", "serve")
    os.makedirs(work, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="convd-serve-")
    t_start = time.time()
    print("# convd vs Python server (aiohttp + PyTorch, OpenMP waiting %s), %s, load average %s"
          % (args.torch_omp, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
             " ".join("%.2f" % v for v in os.getloadavg())), flush=True)
    models_dir, plan = prepare(args, work)
    res = {"closed": [], "open": [], "ready": {}, "memory": {}}
    rates = {}
    status = 0
    servers = []
    try:
        py = python_server(args, models_dir, tmp)
        servers.append(py)
        t1 = py.start(120)
        t2 = None
        if not args.smoke:  # smoke: one start per server
            py.stop()
            t2 = py.start(120)
        res["ready"]["python"] = (t1, t2)
        print("  python  ready in %.2f s (first start), %s s (second)" % (t1, fmt_s(t2)),
              flush=True)
        # smoke: the kernel cache (program binaries and tuning results)
        # bench/compare.py --smoke has just filled with convd-infer
        cache = (os.path.join(args.build, "bench", "cl-cache") if args.smoke
                 else os.path.join(tmp, "convd-cache"))
        cd = convd_server(args, models_dir, cache, tmp)
        servers.append(cd)
        t1 = cd.start(300)
        t2 = None
        if not args.smoke:
            cd.stop()
            t2 = cd.start(300)
        res["ready"]["convd"] = (t1, t2)
        print("  convd   ready in %.2f s (empty kernel cache), %s s (warm cache)"
              % (t1, fmt_s(t2)), flush=True)
        for name, image in plan:
            bench_model(args, [py, cd], name, image, rates, res)
        for srv in (py, cd):
            res["memory"][srv.kind] = memory_mb(srv.proc.pid)
    except (RuntimeError, OSError, ValueError, KeyError, urllib.error.URLError,
            subprocess.TimeoutExpired) as e:
        print("serve_compare.py: %s" % e, file=sys.stderr)
        status = 1
    finally:
        for s in servers:
            s.stop()
    print()
    report(res, plan, sys.stdout, False)
    print("# %.0f s in all; load average at the end %s"
          % (time.time() - t_start, " ".join("%.2f" % v for v in os.getloadavg())))
    if args.md:
        with open(args.md, "w") as f:
            f.write("%s; load average at the start/end of the run recorded in the text output\n\n"
                    % time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
            report(res, plan, f, True)
    if status == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print("serve_compare.py: logs kept in %s" % tmp, file=sys.stderr)
    errors = sum(w["errors"] for (_, _, _, w) in res["closed"])
    return status or (1 if errors else 0)


if __name__ == "__main__":
    sys.exit(main())
