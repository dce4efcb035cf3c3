"""test_faults.py — fault injection against a running daemon: model files
truncated or deleted under a served model and then reloaded (the old
version keeps serving, the reason is logged), an OpenCL program that fails
to build (that model is marked failed with the build log, the others serve),
a kernel enqueue failing in a batch (that batch gets 500, the next is
served), SIGTERM under load (every accepted request answered, exit 0 within
the drain time) and an unwritable or full kernel cache (served without
caching, logged once). Device faults use the CONVD_FAULT_INJECT test hook
(daemon/engine/fault.h). Each daemon is bounded in time and killed in
cleanup. Run through run.sh."""
import concurrent.futures as cf
import json
import os
import shutil
import signal
import socket
import threading
import time
import unittest

import harness as H

MODEL = "tiny-demo"
START_TIMEOUT = 240.0   # a cold OpenCL compile on a busy machine takes a while
DRAIN_TIMEOUT = 10.0    # main.c: in-flight requests get this long after SIGTERM


def start(models, config=None, env=None, wait_ready=True, cache_dir=None):
    """A daemon with extra environment variables (restored afterwards)."""
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        extra = ["--set", "cache_dir=" + cache_dir] if cache_dir else []
        srv = H.Server(models, config=config, extra_args=extra)
        try:
            srv.start(wait_ready=wait_ready, timeout=START_TIMEOUT)
        except Exception:
            srv.cleanup()
            raise
        return srv
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def wait_log(srv, text, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in srv.stderr():
            return True
        time.sleep(0.05)
    return False


def model_entry(port, name):
    st, j = H.get_json(port, "/v1/models")
    models = j["models"] if isinstance(j, dict) else j
    return {m["name"]: m for m in models}.get(name)


class Faults(H.DaemonCase):

    TMP_PREFIX = "convd-faults-"

    def serve(self, models, **kw):
        s = start(models, **kw)
        self.servers.append(s)
        return s

    def classify_ok(self, srv, name=MODEL):
        st, _, data = H.classify(srv.port, name, self.sample, top=3, timeout=30)
        self.assertEqual(st, 200, data[:300])
        return json.loads(data)["predictions"]

    def reload(self, srv):
        n = srv.stderr().count("event=reloaded")
        srv.signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and srv.stderr().count("event=reloaded") == n:
            time.sleep(0.05)
        self.assertGreater(srv.stderr().count("event=reloaded"), n, srv.stderr())

    # ------------------------------------------------------------ model files

    def check_reload_keeps_old(self, damage, reason_word):
        models = H.models_dir(self.tmp)
        s = self.serve(models)
        before = self.classify_ok(s)
        damage(os.path.join(models, MODEL))
        # the served version is untouched by the damage (weights on the device)
        self.assertEqual(self.classify_ok(s), before)
        self.reload(s)
        log = s.stderr()
        self.assertIn("event=model_reload_failed model=%s kept_version=1" % MODEL, log)
        line = [ln for ln in log.splitlines() if "model_reload_failed" in ln][-1]
        self.assertIn(reason_word, line)
        self.assertEqual(self.classify_ok(s), before)
        self.assertEqual(model_entry(s.port, MODEL)["state"], "ready")
        st, _, _ = H.request(s.port, "GET", "/healthz")
        self.assertEqual(st, 200)
        return s

    def test_weights_truncated_in_place_then_reload(self):
        def damage(d):
            p = os.path.join(d, "weights.safetensors")
            with open(p, "r+b") as f:   # same inode: the loaded mapping shrinks
                f.truncate(os.path.getsize(p) // 2)
        self.check_reload_keeps_old(damage, "safetensors")

    def test_weights_deleted_then_reload(self):
        self.check_reload_keeps_old(
            lambda d: os.unlink(os.path.join(d, "weights.safetensors")), "weights.safetensors")

    def test_model_json_truncated_then_reload(self):
        def damage(d):
            p = os.path.join(d, "model.json")
            with open(p, "r+b") as f:
                f.truncate(100)
        self.check_reload_keeps_old(damage, "model.json")

    def test_weights_zeroed_length_then_reload(self):
        def damage(d):
            open(os.path.join(d, "weights.safetensors"), "wb").close()
        self.check_reload_keeps_old(damage, "safetensors")

    def test_weights_truncated_then_repository_load(self):
        # the admin load API (keys configured) reports the reason in its answer
        key = "faults-test-key-0123456789"
        keys = os.path.join(self.tmp, "keys")
        with open(keys, "w") as f:
            f.write(key + "\n")
        os.chmod(keys, 0o600)
        models = H.models_dir(self.tmp)
        s = self.serve(models, config={"api_keys_file": keys})
        auth = {"Authorization": "Bearer " + key}
        st, _, data = H.classify(s.port, MODEL, self.sample, top=3, timeout=30)
        self.assertEqual(st, 401, data[:200])
        st, _, data = H.request(s.port, "POST", "/v1/models/%s/classify?top=3" % MODEL,
                                body=self.sample, headers=dict(auth, **{"Content-Type": "image/png"}))
        self.assertEqual(st, 200, data[:200])
        before = json.loads(data)["predictions"]
        p = os.path.join(models, MODEL, "weights.safetensors")
        with open(p, "r+b") as f:
            f.truncate(os.path.getsize(p) - 1000)
        st, hd, data = H.request(s.port, "POST", "/v2/repository/models/%s/load" % MODEL,
                                 body=b"", headers=auth, timeout=120)
        self.assertGreaterEqual(st, 400, data[:300])
        msg = json.loads(data)["error"]["message"]
        self.assertIn("keeps serving", msg)
        self.assertIn("safetensors", msg)
        st, _, data = H.request(s.port, "POST", "/v1/models/%s/classify?top=3" % MODEL,
                                body=self.sample, headers=dict(auth, **{"Content-Type": "image/png"}))
        self.assertEqual(st, 200, data[:200])
        self.assertEqual(json.loads(data)["predictions"], before)

    def test_damage_repaired_then_reload_serves_new_version(self):
        models = H.models_dir(self.tmp)
        s = self.serve(models)
        w = os.path.join(models, MODEL, "weights.safetensors")
        with open(w, "rb") as f:
            good = f.read()
        os.unlink(w)
        self.reload(s)
        self.assertIn("kept_version=1", s.stderr())
        with open(w, "wb") as f:
            f.write(good)
        self.reload(s)
        self.assertIn("event=model_loaded model=%s version=2" % MODEL, s.stderr())
        self.classify_ok(s)

    # ------------------------------------------------------------ device faults

    def test_program_build_failure_marks_model_failed(self):
        models = H.models_dir(self.tmp)
        # "aaa-broken" sorts first: its program build consumes the trigger
        shutil.copytree(os.path.join(models, MODEL), os.path.join(models, "aaa-broken"))
        trig = os.path.join(self.tmp, "build.trigger")
        open(trig, "w").close()
        s = self.serve(models, env={"CONVD_FAULT_INJECT": "build=" + trig},
                       wait_ready=False)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "models_loaded" not in s.stderr():
            time.sleep(0.05)
        self.assertFalse(os.path.exists(trig))
        broken = model_entry(s.port, "aaa-broken")
        self.assertEqual(broken["state"], "failed", broken)
        # the reason carries the compiler's own log, naming the bad source
        self.assertIn("clBuildProgram failed", broken["reason"])
        self.assertIn("fault_injected", broken["reason"])
        self.assertIn("convd_fault_injected_undeclared", broken["reason"])
        st, hd, data = H.classify(s.port, "aaa-broken", self.sample)
        self.assertGreaterEqual(st, 400)
        self.assertIn("error", json.loads(data))
        self.assertEqual(model_entry(s.port, MODEL)["state"], "ready")
        self.classify_ok(s)
        self.assertIn("event=model_load_failed model=aaa-broken", s.stderr())

    def test_enqueue_failure_fails_one_batch_then_recovers(self):
        models = H.models_dir(self.tmp)
        trig = os.path.join(self.tmp, "enqueue.trigger")
        s = self.serve(models, env={"CONVD_FAULT_INJECT": "enqueue=" + trig},
                       config={"models": {MODEL: {"max_batch": 4, "max_delay_us": 300000}}})
        ref = self.classify_ok(s)
        with open(trig, "w") as f:
            f.write("3")   # the third kernel of the next batch fails: mid-batch
        n = 4
        barrier = threading.Barrier(n, timeout=30)

        def one(_):
            barrier.wait()
            return H.classify(s.port, MODEL, self.sample, top=3, timeout=30)
        with cf.ThreadPoolExecutor(n) as ex:
            failed = list(ex.map(one, range(n), timeout=60))
        self.assertFalse(os.path.exists(trig))
        codes = sorted(st for st, _, _ in failed)
        self.assertIn(500, codes, failed)
        for st, hd, data in failed:
            if st == 500:
                j = json.loads(data)
                self.assertEqual(j["error"]["code"], 500)
                self.assertIn("CL_OUT_OF_RESOURCES", j["error"]["message"])
            else:
                self.assertEqual(st, 200, data[:200])
        self.assertIn("event=batch_failed", s.stderr())
        # the worker recovers: the next batch (and single requests) are right
        barrier = threading.Barrier(n, timeout=30)
        with cf.ThreadPoolExecutor(n) as ex:
            again = list(ex.map(one, range(n), timeout=60))
        for st, _, data in again:
            self.assertEqual(st, 200, data[:200])
            self.assertSamePredictions(json.loads(data)["predictions"], ref)
        self.assertSamePredictions(self.classify_ok(s), ref)

    def assertSamePredictions(self, got, ref):
        """Same classes in the same order, scores equal to float rounding: a
        batch of 4 may run other kernel variants (Winograd, per-sample
        passes) than the batch of 1 that made ref."""
        self.assertEqual([(p["index"], p["label"]) for p in got],
                         [(p["index"], p["label"]) for p in ref])
        for g, r in zip(got, ref):
            self.assertAlmostEqual(g["score"], r["score"], delta=1e-5)

    def test_sigterm_under_load(self):
        models = H.models_dir(self.tmp)
        H.make_slow_model(os.path.join(models, "slow"), size=128, ch=32, n_conv=3)
        s = self.serve(models, config={"max_queue": 256, "timeout_ms": 60000,
                                       "models": {"slow": {"max_batch": 2}}})
        png = H.png_encode(H.random_image(3))
        stop = threading.Event()
        results, errors = [], []
        lock = threading.Lock()

        def client():
            while not stop.is_set():
                try:
                    st, hd, data = H.classify(s.port, "slow", png, top=2, timeout=60)
                except ConnectionRefusedError:
                    return                     # after quiesce: never accepted
                except OSError as e:           # accepted, then dropped: a failure
                    with lock:
                        errors.append(repr(e))
                    return
                with lock:
                    results.append((st, hd, data))
        threads = [threading.Thread(target=client) for _ in range(12)]
        for t in threads:
            t.start()
        time.sleep(2.0)
        with lock:
            before = len(results)
        t0 = time.monotonic()
        s.signal(signal.SIGTERM)
        try:
            s.proc.wait(30)
        finally:
            stop.set()
            for t in threads:
                t.join(90)
        drain = time.monotonic() - t0
        self.assertEqual(s.proc.returncode, 0, s.stderr())
        # the drain time, plus one batch still running when it ends
        self.assertLess(drain, DRAIN_TIMEOUT + 5.0)
        self.assertEqual(errors, [], s.stderr())
        self.assertGreater(before, 0)
        for st, hd, data in results:
            self.assertIn(st, (200, 503), data[:200])
            if st == 503:
                self.assertEqual(json.loads(data)["error"]["code"], 503)
        self.assertIn("event=stopped status=0", s.stderr())

    def test_sigterm_answers_the_accept_backlog(self):
        """Connections the kernel accepted but the server never did (the
        connection limit is reached) get a complete 503 when it stops, not a
        reset."""
        models = H.models_dir(self.tmp)
        s = self.serve(models, config={"threads": 1, "max_connections": 2})
        idle = [socket.create_connection(("127.0.0.1", s.port), timeout=5)
                for _ in range(2)]
        time.sleep(0.5)                  # both taken: the limit is reached
        waiting = []
        for _ in range(3):
            c = socket.create_connection(("127.0.0.1", s.port), timeout=5)
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            waiting.append(c)
        for c in waiting:               # in the backlog: no answer yet
            c.settimeout(0.5)
            with self.assertRaises(socket.timeout):
                c.recv(1)
        s.signal(signal.SIGTERM)
        for c in waiting:
            c.settimeout(10)
            data = b""
            while True:
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            c.close()
            head, _, body = data.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 503"), data[:200])
            self.assertIn(b"Retry-After: 1", head)
            self.assertEqual(json.loads(body)["error"]["code"], 503)
        for c in idle:
            c.close()
        s.proc.wait(30)
        self.assertEqual(s.proc.returncode, 0, s.stderr())
        self.assertIn("event=backlog_refused connections=3", s.stderr())

    # ------------------------------------------------------------ kernel cache

    def test_cache_dir_unwritable(self):
        blocker = os.path.join(self.tmp, "not-a-dir")
        with open(blocker, "w") as f:
            f.write("a file where the cache directory should be")
        pocl = os.path.join(self.tmp, "pocl")
        os.makedirs(pocl)
        s = self.serve(H.models_dir(self.tmp), cache_dir=os.path.join(blocker, "cache"),
                       env={"POCL_CACHE_DIR": pocl})
        self.classify_ok(s)
        self.assertTrue(wait_log(s, "event=kernel_cache_unwritable", 10), s.stderr())
        # a reload builds again and fails to cache again: still one line
        self.reload(s)
        self.classify_ok(s)
        time.sleep(0.3)
        self.assertEqual(s.stderr().count("kernel_cache_unwritable"), 1, s.stderr())

    def test_cache_disk_full(self):
        cache = os.path.join(self.tmp, "cache")
        models = H.models_dir(self.tmp)
        shutil.copytree(os.path.join(models, MODEL), os.path.join(models, "tiny-two"))
        s = self.serve(models, cache_dir=cache, env={"CONVD_FAULT_INJECT": "cache_write",
                                                     "POCL_CACHE_DIR": os.path.join(self.tmp, "p")})
        self.classify_ok(s)
        self.classify_ok(s, "tiny-two")
        self.assertTrue(wait_log(s, "event=kernel_cache_unwritable", 10), s.stderr())
        line = [ln for ln in s.stderr().splitlines() if "kernel_cache_unwritable" in ln]
        self.assertEqual(len(line), 1, s.stderr())
        self.assertIn("No space left on device", line[0])
        # nothing half-written is left behind
        left = [f for f in os.listdir(cache) if f.endswith(".bin") or ".tmp." in f] \
            if os.path.isdir(cache) else []
        self.assertEqual(left, [])


if __name__ == "__main__":
    unittest.main()
