"""harness.py — helpers for the convd integration tests: start/stop a daemon
on an ephemeral loopback port, bounded HTTP calls, a minimal PNG encoder,
safetensors writer, model fixtures and a Prometheus text parser.
It never touches the repository's models/ folder (fixtures are copied)."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest
import zlib

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get("BUILD_DIR", os.path.join(ROOT, "build")))
CONVD = os.path.join(BUILD, "convd")
INFER = os.path.join(BUILD, "convd-infer")
DEVICE = os.environ.get("CONVD_DEVICE", "cpu")
TINY = os.path.join(ROOT, "models", "tiny-demo")
SAMPLE_PNG = os.path.join(TINY, "sample.png")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "images")
CACHE_DIR = os.path.join(BUILD, "integration-cache")
CLASSIFY_SH = os.path.join(ROOT, "clients", "classify.sh")

HTTP_TIMEOUT = 20.0


# ---------------------------------------------------------------- images

def free_port():
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def png_encode(img):
    """uint8 array HxWx3 (or HxW) -> PNG bytes (8-bit, filter 0)."""
    img = np.ascontiguousarray(img, dtype=np.uint8)
    if img.ndim == 2:
        h, w = img.shape
        ctype = 0
    else:
        h, w, c = img.shape
        ctype = {1: 0, 3: 2, 4: 6}[c]
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return (struct.pack(">I", len(data)) + tag + data +
                struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ctype, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def random_image(seed):
    """A seeded RGB image: gradient, a few rectangles and noise, 48..112 px."""
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(48, 113)), int(rng.integers(48, 113))
    yy, xx = np.mgrid[0:h, 0:w]
    base = rng.uniform(0, 255, 3)
    slope = rng.uniform(-2, 2, (2, 3))
    img = base + yy[..., None] * slope[0] + xx[..., None] * slope[1]
    for _ in range(int(rng.integers(1, 5))):
        y0, x0 = int(rng.integers(0, h - 8)), int(rng.integers(0, w - 8))
        y1, x1 = y0 + int(rng.integers(4, h - y0)), x0 + int(rng.integers(4, w - x0))
        img[y0:y1, x0:x1] = rng.uniform(0, 255, 3)
    img += rng.normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- models

def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, arr in tensors.items():
        data = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape),
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    hj = json.dumps(header).encode()
    hj += b" " * ((8 - len(hj) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)) + hj + b"".join(blobs))


def make_slow_model(dst, name="slow", size=320, ch=64, n_conv=4, seed=1):
    """A classification model heavy enough to keep the worker busy."""
    rng = np.random.default_rng(seed)
    os.makedirs(dst, exist_ok=True)
    tensors, graph, prev, cin = {}, [], "input", 3
    for i in range(n_conv):
        w = rng.normal(0, (2.0 / (cin * 9)) ** 0.5, (ch, cin, 3, 3))
        tensors["c%d.weight" % i] = w
        tensors["c%d.bias" % i] = rng.normal(0, 0.1, (ch,))
        graph.append({"name": "c%d" % i, "op": "conv", "inputs": [prev],
                      "weights": {"weight": "c%d.weight" % i, "bias": "c%d.bias" % i},
                      "attrs": {"stride": [1, 1], "padding": [1, 1, 1, 1]}})
        graph.append({"name": "r%d" % i, "op": "relu", "inputs": ["c%d" % i]})
        prev, cin = "r%d" % i, ch
    tensors["fc.weight"] = rng.normal(0, 0.3, (4, ch))
    tensors["fc.bias"] = rng.normal(0, 0.1, (4,))
    graph += [{"name": "pool", "op": "global_avgpool", "inputs": [prev]},
              {"name": "flat", "op": "flatten", "inputs": ["pool"]},
              {"name": "fc", "op": "linear", "inputs": ["flat"],
               "weights": {"weight": "fc.weight", "bias": "fc.bias"}}]
    meta = {"format": "convd-model", "version": 1, "name": name,
            "task": "classification", "weights": "weights.safetensors",
            "inputs": [{"name": "input", "shape": [3, size, size],
                        "preprocess": {"kind": "image", "size": [size, size],
                                       "resize": "stretch"}}],
            "outputs": ["fc"], "labels": ["a", "b", "c", "d"], "graph": graph}
    write_safetensors(os.path.join(dst, "weights.safetensors"), tensors)
    with open(os.path.join(dst, "model.json"), "w") as f:
        json.dump(meta, f)


def make_broken_model(dst):
    os.makedirs(dst, exist_ok=True)
    with open(os.path.join(dst, "model.json"), "w") as f:
        f.write('{"format": "convd-model", "version": 1, "name": "broken", ')


def models_dir(tmp, with_tiny=True, broken=False, slow=False):
    d = os.path.join(tmp, "models")
    os.makedirs(d, exist_ok=True)
    if with_tiny:
        shutil.copytree(TINY, os.path.join(d, "tiny-demo"))
    if broken:
        make_broken_model(os.path.join(d, "broken"))
    if slow:
        make_slow_model(os.path.join(d, "slow"))
    return d


# ---------------------------------------------------------------- reference

def softmax(x):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(x - x.max())
    return e / e.sum()


def cli_logits(model_dir, input_path):
    """convd-infer --json: the first output's data, flattened (float64)."""
    out = subprocess.run([INFER, "--model", model_dir, "--input", input_path,
                          "--json", "--device", DEVICE],
                         capture_output=True, timeout=120, check=True)
    j = json.loads(out.stdout)
    first = next(iter(j["outputs"].values()))
    return np.asarray(first["data"], dtype=np.float64)


