#!/usr/bin/python3
"""eval_seg_http.py [--n N] [--seed S] [--convd PATH] [--infer PATH] [--torch]
— checks that the zoo segmenter "shapes-wavemix-seg" keeps its quality
through the HTTP path: starts build/convd (CPU device) on a temporary models
folder holding only that model, POSTs the first N held-out images of the zoo
entry (tools/zoo/shapes_wavemix_seg.py data(seed): shapes.make(1000,
seed=9000+seed)) as PNG to /v1/models/shapes-wavemix-seg/segment, decodes
the RLE masks and computes mIoU over all 8 classes (background included)
exactly as the entry's miou() does. It also computes the offline mIoU of
the same images through build/convd-infer --json on .npy inputs normalised
as the entry's _normalise() does (argmax over the class logits), the pixel
agreement between HTTP and offline masks and, with --torch, the mIoU of the
PyTorch module rebuilt from the model's weights.safetensors.

It never edits the model folder and always stops the daemon it started.
"""

import argparse
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from data import shapes  # noqa: E402

MODEL = "shapes-wavemix-seg"
K = 1 + len(shapes.CLASSES)
MEAN, STD = 0.5, 0.25          # the entry's PREPROCESS / _normalise
SIZE = 64
N_TEST = 1000                  # the entry's N_TEST (non-quick held-out set)


def held_out(n, seed):
    """First n of the entry's held-out images/masks (same make() call)."""
    img, _, mask = shapes.make(N_TEST, seed=9000 + seed, size=SIZE)
    return img[:n], mask[:n]


def png_bytes(rgb):
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buf, format="PNG")
    return buf.getvalue()


def confusion(pred, truth, k=K):
    p = pred.reshape(-1).astype(np.int64)
    t = truth.reshape(-1).astype(np.int64)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.float64)


def miou(conf):
    """The entry's miou(): classes absent from both sides are left out."""
    inter = np.diag(conf)
    union = conf.sum(0) + conf.sum(1) - inter
    ious = [float(inter[c] / union[c]) if union[c] > 0 else float("nan")
            for c in range(conf.shape[0])]
    valid = [v for v in ious if v == v]
    return sum(valid) / len(valid), ious


