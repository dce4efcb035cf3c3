#!/usr/bin/python3
"""server.py — the Python baseline for bench/serve_compare.py: an image
classification server written the way a competent PyTorch user would write
it, speaking convd's /v1/models/{m}/classify contract so the same load
generators drive both.

  - aiohttp (Debian's python3-aiohttp) event loop; PNG/JPEG decode, resize
    and normalisation with Pillow + NumPy in a thread pool, following the
    model folder's model.json "preprocess" (stretch or shorter_center_crop,
    triangle-filter resize as convd does, (x/scale - mean)/std);
  - PyTorch inference in ONE worker thread under torch.inference_mode with
    torch.set_num_threads(2) (OPENBLAS_NUM_THREADS=1); requests that queue up
    while a batch runs are run together (up to --max-batch, no extra wait);
  - softmax top-k answer {"model", "predictions": [{"index", "label",
    "score"}], "timing_ms": {...}}; errors as {"error": {"code", "message"}}
    (400 undecodable image, 404 unknown model, 413 body too large, 415 wrong
    Content-Type); GET /readyz and /healthz.

  bench/pyserver/server.py --models DIR [--host H] [--port P] [--port-file F]
                           [--max-batch N] [--threads N]

Every folder under DIR whose model.json names a zoo entry, tiny-demo or a
torchvision arch is served with its own weights (bench/torch_models.py).
It is benchmarking tooling, not part of convd.
"""

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import asyncio  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import queue  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ThreadPoolExecutor  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from aiohttp import web  # noqa: E402
from PIL import Image  # noqa: E402

import torch_models  # noqa: E402

MAX_BODY = 16 << 20
MAX_PIXELS = 40_000_000