def topk(scores, k):
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    return [(i, float(scores[i])) for i in order[:k]]


# ---------------------------------------------------------------- HTTP

def request(port, method, path, body=None, headers=None, timeout=HTTP_TIMEOUT):
    """One bounded request on a fresh connection -> (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def get_json(port, path, **kw):
    st, hd, data = request(port, "GET", path, **kw)
    return st, json.loads(data) if data else None


def classify(port, model, image, top=None, ctype="image/png", timeout=HTTP_TIMEOUT):
    path = "/v1/models/%s/classify" % model
    if top is not None:
        path += "?top=%d" % top
    return request(port, "POST", path, body=image,
                   headers={"Content-Type": ctype}, timeout=timeout)


def multipart(field, filename, ctype, data, boundary="convdTestBoundary7MA4YWxk"):
    body = (("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
             "Content-Type: %s\r\n\r\n" % (boundary, field, filename, ctype)).encode() +
            data + ("\r\n--%s--\r\n" % boundary).encode())
    return body, "multipart/form-data; boundary=%s" % boundary


def raw_exchange(port, payload, timeout=10.0, read_until_close=True):
    """Sends raw bytes, returns whatever arrives before close/timeout."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(payload)
        got = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            got += chunk
            if not read_until_close and b"\r\n\r\n" in got:
                head, _, rest = got.partition(b"\r\n\r\n")
                m = re.search(rb"(?i)content-length:\s*(\d+)", head)
                if m and len(rest) >= int(m.group(1)):
                    break
        return got
    finally:
        s.close()


# ---------------------------------------------------------------- metrics

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """-> list of (name, {label: value}, float). Raises ValueError on junk."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError("bad metrics line: %r" % line)
        labels = dict(_LABEL.findall(m.group(3) or ""))
        out.append((m.group(1), labels, float(m.group(4))))
    return out


# ---------------------------------------------------------------- server

class Server:
    """build/convd on 127.0.0.1, port 0, with its own temp config file."""

    def __init__(self, models, config=None, extra_args=()):
        self.tmp = tempfile.mkdtemp(prefix="convd-it-")
        self.models = models
        self.port_file = os.path.join(self.tmp, "port")
        self.log_path = os.path.join(self.tmp, "stderr.log")
        args = [CONVD, "--models", models, "--host", "127.0.0.1", "--port", "0",
                "--device", DEVICE, "--port-file", self.port_file,
                "--log-level", "info", "--set", "cache_dir=" + CACHE_DIR]
        if config is not None:
            cfg = os.path.join(self.tmp, "convd.json")
            with open(cfg, "w") as f:
                json.dump(config, f)
            args = [args[0], "--config", cfg] + args[1:]
        self.args = args + list(extra_args)
        self.proc = None
        self.port = None

    def start(self, wait_ready=True, timeout=None):
        if timeout is None:   # make asan raises it: instrumented cold starts
            timeout = float(os.environ.get("CONVD_IT_START_TIMEOUT", "60"))
        os.makedirs(CACHE_DIR, exist_ok=True)
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("convd exited %d at start:\n%s" %
                                   (self.proc.returncode, self.stderr()))
            try:
                with open(self.port_file) as f:
                    txt = f.read().strip()
                if txt.isdigit() and int(txt) > 0:
                    self.port = int(txt)
                    break
            except OSError:
                pass
            time.sleep(0.05)
        if self.port is None:
            self.kill()
            raise RuntimeError("convd wrote no port file:\n" + self.stderr())
        path = "/readyz" if wait_ready else "/healthz"
        while time.monotonic() < deadline:
            try:
                st, _, _ = request(self.port, "GET", path, timeout=2)
                if st == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("convd not ready on %s:\n%s" % (path, self.stderr()))

    def stderr(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-6000:]
        except OSError:
            return ""

    def signal(self, sig):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, timeout=20.0):
        """SIGTERM, wait; SIGKILL if it hangs. Returns the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        return self.proc.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()

    def cleanup(self):
        self.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


class DaemonCase(unittest.TestCase):
    """A test case whose tests start their own daemons: self.tmp (a scratch
    folder removed afterwards, named TMP_PREFIX...), self.servers (each one's
    cleanup() runs after the test) and self.sample (the sample PNG's bytes)."""

    TMP_PREFIX = "convd-it-"

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix=self.TMP_PREFIX)
        self.servers = []
        with open(SAMPLE_PNG, "rb") as f:
            self.sample = f.read()

    def tearDown(self):
        for s in self.servers:
            s.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)