def http(method, url, body=None, ctype=None, timeout=30.0):
    req = urllib.request.Request(url, data=body, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def start_daemon(convd, models_dir, tmp, timeout):
    port_file = os.path.join(tmp, "port")
    log = open(os.path.join(tmp, "convd.log"), "wb")
    proc = subprocess.Popen([convd, "--models", models_dir, "--port", "0",
                             "--port-file", port_file, "--device", "cpu",
                             "--log-level", "warn"],
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + timeout
    base = None
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("convd exited with %d (log %s)" % (proc.returncode, log.name))
        if base is None and os.path.exists(port_file):
            txt = open(port_file).read().strip()
            if txt.isdigit():
                base = "http://127.0.0.1:%s" % txt
        if base is not None:
            try:
                st, _ = http("GET", base + "/readyz", timeout=2.0)
                if st == 200:
                    return proc, base
            except OSError:
                pass
        time.sleep(0.1)
    return proc, None


def stop_daemon(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def http_masks(base, images, timeout):
    out = np.empty((len(images), SIZE, SIZE), np.uint8)
    url = "%s/v1/models/%s/segment" % (base, MODEL)
    for i, im in enumerate(images):
        st, body = http("POST", url, png_bytes(im), "image/png", timeout=timeout)
        if st != 200:
            raise RuntimeError("image %d: HTTP %d: %s" % (i, st, body[:300]))
        m = json.loads(body)["mask"]
        runs, w, h = m["runs"], m["width"], m["height"]
        if m.get("format") != "rle" or (w, h) != (SIZE, SIZE):
            raise RuntimeError("image %d: unexpected mask %r" % (i, {k: m[k] for k in m if k != "runs"}))
        cls, lens = np.asarray(runs[0::2]), np.asarray(runs[1::2])
        if lens.sum() != w * h:
            raise RuntimeError("image %d: run lengths sum to %d" % (i, lens.sum()))
        out[i] = np.repeat(cls, lens).reshape(h, w)
    return out


def normalise(images):
    x = images.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255.0)
    return np.ascontiguousarray((x - np.float32(MEAN)) / np.float32(STD))


def offline_masks(infer, model_dir, images, tmp, batch, timeout):
    outs = []
    path = os.path.join(tmp, "batch.npy")
    for s in range(0, len(images), batch):
        x = normalise(images[s:s + batch])
        np.save(path, x)
        r = subprocess.run([infer, "--model", model_dir, "--input", path, "--json",
                            "--device", "cpu"], capture_output=True, timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError("convd-infer: rc %d: %s" % (r.returncode, r.stderr[-500:]))
        head = json.loads(r.stdout)["outputs"]["head"]
        logits = np.asarray(head["data"], np.float32).reshape(head["shape"])
        outs.append(logits.argmax(1).astype(np.uint8))   # ties -> lowest index
    return np.concatenate(outs)


def torch_masks(model_dir, images):
    import torch
    from convd_safetensors import read_safetensors
    from zoo import shapes_wavemix_seg as entry
    model = entry.build_model()
    sd = {k: torch.from_numpy(np.asarray(v, np.float32))
          for k, v in read_safetensors(os.path.join(model_dir, "weights.safetensors"))[0].items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise RuntimeError("state dict mismatch: missing %s unexpected %s" % (missing[:5], unexpected[:5]))
    return entry.predict_masks(model, shapes.to_nchw(images)).numpy().astype(np.uint8)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0, help="train.py seed (default 0)")
    ap.add_argument("--convd", default=os.path.join(ROOT, "build", "convd"))
    ap.add_argument("--infer", default=os.path.join(ROOT, "build", "convd-infer"))
    ap.add_argument("--model-dir", default=os.path.join(ROOT, "models", MODEL))
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    ap.add_argument("--start-timeout", type=float, default=120.0)
    ap.add_argument("--batch", type=int, default=50, help="convd-infer batch")
    ap.add_argument("--torch", action="store_true", help="also the PyTorch module")
    a = ap.parse_args()
    if not 1 <= a.n <= N_TEST:
        ap.error("--n must be in 1..%d" % N_TEST)

    images, truth = held_out(a.n, a.seed)
    tmp = tempfile.mkdtemp(prefix="eval_seg_http.")
    proc = None
    try:
        models = os.path.join(tmp, "models")
        os.mkdir(models)
        os.symlink(os.path.abspath(a.model_dir), os.path.join(models, MODEL))
        t0 = time.time()
        proc, base = start_daemon(a.convd, models, tmp, a.start_timeout)
        if base is None:
            raise RuntimeError("convd not ready within %.0f s" % a.start_timeout)
        print("convd ready at %s (%.1f s)" % (base, time.time() - t0))
        t0 = time.time()
        hm = http_masks(base, images, a.timeout)
        print("HTTP: %d images in %.1f s" % (a.n, time.time() - t0))
        stop_daemon(proc)
        t0 = time.time()
        om = offline_masks(a.infer, a.model_dir, images, tmp, a.batch, 300)
        print("offline convd-infer: %d images in %.1f s" % (a.n, time.time() - t0))
    finally:
        stop_daemon(proc)
        shutil.rmtree(tmp, ignore_errors=True)

    labels = ["background"] + shapes.CLASSES
    h_miou, h_ious = miou(confusion(hm, truth))
    o_miou, o_ious = miou(confusion(om, truth))
    agree = float((hm == om).mean())
    print("held-out images: %d (shapes.make(%d, seed=%d), first %d)" % (a.n, N_TEST, 9000 + a.seed, a.n))
    print("mIoU HTTP    : %.4f" % h_miou)
    print("mIoU offline : %.4f  (convd-infer, .npy, argmax)" % o_miou)
    if a.torch:
        tm = torch_masks(a.model_dir, images)
        t_miou, _ = miou(confusion(tm, truth))
        print("mIoU PyTorch : %.4f  (pixel agreement with HTTP %.6f)" % (t_miou, float((hm == tm).mean())))
    print("pixel agreement HTTP vs offline: %.6f (%d of %d pixels differ, %d images differ)"
          % (agree, int((hm != om).sum()), hm.size, int((hm != om).any(axis=(1, 2)).sum())))
    print("per-class IoU HTTP/offline: " + ", ".join(
        "%s %.4f/%.4f" % (l, h, o) for l, h, o in zip(labels, h_ious, o_ious)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