class BadRequest(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class ServedModel:
    def __init__(self, name, module, meta):
        self.name, self.module = name, module
        self.labels = meta.get("labels", [])
        inp = meta["inputs"][0]
        self.shape = tuple(inp["shape"])
        self.pre = inp.get("preprocess") or {}
        if self.pre.get("kind") != "image":
            raise ValueError("%s: not an image model" % name)
        c = self.shape[0]
        self.mode = "RGB" if c == 3 else "L"
        self.mean = np.array(self.pre.get("mean", [0.0] * c), np.float32).reshape(c, 1, 1)
        self.std = np.array(self.pre.get("std", [1.0] * c), np.float32).reshape(c, 1, 1)
        self.scale = float(self.pre.get("scale", 255.0))

    def preprocess(self, body):
        """Encoded image bytes -> (C, H, W) float32, as model.json says."""
        try:
            img = Image.open(io.BytesIO(body))
            if img.width * img.height > MAX_PIXELS:
                raise BadRequest(413, "image has %d pixels, limit %d"
                                 % (img.width * img.height, MAX_PIXELS))
            img = img.convert(self.mode)
        except BadRequest:
            raise
        except Exception as e:  # PIL raises many kinds on corrupt data
            raise BadRequest(400, "cannot decode image: %s" % e)
        h, w = self.shape[1], self.shape[2]
        if self.pre.get("resize") == "shorter_center_crop":
            s = int(self.pre.get("resize_to", min(h, w)))
            if img.width <= img.height:
                nw, nh = s, max(1, round(img.height * s / img.width))
            else:
                nw, nh = max(1, round(img.width * s / img.height)), s
            img = img.resize((nw, nh), Image.BILINEAR)
            left, top = (nw - w) // 2, (nh - h) // 2
            img = img.crop((left, top, left + w, top + h))
        else:
            img = img.resize((w, h), Image.BILINEAR)
        a = np.asarray(img, dtype=np.float32)
        a = a[None] if a.ndim == 2 else a.transpose(2, 0, 1)
        return np.ascontiguousarray((a / self.scale - self.mean) / self.std)

    def answer(self, logits, top):
        z = logits.astype(np.float64)
        p = np.exp(z - z.max())
        p /= p.sum()
        idx = np.argsort(-p, kind="stable")[:top]
        return [{"index": int(i), "label": self.labels[i] if i < len(self.labels) else None,
                 "score": float(p[i])} for i in idx]


class Worker(threading.Thread):
    """The one inference thread: takes what is queued (up to max_batch) and
    runs it as one batch."""

    def __init__(self, max_batch):
        super().__init__(daemon=True)
        self.q = queue.Queue()
        self.max_batch = max_batch

    def submit(self, loop, model, x):
        fut = loop.create_future()
        self.q.put((loop, fut, model, x))
        return fut

    def run(self):
        torch.set_num_threads(self.threads)
        while True:
            first = self.q.get()
            jobs = [first]
            while len(jobs) < self.max_batch:
                try:
                    nxt = self.q.get_nowait()
                except queue.Empty:
                    break
                if nxt[2] is not first[2]:
                    self.q.put(nxt)  # another model: next round
                    break
                jobs.append(nxt)
            t0 = time.perf_counter()
            try:
                x = torch.from_numpy(np.stack([j[3] for j in jobs]))
                with torch.inference_mode():
                    y = first[2].module(x)
                y = (y[0] if isinstance(y, (tuple, list)) else y).numpy()
                dt = time.perf_counter() - t0
                for k, (loop, fut, _, _) in enumerate(jobs):
                    loop.call_soon_threadsafe(_resolve, fut, (y[k].ravel(), dt, len(jobs)))
            except Exception as e:  # report to every waiting request
                for loop, fut, _, _ in jobs:
                    loop.call_soon_threadsafe(_fail, fut, e)


def _resolve(fut, v):
    if not fut.done():
        fut.set_result(v)


def _fail(fut, e):
    if not fut.done():
        fut.set_exception(e)


def error(code, message):
    return web.json_response({"error": {"code": code, "message": message}}, status=code)


def make_app(models, worker, pool):
    routes = web.RouteTableDef()

    @routes.get("/readyz")
    async def readyz(_):
        return web.json_response({"ready": True, "models": sorted(models)})

    @routes.get("/healthz")
    async def healthz(_):
        return web.json_response({"alive": True})

    @routes.post("/v1/models/{m}/classify")
    async def classify(req):
        t0 = time.perf_counter()
        m = models.get(req.match_info["m"])
        if m is None:
            return error(404, "no model %r" % req.match_info["m"])
        ctype = req.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype not in ("image/png", "image/jpeg"):
            return error(415, "Content-Type must be image/png or image/jpeg")
        if req.content_length is not None and req.content_length > MAX_BODY:
            return error(413, "body over %d bytes" % MAX_BODY)
        try:
            top = int(req.query.get("top", "5"))
            if not 1 <= top <= 100:
                raise ValueError
        except ValueError:
            return error(400, "top must be an integer in 1..100")
        body = await req.read()
        loop = asyncio.get_running_loop()
        try:
            x = await loop.run_in_executor(pool, m.preprocess, body)
        except BadRequest as e:
            return error(e.code, str(e))
        t1 = time.perf_counter()
        try:
            logits, infer_s, n = await worker.submit(loop, m, x)
        except Exception as e:
            return error(500, "inference failed: %s" % e)
        return web.json_response({
            "model": m.name, "predictions": m.answer(logits, top),
            "timing_ms": {"preprocess": (t1 - t0) * 1e3, "inference": infer_s * 1e3,
                          "batch": n, "total": (time.perf_counter() - t0) * 1e3}})

    app = web.Application(client_max_size=MAX_BODY)
    app.add_routes(routes)
    return app


def load_models(root):
    models = {}
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if not os.path.isfile(os.path.join(d, "model.json")):
            continue
        module, meta = torch_models.folder_module(d)
        models[meta.get("name", name)] = ServedModel(meta.get("name", name), module, meta)
    if not models:
        raise ValueError("no model folders under %s" % root)
    return models


def main(argv=None):
    ap = argparse.ArgumentParser(description="PyTorch + aiohttp baseline server")
    ap.add_argument("--models", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8081)
    ap.add_argument("--port-file", default=None)
    ap.add_argument("--max-batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    ap.add_argument("--preprocess-threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        models = load_models(args.models)
    except (ValueError, OSError, KeyError) as e:
        print("server.py: %s" % e, file=sys.stderr)
        return 1
    # warm-up: one batch-1 and one max-batch run per model (oneDNN primitives)
    with torch.inference_mode():
        for m in models.values():
            for b in (1, args.max_batch):
                m.module(torch.zeros((b,) + m.shape))
    worker = Worker(args.max_batch)
    worker.threads = args.threads
    worker.start()
    pool = ThreadPoolExecutor(max_workers=args.preprocess_threads)

    async def serve():
        runner = web.AppRunner(make_app(models, worker, pool), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, args.host, args.port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        if args.port_file:
            tmp = args.port_file + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % port)
            os.replace(tmp, args.port_file)
        print("pyserver: serving %s on %s:%d" % (", ".join(sorted(models)), args.host, port),
              file=sys.stderr, flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        import signal
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(s, stop.set)
        await stop.wait()
        await runner.cleanup()

    asyncio.run(serve())
    pool.shutdown(wait=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
