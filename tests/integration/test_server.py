"""test_server.py — integration tests of build/convd over HTTP: every
endpoint, every error status, batching under concurrency, metrics, SIGHUP
reload, SIGTERM drain, and clients/classify.sh. Each test is bounded in time
and every daemon it starts is killed in its cleanup. Run through run.sh."""
import concurrent.futures as cf
import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import numpy as np

import harness as H

TOL = 1e-4
INPUT_SHAPE = (3, 64, 64)   # models/tiny-demo/model.json


def err_body(tc, status, hdrs, data, want):
    """Checks the JSON error envelope and returns its message."""
    tc.assertEqual(status, want, data[:300])
    tc.assertTrue(hdrs.get("content-type", "").startswith("application/json"), hdrs)
    j = json.loads(data)
    tc.assertEqual(j["error"]["code"], want)
    tc.assertIsInstance(j["error"]["message"], str)
    tc.assertTrue(j["error"]["message"])
    return j["error"]["message"]


def v2_output(tc, data, name="fc"):
    j = json.loads(data)
    outs = {o["name"]: o for o in j["outputs"]}
    tc.assertIn(name, outs)
    o = outs[name]
    tc.assertEqual(o["datatype"], "FP32")
    arr = np.asarray(o["data"], dtype=np.float64).ravel()
    tc.assertEqual(int(np.prod(o["shape"])), arr.size)
    return j, arr


def bytes_input(png_list):
    """BYTES tensor payload: 4-byte little-endian length before each element."""
    return b"".join(struct.pack("<I", len(p)) + p for p in png_list)


def binary_infer_body(inputs, outputs=None, rid=None):
    """inputs: list of (name, datatype, shape, raw bytes) -> (body, headers)."""
    hdr = {"inputs": [{"name": n, "datatype": dt, "shape": list(sh),
                       "parameters": {"binary_data_size": len(raw)}}
                      for n, dt, sh, raw in inputs]}
    if outputs is not None:
        hdr["outputs"] = outputs
    if rid is not None:
        hdr["id"] = rid
    hj = json.dumps(hdr).encode()
    body = hj + b"".join(raw for _, _, _, raw in inputs)
    return body, {"Content-Type": "application/octet-stream",
                  "Inference-Header-Content-Length": str(len(hj))}


def queue_depth(port, model):
    _, _, data = H.request(port, "GET", "/metrics")
    for name, lab, v in H.parse_metrics(data.decode()):
        if name == "convd_queue_depth" and lab.get("model") == model:
            return v
    return -1


