"""test_clients.py — every script in clients/ against a running build/convd
that has API keys: each passes `sh -n` (and shellcheck when installed), has
-h, takes the server and key from flags (-u, -H, -p, -a) or the environment
(CONVD_URL, CONVD_API_KEY), prints the answer on success, and on failure
exits 1 with the server's own message (401 without a key, 404 for a model
that is not there) or 2 for usage errors and an unreachable server. Run
through run.sh."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness as H
from test_media import make_audio_model, make_seg_model, png_decode, tone, wav_bytes

KEY = "clients-test-key-0123456789"
CL = os.path.join(H.ROOT, "clients")
SCRIPTS = ["classify.sh", "segment.sh", "cam.sh", "audio.sh", "health.sh", "metrics.sh",
           "models.sh", "load.sh", "unload.sh"]



class StaticTests(unittest.TestCase):

    def test_posix_sh_and_shellcheck(self):
        for name in SCRIPTS + ["convd-client-lib.sh"]:
            p = subprocess.run(["sh", "-n", os.path.join(CL, name)], capture_output=True,
                               timeout=10)
            self.assertEqual(p.returncode, 0, (name, p.stderr))
        if shutil.which("shellcheck"):
            p = subprocess.run(["shellcheck", "-s", "sh", "-x"] + SCRIPTS, cwd=CL,
                               capture_output=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stdout.decode()[-3000:])

    def test_help_and_usage(self):
        for name in SCRIPTS:
            p = subprocess.run(["sh", os.path.join(CL, name), "-h"], capture_output=True,
                               timeout=10)
            self.assertEqual(p.returncode, 0, name)
            self.assertTrue(p.stdout.startswith(b"usage: " + name.encode()), p.stdout)
            for word in (b"CONVD_URL", b"CONVD_API_KEY", b"-a KEY", b"-u URL", b"Exit"):
                self.assertIn(word, p.stdout, name)
            p = subprocess.run(["sh", os.path.join(CL, name), "-Z"], capture_output=True,
                               timeout=10)
            self.assertEqual(p.returncode, 2, name)
            self.assertIn(b"usage:", p.stderr)

    def test_unreachable_and_bad_settings(self):
        port = H.free_port()   # nothing listens there
        env = dict(os.environ, CONVD_URL="http://127.0.0.1:%d" % port, CONVD_TIMEOUT="5")
        p = subprocess.run(["sh", os.path.join(CL, "health.sh")], env=env,
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"cannot reach http://127.0.0.1:%d" % port, p.stderr)
        for args in (["-u", "ftp://x"], ["-p", "80a"], ["-a", "bad key"], ["-a", 'a"b']):
            p = subprocess.run(["sh", os.path.join(CL, "health.sh")] + args, env=env,
                               capture_output=True, timeout=10)
            self.assertEqual(p.returncode, 2, args)
            self.assertIn(b"health.sh: ", p.stderr)
        p = subprocess.run(["sh", os.path.join(CL, "load.sh"), "../x"], env=env,
                           capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"bad model name", p.stderr)


class ClientTests(unittest.TestCase):
    """One daemon with an API key, serving tiny-demo, a segmenter and a KWS
    model."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="convd-it-clients-")
        models = H.models_dir(cls.tmp)
        make_seg_model(os.path.join(models, "seg"))
        make_audio_model(os.path.join(models, "kws"))
        keys = os.path.join(cls.tmp, "keys")
        with open(keys, "w") as f:
            f.write(KEY + "\n")
        os.chmod(keys, 0o600)
        cls.srv = H.Server(models, config={"api_keys_file": keys}).start(timeout=300)
        cls.url = "http://127.0.0.1:%d" % cls.srv.port
        cls.img = os.path.join(cls.tmp, "in.png")
        with open(cls.img, "wb") as f:
            f.write(H.png_encode(H.random_image(4)[:20, :30]))
        cls.wav = os.path.join(cls.tmp, "clip.wav")
        with open(cls.wav, "wb") as f:
            f.write(wav_bytes(tone(440, 8000, 0.5), 8000))

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_client(self, name, *args, env=None, key=True):
        e = {k: v for k, v in os.environ.items() if not k.startswith("CONVD_")}
        e["CONVD_URL"] = self.url
        e["CONVD_TIMEOUT"] = "60"
        if key:
            e["CONVD_API_KEY"] = KEY
        e.update(env or {})
        return subprocess.run(["sh", os.path.join(CL, name)] + list(args), env=e,
                              capture_output=True, timeout=90)

    def ok(self, name, *args, **kw):
        p = self.run_client(name, *args, **kw)
        self.assertEqual(p.returncode, 0, (name, args, p.stderr))
        return p.stdout

    def fails(self, name, *args, code=1, **kw):
        p = self.run_client(name, *args, **kw)
        self.assertEqual(p.returncode, code, (name, args, p.stdout, p.stderr))
        return p.stderr.decode()

    def test_every_script_needs_the_key(self):
        for name, args in (("classify.sh", ["tiny-demo", self.img]),
                           ("segment.sh", ["seg", self.img]),
                           ("cam.sh", ["tiny-demo", self.img]),
                           ("audio.sh", ["kws", self.wav]),
                           ("metrics.sh", []), ("models.sh", []),
                           ("load.sh", ["tiny-demo"]), ("unload.sh", ["tiny-demo"])):
            err = self.fails(name, *args, key=False)
            self.assertIn("%s: HTTP 401: an API key is required" % name, err)
            err = self.fails(name, *args, env={"CONVD_API_KEY": KEY[:-1] + "x"})
            self.assertIn("HTTP 401: the API key is not valid", err)
        # health needs none
        self.assertEqual(json.loads(self.ok("health.sh", key=False)), {"status": "ready"})

    def test_inference_scripts(self):
        j = json.loads(self.ok("classify.sh", "-k", "3", "tiny-demo", self.img))
        self.assertEqual(len(j["predictions"]), 3)
        j = json.loads(self.ok("segment.sh", "seg", self.img))
        self.assertEqual(j["mask"]["format"], "rle")
        out = os.path.join(self.tmp, "seg.png")
        self.ok("segment.sh", "-o", out, "seg", self.img)
        with open(out, "rb") as f:
            self.assertEqual(png_decode(f.read()).shape, (20, 30, 3))
        j = json.loads(self.ok("cam.sh", "-k", "2", "tiny-demo", self.img))
        self.assertEqual(len(j["predictions"]), 2)
        j = json.loads(self.ok("audio.sh", "-k", "2", "kws", self.wav))
        self.assertEqual(len(j["predictions"]), 2)
        err = self.fails("classify.sh", "nope", self.img)
        self.assertIn("HTTP 404: unknown model 'nope'", err)
        err = self.fails("cam.sh", "-l", "nope", "tiny-demo", self.img)
        self.assertIn("HTTP 400", err)

    def test_server_and_key_from_flags(self):
        port = str(self.srv.port)
        wrong = {"CONVD_URL": "http://127.0.0.1:9", "CONVD_API_KEY": "wrong-wrong-wrong-1"}
        for flags in (["-u", self.url + "/"], ["-H", "127.0.0.1:" + port],
                      ["-H", "localhost", "-p", port], ["-p", port]):
            out = self.ok("classify.sh", *flags, "-a", KEY, "tiny-demo", self.img, env=wrong)
            self.assertEqual(json.loads(out)["model"], "tiny-demo")
        # the older CONVD_HOST still works when CONVD_URL is not set
        e = {k: v for k, v in os.environ.items() if not k.startswith("CONVD_")}
        e.update(CONVD_HOST="127.0.0.1:" + port, CONVD_API_KEY=KEY)
        p = subprocess.run(["sh", os.path.join(CL, "models.sh")], env=e, capture_output=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_health_metrics_models(self):
        self.assertEqual(json.loads(self.ok("health.sh", "-l")), {"status": "alive"})
        text = self.ok("metrics.sh").decode()
        self.assertIn("convd_requests_total", text)
        H.parse_metrics(text)
        only = self.ok("metrics.sh", "convd_models_loaded").decode().splitlines()
        self.assertEqual(only[-1], "convd_models_loaded 3")
        self.assertTrue(all("convd_models_loaded" in l for l in only))
        err = self.fails("metrics.sh", "convd_no_such_metric")
        self.assertIn("no metric starts with", err)
        names = {m["name"] for m in json.loads(self.ok("models.sh"))["models"]}
        self.assertEqual(names, {"tiny-demo", "seg", "kws"})
        j = json.loads(self.ok("models.sh", "tiny-demo"))
        self.assertEqual(j["name"], "tiny-demo")
        self.assertIn("inputs", j)
        idx = {e["name"]: e for e in json.loads(self.ok("models.sh", "-i"))}
        self.assertEqual(set(idx), {"tiny-demo", "seg", "kws"})
        err = self.fails("models.sh", "nope")
        self.assertIn("HTTP 404", err)
        self.fails("models.sh", "-r", code=2)

    def test_load_unload(self):
        j = json.loads(self.ok("load.sh", "seg"))
        self.assertEqual((j["name"], j["state"]), ("seg", "READY"))
        self.assertGreaterEqual(int(j["version"]), 2)
        j = json.loads(self.ok("unload.sh", "seg"))
        self.assertEqual(j["state"], "UNAVAILABLE")
        self.assertIn("HTTP 404", self.fails("segment.sh", "seg", self.img))
        self.assertIn("not loaded", self.fails("unload.sh", "seg"))
        ready = {e["name"] for e in json.loads(self.ok("models.sh", "-i", "-r"))}
        self.assertNotIn("seg", ready)
        self.ok("load.sh", "seg")
        self.ok("segment.sh", "seg", self.img)
        err = self.fails("load.sh", "no-such-model")
        self.assertIn("HTTP 404: no model folder 'no-such-model'", err)


if __name__ == "__main__":
    unittest.main()
