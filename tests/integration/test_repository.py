"""test_repository.py — the KServe model repository extension of build/convd
over HTTP: admin endpoints refused (403) without API keys; index, load and
unload with a key; a load that fails keeps the serving version and returns
the reason; a load, a SIGHUP reload and an unload while requests wait in the
batch queue (those finish on the version they were queued on, later ones see
the new state); SIGHUP keeps unloaded models out; SIGTERM during loads. Each daemon is bounded in
time and killed in cleanup. Run through run.sh."""
import concurrent.futures as cf
import json
import os
import shutil
import signal
import time
import unittest

import harness as H

KEY = "repo-test-key-0123456789"
AUTH = {"Authorization": "Bearer " + KEY}
CIFAR = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
         "ship", "truck"}           # models/tiny-demo's labels
ABCD = {"a", "b", "c", "d"}          # harness.make_slow_model's labels


def write_keys(tmp):
    path = os.path.join(tmp, "keys")
    with open(path, "w") as f:
        f.write("# test key\n%s\n" % KEY)
    os.chmod(path, 0o600)
    return path


def post(port, path, body=b"", headers=None, timeout=60):
    h = dict(AUTH)
    h.update(headers or {})
    return H.request(port, "POST", path, body=body, headers=h, timeout=timeout)


def index(tc, port, body=b""):
    st, _, data = post(port, "/v2/repository/index", body)
    tc.assertEqual(st, 200, data[:300])
    return {e["name"]: e for e in json.loads(data)}


def err_msg(tc, st, hd, data, want):
    tc.assertEqual(st, want, data[:300])
    tc.assertTrue(hd.get("content-type", "").startswith("application/json"))
    j = json.loads(data)
    tc.assertEqual(j["error"]["code"], want)
    return j["error"]["message"]


def labels_of(data):
    return {p["label"] for p in json.loads(data)["predictions"]}


def queue_depth(port, model):
    _, _, data = H.request(port, "GET", "/metrics", headers=AUTH)
    for name, lab, v in H.parse_metrics(data.decode()):
        if name == "convd_queue_depth" and lab.get("model") == model:
            return v
    return -1