class ServedTests(unittest.TestCase):
    """One daemon serving a copy of models/tiny-demo."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="convd-it-")
        cls.models = H.models_dir(cls.tmp)
        cls.tiny = os.path.join(cls.models, "tiny-demo")
        cls.srv = H.Server(cls.models, config={
            "max_queue": 256, "timeout_ms": 30000,
            "models": {"tiny-demo": {"max_batch": 8, "max_delay_us": 20000}}})
        try:
            cls.srv.start()
        except Exception:
            cls.srv.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise
        cls.port = cls.srv.port
        with open(H.SAMPLE_PNG, "rb") as f:
            cls.sample = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tearDown(self):
        # a test must never take the daemon down
        self.assertIsNone(self.srv.proc.poll(), "convd died:\n" + self.srv.stderr())

    # ------------------------------------------------------------ health

    def test_health_endpoints(self):
        for path in ("/healthz", "/readyz", "/v2/health/live", "/v2/health/ready",
                     "/v2/models/tiny-demo/ready"):
            st, _, _ = H.request(self.port, "GET", path)
            self.assertEqual(st, 200, path)

    def test_v2_server_metadata(self):
        st, j = H.get_json(self.port, "/v2")
        self.assertEqual(st, 200)
        self.assertIsInstance(j["name"], str)
        self.assertIn("version", j)
        self.assertIsInstance(j["extensions"], list)
        self.assertIn("binary_tensor_data", j["extensions"])

    def test_v2_model_metadata(self):
        st, j = H.get_json(self.port, "/v2/models/tiny-demo")
        self.assertEqual(st, 200)
        self.assertEqual(j["name"], "tiny-demo")
        self.assertEqual(len(j["inputs"]), 1)
        inp = j["inputs"][0]
        self.assertEqual(inp["name"], "input")
        self.assertEqual(inp["datatype"], "FP32")
        self.assertEqual([d for d in inp["shape"] if d != -1][-3:], list(INPUT_SHAPE))
        self.assertEqual([o["name"] for o in j["outputs"]], ["fc"])

    def test_v1_models(self):
        st, j = H.get_json(self.port, "/v1/models")
        self.assertEqual(st, 200)
        models = j["models"] if isinstance(j, dict) else j
        m = {e["name"]: e for e in models}["tiny-demo"]
        self.assertEqual(m["state"], "ready")
        self.assertEqual(m["task"], "classification")
        blob = json.dumps(m)
        self.assertIn("64", blob)          # input spec
        self.assertIn("10", blob)          # labels count
        self.assertIn("max_batch", blob)   # batching settings
        self.assertIn("max_delay_us", blob)

    # ------------------------------------------------------------ classify

    def check_classify(self, img_path, body, ctype, k):
        st, hd, data = H.classify(self.port, "tiny-demo", body, top=k, ctype=ctype)
        self.assertEqual(st, 200, data[:300])
        j = json.loads(data)
        self.assertEqual(j["model"], "tiny-demo")
        want = H.topk(H.softmax(H.cli_logits(self.tiny, img_path)), k)
        got = [(p["index"], p["score"]) for p in j["predictions"]]
        self.assertEqual([i for i, _ in got], [i for i, _ in want])
        for (_, gs), (_, ws) in zip(got, want):
            self.assertAlmostEqual(gs, ws, delta=TOL)
        with open(os.path.join(self.tiny, "model.json")) as f:
            labels = json.load(f)["labels"]
        self.assertEqual([p["label"] for p in j["predictions"]],
                         [labels[i] for i, _ in want])
        t = j["timing_ms"]
        for key in ("queue", "inference", "total"):
            self.assertGreaterEqual(t[key], 0.0, key)
        self.assertGreaterEqual(t["total"] + 1e-6, t["inference"])
        return j

    def test_classify_png_matches_cli(self):
        for k in (1, 3, 10):
            self.check_classify(H.SAMPLE_PNG, self.sample, "image/png", k)

    def test_classify_jpeg_matches_cli(self):
        path = os.path.join(H.FIXTURES, "base.jpg")
        with open(path, "rb") as f:
            self.check_classify(path, f.read(), "image/jpeg", 5)

    def test_classify_multipart(self):
        body, ctype = H.multipart("file", "sample.png", "image/png", self.sample)
        self.check_classify(H.SAMPLE_PNG, body, ctype, 3)

    def test_classify_default_top(self):
        st, _, data = H.classify(self.port, "tiny-demo", self.sample)
        self.assertEqual(st, 200)
        preds = json.loads(data)["predictions"]
        self.assertTrue(1 <= len(preds) <= 10)
        scores = [p["score"] for p in preds]
        self.assertEqual(scores, sorted(scores, reverse=True))

    # ------------------------------------------------------------ v2 infer

    def infer(self, body, headers=None):
        h = {"Content-Type": "application/json"} if headers is None else headers
        return H.request(self.port, "POST", "/v2/models/tiny-demo/infer",
                         body=body, headers=h)

    def tensor_and_reference(self, seed=7, ints=False):
        rng = np.random.default_rng(seed)
        if ints:
            x = rng.integers(0, 256, (1,) + INPUT_SHAPE).astype(np.float32)
        else:
            x = rng.normal(0, 1, (1,) + INPUT_SHAPE).astype(np.float32)
        npy = os.path.join(self.tmp, "x%d_%d.npy" % (seed, ints))
        np.save(npy, x)
        return x, H.cli_logits(self.tiny, npy)

    def test_v2_infer_json_fp32_matches_cli(self):
        x, want = self.tensor_and_reference()
        body = json.dumps({"id": "req-42", "inputs": [{
            "name": "input", "shape": list(x.shape), "datatype": "FP32",
            "data": x.ravel().tolist()}]})
        st, _, data = self.infer(body)
        self.assertEqual(st, 200, data[:300])
        j, got = v2_output(self, data)
        self.assertEqual(j["id"], "req-42")
        self.assertEqual(j["model_name"], "tiny-demo")
        np.testing.assert_allclose(got, want, atol=TOL)

    def test_v2_infer_json_integer_types(self):
        x, want = self.tensor_and_reference(seed=3, ints=True)
        for dt, np_t in (("UINT8", np.uint8), ("INT32", np.int32), ("INT64", np.int64)):
            body = json.dumps({"inputs": [{
                "name": "input", "shape": list(x.shape), "datatype": dt,
                "data": x.astype(np_t).ravel().tolist()}]})
            st, _, data = self.infer(body)
            self.assertEqual(st, 200, (dt, data[:300]))
            _, got = v2_output(self, data)
            np.testing.assert_allclose(got, want, atol=TOL, err_msg=dt)

    def test_v2_infer_binary_fp32(self):
        x, want = self.tensor_and_reference(seed=11)
        body, hdrs = binary_infer_body(
            [("input", "FP32", x.shape, x.astype("<f4").tobytes())], rid="bin-1")
        st, rh, data = self.infer(body, hdrs)
        self.assertEqual(st, 200, data[:300])
        j, got = v2_output(self, data)
        self.assertEqual(j["id"], "bin-1")
        np.testing.assert_allclose(got, want, atol=TOL)

    def test_v2_infer_binary_output(self):
        x, want = self.tensor_and_reference(seed=12)
        body, hdrs = binary_infer_body(
            [("input", "FP32", x.shape, x.astype("<f4").tobytes())],
            outputs=[{"name": "fc", "parameters": {"binary_data": True}}])
        st, rh, data = self.infer(body, hdrs)
        self.assertEqual(st, 200, data[:300])
        n = int(rh["inference-header-content-length"])
        j = json.loads(data[:n])
        o = j["outputs"][0]
        self.assertEqual(o["name"], "fc")
        size = o["parameters"]["binary_data_size"]
        self.assertEqual(len(data) - n, size)
        got = np.frombuffer(data[n:n + size], dtype="<f4")
        np.testing.assert_allclose(got, want, atol=TOL)

    def test_v2_infer_bytes_png_equals_classify(self):
        imgs = [H.png_encode(H.random_image(s)) for s in (101, 102)]
        for png in [self.sample] + imgs:
            body, hdrs = binary_infer_body(
                [("input", "BYTES", [1], bytes_input([png]))], rid="img")
            st, _, data = self.infer(body, hdrs)
            self.assertEqual(st, 200, data[:300])
            j, logits = v2_output(self, data)
            self.assertEqual(j["id"], "img")
            st, _, cdata = H.classify(self.port, "tiny-demo", png, top=10)
            self.assertEqual(st, 200)
            want = {p["index"]: p["score"] for p in json.loads(cdata)["predictions"]}
            got = H.softmax(logits)
            for i, s in want.items():
                self.assertAlmostEqual(got[i], s, delta=TOL)

    def test_v2_infer_batch_in_one_request(self):
        pngs = [H.png_encode(H.random_image(s)) for s in (201, 202, 203)]
        singles = []
        for png in pngs:
            body, hdrs = binary_infer_body([("input", "BYTES", [1], bytes_input([png]))])
            st, _, data = self.infer(body, hdrs)
            self.assertEqual(st, 200, data[:300])
            singles.append(v2_output(self, data)[1])
        body, hdrs = binary_infer_body([("input", "BYTES", [3, 1], bytes_input(pngs))])
        st, _, data = self.infer(body, hdrs)
        self.assertEqual(st, 200, data[:300])
        j, got = v2_output(self, data)
        self.assertEqual(j["outputs"][0]["shape"], [3, 10])
        np.testing.assert_allclose(got.reshape(3, 10), np.stack(singles), atol=1e-5)

    # ------------------------------------------------------------ errors

    def test_400_malformed_json(self):
        for body in (b"{not json", b"[]", b'{"inputs": 5}', b'{"inputs": []}', b""):
            st, hd, data = self.infer(body)
            err_body(self, st, hd, data, 400)

    def test_400_wrong_shape(self):
        for shape, n in (([1, 3, 32, 32], 3 * 32 * 32), ([1, 3, 64, 64], 10)):
            body = json.dumps({"inputs": [{"name": "input", "shape": shape,
                                           "datatype": "FP32", "data": [0.5] * n}]})
            st, hd, data = self.infer(body)
            err_body(self, st, hd, data, 400)

    def test_400_wrong_datatype(self):
        n = int(np.prod(INPUT_SHAPE))
        for dt, val in (("COMPLEX", 0.5), ("FP32", "abc"), ("BYTES", 1.0)):
            body = json.dumps({"inputs": [{"name": "input", "shape": [1] + list(INPUT_SHAPE),
                                           "datatype": dt, "data": [val] * n}]})
            st, hd, data = self.infer(body)
            err_body(self, st, hd, data, 400)

    def test_400_bad_binary(self):
        hj = json.dumps({"inputs": [{"name": "input", "shape": [1] + list(INPUT_SHAPE),
                                     "datatype": "FP32",
                                     "parameters": {"binary_data_size": 999999}}]}).encode()
        st, hd, data = self.infer(hj + b"\0" * 16, {
            "Content-Type": "application/octet-stream",
            "Inference-Header-Content-Length": str(len(hj))})
        err_body(self, st, hd, data, 400)
        st, hd, data = self.infer(b"{}", {"Content-Type": "application/octet-stream",
                                          "Inference-Header-Content-Length": "500"})
        err_body(self, st, hd, data, 400)

    def test_400_undecodable_image(self):
        for name, ctype in (("bogus.png", "image/png"), ("trunc.jpg", "image/jpeg"),
                            ("zero.bin", "image/png")):
            with open(os.path.join(H.FIXTURES, name), "rb") as f:
                st, hd, data = H.classify(self.port, "tiny-demo", f.read(), ctype=ctype)
            err_body(self, st, hd, data, 400)
        body, hdrs = binary_infer_body(
            [("input", "BYTES", [1], bytes_input([b"definitely not a png"]))])
        st, hd, data = self.infer(body, hdrs)
        err_body(self, st, hd, data, 400)

    def test_400_bad_top(self):
        for q in ("abc", "-1"):
            st, hd, data = H.request(self.port, "POST",
                                     "/v1/models/tiny-demo/classify?top=" + q,
                                     body=self.sample, headers={"Content-Type": "image/png"})
            err_body(self, st, hd, data, 400)

    def test_400_multipart_without_image(self):
        b = "convdTestBoundary7MA4YWxk"
        body = ("--%s\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\n"
                "hello\r\n--%s--\r\n" % (b, b)).encode()
        for ctype in ("multipart/form-data; boundary=" + b, "multipart/form-data"):
            st, hd, data = H.classify(self.port, "tiny-demo", body, ctype=ctype)
            err_body(self, st, hd, data, 400)
        # truncated: no closing boundary
        body, ctype = H.multipart("file", "x.png", "image/png", self.sample)
        st, hd, data = H.classify(self.port, "tiny-demo", body[:-40], ctype=ctype)
        err_body(self, st, hd, data, 400)

    def test_404(self):
        cases = [("POST", "/v1/models/nope/classify", self.sample, "image/png"),
                 ("POST", "/v2/models/nope/infer", b"{}", "application/json"),
                 ("GET", "/v2/models/nope", None, None),
                 ("GET", "/v2/models/nope/ready", None, None),
                 ("GET", "/nope", None, None),
                 ("GET", "/v2/models/tiny-demo/nope", None, None),
                 ("GET", "/v1/models/tiny-demo/classify/extra", None, None)]
        for method, path, body, ctype in cases:
            st, hd, data = H.request(self.port, method, path, body=body,
                                     headers={"Content-Type": ctype} if ctype else {})
            msg = err_body(self, st, hd, data, 404)
            if "nope" in path and "models" in path:
                self.assertIn("nope", msg)

    def test_405(self):
        for method, path, allow in (("GET", "/v1/models/tiny-demo/classify", "POST"),
                                    ("GET", "/v2/models/tiny-demo/infer", "POST"),
                                    ("POST", "/healthz", "GET"),
                                    ("DELETE", "/v1/models", "GET")):
            st, hd, data = H.request(self.port, method, path,
                                     body=b"" if method == "POST" else None)
            err_body(self, st, hd, data, 405)
            self.assertIn(allow, hd.get("allow", ""), (method, path))

    def test_415(self):
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "image/gif"):
            st, hd, data = H.classify(self.port, "tiny-demo", b"hello", ctype=ctype)
            err_body(self, st, hd, data, 415)

    def test_bad_requests_do_not_disturb_good_ones(self):
        def bad(i):
            return H.classify(self.port, "tiny-demo", b"\x89PNG garbage %d" % i)[0]

        def good(i):
            return H.classify(self.port, "tiny-demo", self.sample, top=3)
        with cf.ThreadPoolExecutor(16) as ex:
            bads = [ex.submit(bad, i) for i in range(16)]
            goods = [ex.submit(good, i) for i in range(16)]
            ref = None
            for f in goods:
                st, _, data = f.result(timeout=60)
                self.assertEqual(st, 200)
                preds = json.loads(data)["predictions"]
                ref = ref or preds
                self.assertEqual([p["index"] for p in preds], [p["index"] for p in ref])
            self.assertEqual({f.result(timeout=60) for f in bads}, {400})

    def test_request_log_line(self):
        st, _, _ = H.classify(self.port, "tiny-demo", self.sample, top=2)
        self.assertEqual(st, 200)
        deadline = time.monotonic() + 5
        want = ("method=POST", "path=/v1/models/tiny-demo/classify", "model=tiny-demo",
                "status=200", "bytes_in=%d" % len(self.sample))
        while True:
            lines = [ln for ln in self.srv.stderr().splitlines()
                     if "event=request" in ln and all(w in ln.split() for w in want)]
            if lines or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertTrue(lines, self.srv.stderr()[-2000:])
        keys = {kv.split("=", 1)[0] for kv in lines[-1].split() if "=" in kv}
        for k in ("bytes_out", "duration_ms", "batch"):
            self.assertIn(k, keys)

    # ------------------------------------------------------------ metrics

    def test_metrics(self):
        H.classify(self.port, "tiny-demo", self.sample)
        st, hd, data = H.request(self.port, "GET", "/metrics")
        self.assertEqual(st, 200)
        self.assertTrue(hd["content-type"].startswith("text/plain"), hd)
        text = data.decode()
        samples = H.parse_metrics(text)
        req = [v for n, lab, v in samples
               if n.endswith("_total") and "request" in n
               and "tiny-demo" in lab.values() and "200" in lab.values()]
        self.assertTrue(req and sum(req) >= 1, "no request counter for tiny-demo/200")
        names = {n for n, _, _ in samples}
        for want in ("convd_batch_size_bucket", "process_start_time_seconds"):
            self.assertTrue(any(n.endswith(want) for n in names), want)
        self.assertTrue(any("queue" in n and "bucket" in n for n in names))
        self.assertTrue(any("inference" in n and "bucket" in n for n in names))

    def test_metrics_promtool(self):
        promtool = shutil.which("promtool")
        if not promtool:
            self.skipTest("promtool not installed (Debian package prometheus)")
        H.classify(self.port, "tiny-demo", self.sample)
        st, _, data = H.request(self.port, "GET", "/metrics")
        self.assertEqual(st, 200)
        p = subprocess.run([promtool, "check", "metrics"], input=data,
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())

    # ------------------------------------------------------------ concurrency

    def test_concurrent_distinct_images_equal_single(self):
        n = 64
        pngs = [H.png_encode(H.random_image(1000 + i)) for i in range(n)]
        single = []
        for png in pngs:
            st, _, data = H.classify(self.port, "tiny-demo", png, top=10)
            self.assertEqual(st, 200, data[:200])
            single.append(json.loads(data)["predictions"])
        barrier = threading.Barrier(n, timeout=30)

        def one(i):
            barrier.wait()
            return H.classify(self.port, "tiny-demo", pngs[i], top=10, timeout=60)
        with cf.ThreadPoolExecutor(n) as ex:
            results = list(ex.map(one, range(n), timeout=120))
        for i, (st, _, data) in enumerate(results):
            self.assertEqual(st, 200, (i, data[:200]))
            got = json.loads(data)["predictions"]
            self.assertEqual([p["index"] for p in got], [p["index"] for p in single[i]], i)
            for g, s in zip(got, single[i]):
                self.assertAlmostEqual(g["score"], s["score"], delta=1e-5)
        _, _, data = H.request(self.port, "GET", "/metrics")
        buckets, count = {}, 0.0
        for name, lab, v in H.parse_metrics(data.decode()):
            if lab.get("model", "tiny-demo") != "tiny-demo":
                continue
            if name == "convd_batch_size_bucket":
                buckets[float(lab["le"])] = v
            elif name == "convd_batch_size_count":
                count = v
        self.assertIn(1.0, buckets)
        self.assertGreater(count - buckets[1.0], 0, "no batch larger than 1")

    # ------------------------------------------------------------ client

    def run_client(self, *args):
        return subprocess.run(["sh", H.CLASSIFY_SH, "-H", "127.0.0.1:%d" % self.port]
                              + list(args), capture_output=True, timeout=60)

    def test_classify_sh(self):
        p = self.run_client("-k", "2", "tiny-demo", H.SAMPLE_PNG)
        self.assertEqual(p.returncode, 0, p.stderr)
        j = json.loads(p.stdout)
        self.assertEqual(len(j["predictions"]), 2)
        p = self.run_client("tiny-demo", os.path.join(H.FIXTURES, "base.jpg"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["model"], "tiny-demo")

    def test_classify_sh_errors(self):
        p = self.run_client("nope", H.SAMPLE_PNG)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"nope", p.stderr)
        self.assertIn(b"404", p.stderr)
        p = self.run_client("tiny-demo", os.path.join(H.FIXTURES, "bogus.png"))
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"400", p.stderr)
        p = self.run_client("tiny-demo", os.path.join(self.tmp, "missing.png"))
        self.assertNotEqual(p.returncode, 0)
        p = self.run_client("tiny-demo", os.path.join(H.FIXTURES, "notimage.txt"))
        self.assertNotEqual(p.returncode, 0)
        p = subprocess.run(["sh", H.CLASSIFY_SH], capture_output=True, timeout=10)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"usage", p.stderr.lower())


class LimitTests(H.DaemonCase):
    """Each test starts its own daemon with the settings it needs."""

    def start(self, models, config=None, wait_ready=True):
        s = H.Server(models, config=config)
        self.servers.append(s)
        return s.start(wait_ready=wait_ready)

    def test_413_refused_on_content_length(self):
        s = self.start(H.models_dir(self.tmp), {"max_body_bytes": 4096})
        for path in ("/v1/models/tiny-demo/classify", "/v2/models/tiny-demo/infer"):
            t0 = time.monotonic()
            got = H.raw_exchange(s.port, (
                "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/png\r\n"
                "Content-Length: 1000000\r\n\r\n" % path).encode(), timeout=5,
                read_until_close=False)
            self.assertTrue(got.startswith(b"HTTP/1.1 413"), got[:200])
            self.assertLess(time.monotonic() - t0, 4.0)
            body = got.partition(b"\r\n\r\n")[2]
            self.assertEqual(json.loads(body)["error"]["code"], 413)
        # a body under the limit is still served
        small = H.png_encode(np.full((40, 40, 3), 120, np.uint8))
        self.assertLess(len(small), 4096)
        st, _, _ = H.classify(s.port, "tiny-demo", small)
        self.assertEqual(st, 200)

    def test_413_chunked_over_limit(self):
        s = self.start(H.models_dir(self.tmp), {"max_body_bytes": 4096})
        blob = b"x" * 3000
        payload = (b"POST /v1/models/tiny-demo/classify HTTP/1.1\r\nHost: a\r\n"
                   b"Content-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n" +
                   b"".join(b"%x\r\n%s\r\n" % (len(blob), blob) for _ in range(4)) +
                   b"0\r\n\r\n")
        got = H.raw_exchange(s.port, payload, timeout=5, read_until_close=False)
        self.assertTrue(got.startswith(b"HTTP/1.1 413"), got[:200])

    def test_503_queue_full_with_retry_after(self):
        models = H.models_dir(self.tmp, with_tiny=False, slow=True)
        s = self.start(models, {"max_batch": 1, "max_queue": 1, "max_delay_us": 0,
                                "timeout_ms": 60000})
        png = H.png_encode(H.random_image(9))
        barrier = threading.Barrier(8, timeout=30)

        def one(_):
            barrier.wait()
            t0 = time.monotonic()
            r = H.classify(s.port, "slow", png, timeout=60)
            return r + (time.monotonic() - t0,)
        with cf.ThreadPoolExecutor(8) as ex:
            res = list(ex.map(one, range(8), timeout=120))
        codes = sorted(r[0] for r in res)
        self.assertIn(200, codes)
        self.assertIn(503, codes)
        self.assertEqual(set(codes), {200, 503})
        for st, hd, data, _ in res:
            if st == 503:
                err_body(self, st, hd, data, 503)
                self.assertTrue(hd.get("retry-after", "").isdigit(), hd)
        # the model still answers afterwards
        st, _, _ = H.classify(s.port, "slow", png, timeout=60)
        self.assertEqual(st, 200)

    def test_504_deadline_in_queue(self):
        s = self.start(H.models_dir(self.tmp), {"timeout_ms": 1, "max_batch": 8,
                                                "max_delay_us": 300000})
        st, hd, data = H.classify(s.port, "tiny-demo", self.sample)
        err_body(self, st, hd, data, 504)
        x = np.zeros((1,) + INPUT_SHAPE, np.float32)
        st, hd, data = H.request(s.port, "POST", "/v2/models/tiny-demo/infer",
                                 body=json.dumps({"inputs": [{
                                     "name": "input", "shape": list(x.shape),
                                     "datatype": "FP32", "data": x.ravel().tolist()}]}),
                                 headers={"Content-Type": "application/json"})
        err_body(self, st, hd, data, 504)

    def test_broken_model_reported_others_served(self):
        s = self.start(H.models_dir(self.tmp, broken=True), wait_ready=False)
        st, _, _ = H.request(s.port, "GET", "/readyz")
        self.assertEqual(st, 503)
        st, j = H.get_json(s.port, "/v1/models")
        models = {e["name"]: e for e in (j["models"] if isinstance(j, dict) else j)}
        self.assertEqual(models["tiny-demo"]["state"], "ready")
        self.assertEqual(models["broken"]["state"], "failed")
        self.assertTrue(any(isinstance(v, str) and len(v) > 3
                            for k, v in models["broken"].items() if k != "name"))
        st, _, _ = H.request(s.port, "GET", "/v2/models/broken/ready")
        self.assertNotEqual(st, 200)
        st, _, _ = H.request(s.port, "GET", "/v2/models/tiny-demo/ready")
        self.assertEqual(st, 200)
        st, hd, data = H.classify(s.port, "broken", self.sample)
        self.assertIn(st, (404, 503))
        err_body(self, st, hd, data, st)
        st, _, _ = H.classify(s.port, "tiny-demo", self.sample)
        self.assertEqual(st, 200)

    def test_bad_config_refused(self):
        models = H.models_dir(self.tmp)
        for args in (["--port", "70000"], ["--port", "0", "--set", "max_batch=0"],
                     ["--port", "0", "--set", "no_such_key=1"],
                     ["--port", "0", "--log-level", "loud"]):
            p = subprocess.run([H.CONVD, "--host", "127.0.0.1", "--models",
                                models] + args,
                               capture_output=True, timeout=15)
            self.assertNotEqual(p.returncode, 0, args)
            key = args[-1].split("=")[0] if args[-2] == "--set" else args[-2][2:]
            self.assertIn(key.encode(), p.stderr, args)

    def test_sigterm_answers_in_flight(self):
        s = self.start(H.models_dir(self.tmp), {"max_batch": 8, "max_delay_us": 3000000,
                                                "timeout_ms": 30000})
        n = 5
        with cf.ThreadPoolExecutor(n) as ex:
            futs = [ex.submit(H.classify, s.port, "tiny-demo", self.sample, 3, "image/png", 30)
                    for _ in range(n)]
            # wait until all are accepted and waiting in the batch queue
            deadline = time.monotonic() + 2.5
            while time.monotonic() < deadline and queue_depth(s.port, "tiny-demo") < n:
                time.sleep(0.02)
            self.assertEqual(queue_depth(s.port, "tiny-demo"), n)
            for f in futs:
                self.assertFalse(f.done(), "answered before SIGTERM; max_delay_us ignored?")
            s.signal(signal.SIGTERM)
            codes = [f.result(timeout=30)[0] for f in futs]
        self.assertEqual(codes, [200] * n)
        s.proc.wait(20)
        self.assertEqual(s.proc.returncode, 0, s.stderr())
        with self.assertRaises(OSError):
            H.request(s.port, "GET", "/healthz", timeout=2)

    def test_sighup_reload_keeps_serving(self):
        models = H.models_dir(self.tmp)
        s = self.start(models)
        st, _, before = H.classify(s.port, "tiny-demo", self.sample, top=3)
        self.assertEqual(st, 200)
        # a new folder appears; the served one becomes unloadable
        shutil.copytree(os.path.join(models, "tiny-demo"), os.path.join(models, "tiny-two"))
        with open(os.path.join(models, "tiny-demo", "model.json"), "w") as f:
            f.write("{broken")
        stop = threading.Event()
        codes = []

        def hammer():
            while not stop.is_set():
                codes.append(H.classify(s.port, "tiny-demo", self.sample, top=3)[0])
        t = threading.Thread(target=hammer)
        t.start()
        try:
            time.sleep(0.1)
            s.signal(signal.SIGHUP)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if H.request(s.port, "GET", "/v2/models/tiny-two/ready")[0] == 200:
                    break
                time.sleep(0.1)
            time.sleep(0.2)
        finally:
            stop.set()
            t.join(60)
        self.assertEqual(H.request(s.port, "GET", "/v2/models/tiny-two/ready")[0], 200,
                         s.stderr())
        self.assertTrue(codes)
        self.assertEqual(set(codes), {200})
        st, _, after = H.classify(s.port, "tiny-demo", self.sample, top=3)
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(after)["predictions"], json.loads(before)["predictions"])
        st, _, _ = H.classify(s.port, "tiny-two", self.sample)
        self.assertEqual(st, 200)
        self.assertIsNone(s.proc.poll())


if __name__ == "__main__":
    unittest.main()
