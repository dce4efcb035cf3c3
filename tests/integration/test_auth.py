"""test_auth.py — API keys in build/convd over HTTP: a keys file that group or
others may read, or that is missing or empty, stops the daemon at start with
a clear message; with keys, public health endpoints answer without one, every
other endpoint (and unknown paths) answers 401 with WWW-Authenticate: Bearer
and a JSON error, wrong tokens of every shape get the very same answer, both
configured keys work, admin endpoints need a key (not 403), and no key ever
reaches the log. Run through run.sh."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import harness as H

KEY1 = "auth-test-key-AAAAAAAAAAAAAAAA"
KEY2 = "c2Vjb25kLWtleS0xMjM0NTY3OA=="

PUBLIC = [("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/v2/health/live"),
          ("GET", "/v2/health/ready")]
KEYED = [("GET", "/metrics"), ("GET", "/v1/models"), ("GET", "/v2"),
         ("GET", "/v2/models/tiny-demo"), ("GET", "/v2/models/tiny-demo/ready"),
         ("POST", "/v1/models/tiny-demo/classify"), ("POST", "/v2/models/tiny-demo/infer"),
         ("POST", "/v1/models/tiny-demo/cam"), ("GET", "/no/such/path"),
         ("DELETE", "/v1/models"), ("POST", "/v2/repository/index"),
         ("POST", "/v2/repository/models/tiny-demo/load")]


def keys_file(tmp, text, mode=0o600):
    path = os.path.join(tmp, "keys")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


class AuthStartTests(unittest.TestCase):
    """The daemon refuses to start on a bad keys file (exit 2, message)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="convd-it-auth-")
        self.models = H.models_dir(self.tmp)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def refused(self, path, want):
        p = subprocess.run([H.CONVD, "--models", self.models, "--host", "127.0.0.1",
                            "--port", "0", "--device", H.DEVICE, "--api-keys-file", path],
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(want.encode(), p.stderr)
        self.assertNotIn(KEY1.encode(), p.stderr + p.stdout)

    def test_bad_keys_files(self):
        self.refused(keys_file(self.tmp, KEY1 + "\n", 0o644), "chmod 600")
        self.refused(keys_file(self.tmp, KEY1 + "\n", 0o660), "group or others")
        self.refused(keys_file(self.tmp, "# no keys\n"), "holds no key")
        self.refused(keys_file(self.tmp, "tooshort\n"), "16..256")
        self.refused(keys_file(self.tmp, KEY1 + " x\n"), "line 1")
        self.refused(os.path.join(self.tmp, "missing"), "cannot open")
        self.refused(self.tmp, "not a regular file")


class AuthTests(unittest.TestCase):
    """One daemon with two keys."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="convd-it-auth-")
        path = keys_file(cls.tmp, "# two keys\n%s\n\n%s\n" % (KEY1, KEY2))
        cls.srv = H.Server(H.models_dir(cls.tmp), config={"api_keys_file": path}).start(timeout=300)
        cls.port = cls.srv.port
        with open(H.SAMPLE_PNG, "rb") as f:
            cls.sample = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def call(self, method, path, auth=None):
        hdrs = {"Content-Type": "image/png"}
        if auth is not None:
            hdrs["Authorization"] = auth
        body = self.sample if method == "POST" and "/repository/" not in path else None
        return H.request(self.port, method, path, body=body, headers=hdrs)

    def check_401(self, st, hd, data, error=None):
        self.assertEqual(st, 401, data[:300])
        self.assertTrue(hd.get("content-type", "").startswith("application/json"))
        self.assertTrue(hd.get("www-authenticate", "").startswith('Bearer realm="convd"'), hd)
        if error:
            self.assertIn('error="%s"' % error, hd["www-authenticate"])
        j = json.loads(data)
        self.assertEqual(j["error"]["code"], 401)
        self.assertTrue(j["error"]["message"])
        return data

    def test_public_endpoints_need_no_key(self):
        for method, path in PUBLIC:
            st, _, data = self.call(method, path)
            self.assertEqual(st, 200, (path, data))
            st, _, _ = self.call(method, path, "Bearer wrong-wrong-wrong-wrong")
            self.assertEqual(st, 200, path)

    def test_everything_else_needs_a_key(self):
        for method, path in KEYED:
            st, hd, data = self.call(method, path)
            self.check_401(st, hd, data)
            self.assertIn(b"Authorization: Bearer", data)
            st, hd, data = self.call(method, path, "Bearer " + KEY1[:-1] + "B")
            self.check_401(st, hd, data, "invalid_token")

    def test_both_keys_work(self):
        for auth in ("Bearer " + KEY1, "Bearer " + KEY2, "bearer  " + KEY2):
            st, _, data = self.call("POST", "/v1/models/tiny-demo/classify", auth)
            self.assertEqual(st, 200, data[:300])
            st, _, data = self.call("GET", "/metrics", auth)
            self.assertEqual(st, 200)
            self.assertIn(b"convd_requests_total", data)
            st, _, data = self.call("POST", "/v2/repository/index", auth)
            self.assertEqual(st, 200)     # admin: enabled by the keys
            st, _, data = self.call("GET", "/no/such/path", auth)
            self.assertEqual(st, 404)

    def test_wrong_tokens_all_look_the_same(self):
        """Whatever part of a key a token matches, the answer is the same
        bytes; the comparison itself is checked for constant time in
        tests/test_auth.c."""
        wrong = ["", "x", KEY1[:1], KEY1[:-1], KEY1 + "A", KEY1[:-1] + "B",
                 "B" + KEY1[1:], KEY2[:-2], KEY1.lower(), KEY1 + KEY2, "A" * 257,
                 "A" * 4000, KEY1 + " x", "%s,%s" % (KEY1, KEY2)]
        bodies = set()
        for tok in wrong:
            st, hd, data = self.call("GET", "/v1/models", "Bearer " + tok)
            bodies.add(self.check_401(st, hd, data, None))
        self.assertEqual(len(bodies), 1, bodies)
        for scheme in ("Basic " + KEY1, KEY1, "Token " + KEY1, "Bearer"):
            st, hd, data = self.call("GET", "/v1/models", scheme)
            self.check_401(st, hd, data)

    def test_keys_never_logged(self):
        self.call("GET", "/v1/models", "Bearer " + KEY1)
        self.call("GET", "/v1/models", "Bearer " + KEY2[:-3])
        st, _, _ = self.call("GET", "/healthz")
        self.assertEqual(st, 200)
        log = self.srv.stderr()
        self.assertIn("status=401", log)
        for secret in (KEY1, KEY2, KEY2[:-3]):
            self.assertNotIn(secret, log)


if __name__ == "__main__":
    unittest.main()