class RepositoryTests(H.DaemonCase):

    TMP_PREFIX = "convd-it-repo-"

    def start(self, models, config=None, keys=True):
        cfg = dict(config or {})
        if keys:
            cfg["api_keys_file"] = write_keys(self.tmp)
        s = H.Server(models, config=cfg)
        self.servers.append(s)
        return s.start(timeout=300)

    def classify(self, port, model, timeout=60):
        return H.request(port, "POST", "/v1/models/%s/classify" % model, body=self.sample,
                         headers=dict(AUTH, **{"Content-Type": "image/png"}), timeout=timeout)

    def test_admin_disabled_without_keys(self):
        s = self.start(H.models_dir(self.tmp), keys=False)
        for path in ("/v2/repository/index", "/v2/repository/models/tiny-demo/load",
                     "/v2/repository/models/tiny-demo/unload"):
            for hdrs in ({}, AUTH):
                st, hd, data = H.request(s.port, "POST", path, headers=hdrs)
                msg = err_msg(self, st, hd, data, 403)
                self.assertIn("api_keys_file", msg)
        # nothing changed, and everything else still needs no key
        st, _, _ = H.classify(s.port, "tiny-demo", self.sample)
        self.assertEqual(st, 200)
        st, j = H.get_json(s.port, "/v2")
        self.assertIn("model_repository", j["extensions"])

    def test_index_load_unload(self):
        models = H.models_dir(self.tmp)
        s = self.start(models)
        idx = index(self, s.port)
        self.assertEqual(idx, {"tiny-demo": {"name": "tiny-demo", "version": "1",
                                             "state": "READY", "reason": ""}})
        shutil.copytree(os.path.join(models, "tiny-demo"), os.path.join(models, "tiny-two"))
        os.makedirs(os.path.join(models, "not-a-model"))
        idx = index(self, s.port)
        self.assertEqual(sorted(idx), ["tiny-demo", "tiny-two"])
        self.assertEqual(idx["tiny-two"]["state"], "UNAVAILABLE")
        self.assertEqual(idx["tiny-two"]["version"], "")
        self.assertEqual(idx["tiny-two"]["reason"], "not loaded")
        self.assertEqual(self.classify(s.port, "tiny-two")[0], 404)

        st, _, data = post(s.port, "/v2/repository/models/tiny-two/load")
        self.assertEqual(st, 200, data)
        self.assertEqual(json.loads(data), {"name": "tiny-two", "version": "1",
                                            "state": "READY"})
        st, _, data = self.classify(s.port, "tiny-two")
        self.assertEqual(st, 200)
        self.assertTrue(labels_of(data) <= CIFAR)
        self.assertEqual(set(index(self, s.port, b'{"ready": true}')),
                         {"tiny-demo", "tiny-two"})

        st, _, data = post(s.port, "/v2/repository/models/tiny-two/unload")
        self.assertEqual(st, 200, data)
        self.assertEqual(json.loads(data)["state"], "UNAVAILABLE")
        st, hd, data = self.classify(s.port, "tiny-two")
        err_msg(self, st, hd, data, 404)
        idx = index(self, s.port)
        self.assertEqual(idx["tiny-two"], {"name": "tiny-two", "version": "1",
                                           "state": "UNAVAILABLE", "reason": "unloaded"})
        self.assertEqual(set(index(self, s.port, b'{"ready": true}')), {"tiny-demo"})
        st, hd, data = post(s.port, "/v2/repository/models/tiny-two/unload")
        self.assertIn("not loaded", err_msg(self, st, hd, data, 404))

        # SIGHUP reloads every folder but the unloaded one
        s.signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and index(self, s.port)["tiny-demo"]["version"] != "2":
            time.sleep(0.1)
        idx = index(self, s.port)
        self.assertEqual(idx["tiny-demo"]["version"], "2")
        self.assertEqual(idx["tiny-two"]["reason"], "unloaded")
        self.assertEqual(self.classify(s.port, "tiny-two")[0], 404)
        # loaded again: versions go on
        st, _, data = post(s.port, "/v2/repository/models/tiny-two/load")
        self.assertEqual(json.loads(data)["version"], "2")
        st, _, data = H.request(s.port, "GET", "/v2/models/tiny-two", headers=AUTH)
        self.assertEqual(json.loads(data)["versions"], ["2"])

        # names and bodies
        for path, want in (("nope", 404), ("not-a-model", 404), (".hidden", 400),
                           ("%2e%2e", 400), ("a%2fb", 400), ("a%00b", 400)):
            st, hd, data = post(s.port, "/v2/repository/models/%s/load" % path)
            err_msg(self, st, hd, data, want)
        for body in (b"{", b"[]", b'{"parameters": {"config": "{}"}}', b'{"x": 1}'):
            st, hd, data = post(s.port, "/v2/repository/models/tiny-demo/load", body)
            err_msg(self, st, hd, data, 400)
        st, _, data = post(s.port, "/v2/repository/models/tiny-demo/load",
                           b'{"parameters": {}}')
        self.assertEqual(st, 200, data)
        st, hd, data = post(s.port, "/v2/repository/index", b'{"ready": 1}')
        err_msg(self, st, hd, data, 400)
        st, hd, data = H.request(s.port, "GET", "/v2/repository/index", headers=AUTH)
        err_msg(self, st, hd, data, 405)
        self.assertIsNone(s.proc.poll())

    def test_failed_load_keeps_serving_version(self):
        models = H.models_dir(self.tmp)
        s = self.start(models)
        st, _, before = self.classify(s.port, "tiny-demo")
        self.assertEqual(st, 200)
        mj = os.path.join(models, "tiny-demo", "model.json")
        with open(mj) as f:
            good = f.read()
        with open(mj, "w") as f:
            f.write('{"format": "convd-model", "version": 1, "graph": [')
        st, hd, data = post(s.port, "/v2/repository/models/tiny-demo/load")
        msg = err_msg(self, st, hd, data, 400)
        self.assertIn("failed to load", msg)
        self.assertIn("not valid JSON", msg)
        self.assertIn("version 1 keeps serving", msg)
        st, _, after = self.classify(s.port, "tiny-demo")
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(after)["predictions"], json.loads(before)["predictions"])
        self.assertEqual(index(self, s.port)["tiny-demo"]["state"], "READY")
        self.assertEqual(H.request(s.port, "GET", "/readyz")[0], 200)
        # weights that do not match the graph: refused the same way
        with open(mj, "w") as f:
            f.write(good)
        wpath = os.path.join(models, "tiny-demo", json.loads(good)["weights"])
        with open(wpath, "r+b") as f:
            f.truncate(100)
        st, hd, data = post(s.port, "/v2/repository/models/tiny-demo/load")
        self.assertIn("keeps serving", err_msg(self, st, hd, data, 400))
        self.assertEqual(self.classify(s.port, "tiny-demo")[0], 200)
        # fixed: the next load swaps
        shutil.copy(os.path.join(H.TINY, json.loads(good)["weights"]), wpath)
        st, _, data = post(s.port, "/v2/repository/models/tiny-demo/load")
        self.assertEqual((st, json.loads(data)["version"]), (200, "2"))

    def test_sigterm_during_loads(self):
        """Loads asked just before SIGTERM: the running one finishes, the
        waiting ones get 503; every request is answered and convd exits 0."""
        models = H.models_dir(self.tmp)
        H.make_slow_model(os.path.join(models, "slow"), size=96, ch=32, n_conv=3)
        s = self.start(models)
        with cf.ThreadPoolExecutor(4) as ex:
            futs = [ex.submit(post, s.port, "/v2/repository/models/%s/load" % m, b"", None, 120)
                    for m in ("slow", "tiny-demo", "slow", "tiny-demo")]
            time.sleep(0.3)
            s.signal(signal.SIGTERM)
            res = [f.result(timeout=150) for f in futs]
        for st, hd, data in res:
            self.assertIn(st, (200, 503), data[:300])
            if st == 503:
                self.assertIn("stopping", err_msg(self, st, hd, data, 503))
        s.proc.wait(60)
        self.assertEqual(s.proc.returncode, 0, s.stderr())

    def swap_while_queued(self, trigger):
        """Three requests wait in the batch queue (max_delay 10 s) while the
        model folder is replaced by another model and `trigger` swaps it in;
        they are answered by the old version, later requests by the new one.
        Returns (server, models dir)."""
        models = H.models_dir(self.tmp)
        s = self.start(models, {"max_batch": 8, "max_delay_us": 10000000,
                                "timeout_ms": 60000})
        # Build (and cache) the new model's kernels first, under another
        # name, so that the swap below takes seconds, not a cold compile.
        warm = os.path.join(models, "warm")
        H.make_slow_model(warm, name="tiny-demo", size=32, ch=8, n_conv=1, seed=3)
        st, _, data = post(s.port, "/v2/repository/models/warm/load", timeout=300)
        self.assertEqual(st, 200, data)
        self.assertEqual(post(s.port, "/v2/repository/models/warm/unload")[0], 200)
        new = os.path.join(self.tmp, "new-version")
        os.rename(warm, new)
        with cf.ThreadPoolExecutor(3) as ex:
            futs = [ex.submit(self.classify, s.port, "tiny-demo", 90) for _ in range(3)]
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and queue_depth(s.port, "tiny-demo") < 3:
                time.sleep(0.02)
            self.assertEqual(queue_depth(s.port, "tiny-demo"), 3)
            os.rename(os.path.join(models, "tiny-demo"), os.path.join(self.tmp, "old"))
            os.rename(new, os.path.join(models, "tiny-demo"))
            trigger(s)
            for f in futs:
                self.assertFalse(f.done(), "answered before the swap: test is void")
            res = [f.result(timeout=90) for f in futs]
        for st, _, data in res:
            self.assertEqual(st, 200, data[:300])
            self.assertTrue(labels_of(data) <= CIFAR, data[:300])   # the old version
        st, _, data = self.classify(s.port, "tiny-demo")
        self.assertEqual(st, 200, data[:300])
        self.assertTrue(labels_of(data) <= ABCD, data[:300])          # the new one
        return s, models

    def test_load_while_queued_then_unload_while_queued(self):
        def load(s):
            st, _, data = post(s.port, "/v2/repository/models/tiny-demo/load")
            self.assertEqual(st, 200, data)
            self.assertEqual(json.loads(data)["version"], "2")
        s, _ = self.swap_while_queued(load)
        # unload with requests queued on the new version: they finish
        with cf.ThreadPoolExecutor(2) as ex:
            futs = [ex.submit(self.classify, s.port, "tiny-demo", 90) for _ in range(2)]
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and queue_depth(s.port, "tiny-demo") < 2:
                time.sleep(0.02)
            st, _, data = post(s.port, "/v2/repository/models/tiny-demo/unload")
            self.assertEqual(st, 200, data)
            self.assertEqual(self.classify(s.port, "tiny-demo", 10)[0], 404)
            for f in futs:
                self.assertFalse(f.done())
            for st, _, data in (f.result(timeout=90) for f in futs):
                self.assertEqual(st, 200, data[:300])
                self.assertTrue(labels_of(data) <= ABCD)

    def test_sighup_while_queued(self):
        def hup(s):
            s.signal(signal.SIGHUP)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if index(self, s.port)["tiny-demo"]["version"] == "2":
                    return
                time.sleep(0.05)
            self.fail("SIGHUP reload did not swap:\n" + s.stderr())
        self.swap_while_queued(hup)


if __name__ == "__main__":
    unittest.main()
