"""test_ui.py — the web console's files as build/convd serves them: every
file of ui/ byte for byte at /ui/NAME (and index.html at / and /ui/), with
its Content-Type, the security headers (CSP without inline code, nosniff,
no referrer, no framing), an ETag that answers 304, served without a key
when API keys are configured (while the API still needs one); names that are
not exactly an embedded file answer 404 (400 for '.', '..', an encoded '/'
or NUL, refused by the router as for every captured name; 401 without a key
for paths outside the console's routes, as for every unknown path), and
nothing of the repository ever comes back; ui_enabled=false answers 404 everywhere.
Run through run.sh."""
import glob
import json
import os
import shutil
import tempfile
import time
import unittest

import harness as H

UI_DIR = os.path.join(H.ROOT, "ui")
KEY = "ui-integration-key-0123456789"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
       "img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".js": "text/javascript; charset=utf-8"}


def ui_files():
    return sorted(p for p in glob.glob(os.path.join(UI_DIR, "*"))
                  if os.path.splitext(p)[1] in TYPES)


def read(path):
    with open(path, "rb") as f:
        return f.read()


class UiTests(unittest.TestCase):
    """One daemon with the console on and an API key configured."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="convd-it-ui-")
        keys = os.path.join(cls.tmp, "keys")
        with open(keys, "w") as f:
            f.write(KEY + "\n")
        os.chmod(keys, 0o600)
        cls.srv = H.Server(H.models_dir(cls.tmp), config={"api_keys_file": keys}).start()
        cls.port = cls.srv.port

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def get(self, path, headers=None):
        return H.request(self.port, "GET", path, headers=headers)

    def check_headers(self, hd, ctype):
        self.assertEqual(hd.get("content-type"), ctype)
        self.assertEqual(hd.get("content-security-policy"), CSP)
        self.assertEqual(hd.get("x-content-type-options"), "nosniff")
        self.assertEqual(hd.get("referrer-policy"), "no-referrer")
        self.assertEqual(hd.get("x-frame-options"), "DENY")
        self.assertEqual(hd.get("cache-control"), "no-cache")
        self.assertRegex(hd.get("etag", ""), r'^"[0-9a-f]{16}"$')

    def test_every_file_served_as_it_is(self):
        files = ui_files()
        self.assertGreaterEqual(len(files), 3)
        for p in files:
            name = os.path.basename(p)
            st, hd, data = self.get("/ui/" + name)
            self.assertEqual(st, 200, name)
            self.assertEqual(data, read(p), name)
            self.check_headers(hd, TYPES[os.path.splitext(name)[1]])

    def test_index_at_root(self):
        want = read(os.path.join(UI_DIR, "index.html"))
        for path in ("/", "/ui/"):
            st, hd, data = self.get(path)
            self.assertEqual(st, 200, path)
            self.assertEqual(data, want, path)
            self.check_headers(hd, TYPES[".html"])

    def test_no_inline_code_in_the_page(self):
        html = read(os.path.join(UI_DIR, "index.html")).decode()
        self.assertNotRegex(html, r"<script(?![^>]*\bsrc=)")
        self.assertNotIn("<style", html)
        self.assertNotRegex(html, r"\sstyle=")
        self.assertNotRegex(html, r"\son[a-z]+=")
        self.assertNotRegex(html, r"(?i)(src|href)=\"(https?:)?//")

    def test_etag_revalidation(self):
        st, hd, _ = self.get("/ui/console.js")
        etag = hd["etag"]
        st, hd2, data = self.get("/ui/console.js", {"If-None-Match": etag})
        self.assertEqual((st, data), (304, b""))
        self.assertEqual(hd2.get("etag"), etag)
        st, _, _ = self.get("/ui/console.js", {"If-None-Match": '"0000", W/' + etag})
        self.assertEqual(st, 304)
        st, _, data = self.get("/ui/console.js", {"If-None-Match": '"0123456789abcdef"'})
        self.assertEqual(st, 200)
        self.assertEqual(data, read(os.path.join(UI_DIR, "console.js")))
        # Another file's tag does not match.
        _, hd_css, _ = self.get("/ui/console.css")
        self.assertNotEqual(hd_css["etag"], etag)

    def test_public_while_the_api_needs_a_key(self):
        st, _, _ = self.get("/v1/models")
        self.assertEqual(st, 401)
        st, _, _ = self.get("/metrics")
        self.assertEqual(st, 401)
        st, _, data = H.request(self.port, "GET", "/v1/models",
                                headers={"Authorization": "Bearer " + KEY})
        self.assertEqual(st, 200)
        self.assertIn("tiny-demo", json.loads(data)["models"][0]["name"])

    def test_other_names_are_refused(self):
        makefile = read(os.path.join(H.ROOT, "Makefile"))
        cases = {
            "/ui/nope.js": 404, "/ui/CONSOLE.JS": 404, "/ui/console.js/x": 404,
            "/ui/console.js.bak": 404, "/ui/index.html%20": 404, "/ui/../Makefile": 404,
            "/ui/../../etc/passwd": 404, "/ui/%2e%2e/Makefile": 404, "/ui": 404,
            "/ui/..": 400, "/ui/.": 400, "/ui/%2e%2e": 400, "/ui/%2e%2e%2fMakefile": 400,
            "/ui/..%2f..%2fetc%2fpasswd": 400, "/ui/console.js%00": 400,
            "/ui/%2fetc%2fpasswd": 400, "/ui/%zz": 400,
        }
        for path, want in cases.items():
            # With a key: what the router says. Paths outside the console's
            # routes need the key like every unknown path (401 without it).
            st, hd, data = self.get(path, {"Authorization": "Bearer " + KEY})
            self.assertEqual(st, want, path)
            st2, _, data2 = self.get(path)
            self.assertIn(st2, (want, 401), path)
            self.assertNotIn(makefile[:40], data2, path)
            self.assertEqual(hd.get("content-type"), "application/json", path)
            self.assertIn("error", json.loads(data), path)
            self.assertNotIn(makefile[:40], data, path)
            self.assertNotIn(b"root:", data, path)

    def test_only_get(self):
        st, hd, data = H.request(self.port, "POST", "/ui/console.js", body=b"x",
                                 headers={"Authorization": "Bearer " + KEY})
        self.assertEqual(st, 405)
        self.assertEqual(hd.get("allow"), "GET")

    def test_counted_under_endpoint_ui(self):
        self.get("/ui/console.css")
        # A request is counted when its connection completes, which may be
        # just after the client has read the answer: look a few times.
        n = 0
        for _ in range(40):
            st, _, data = H.request(self.port, "GET", "/metrics",
                                    headers={"Authorization": "Bearer " + KEY})
            self.assertEqual(st, 200)
            n = sum(v for name, lab, v in H.parse_metrics(data.decode())
                    if name == "convd_requests_total" and lab.get("endpoint") == "ui")
            if n >= 1:
                break
            time.sleep(0.05)
        self.assertGreaterEqual(n, 1)


class UiDisabledTests(unittest.TestCase):
    """ui_enabled=false: every console path is 404; the API is unchanged."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="convd-it-ui-off-")
        cls.srv = H.Server(H.models_dir(cls.tmp), config={"ui_enabled": False}).start()
        cls.port = cls.srv.port

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_disabled(self):
        for path in ["/", "/ui/"] + ["/ui/" + os.path.basename(p) for p in ui_files()]:
            st, hd, data = H.request(self.port, "GET", path)
            self.assertEqual(st, 404, path)
            self.assertEqual(json.loads(data)["error"]["message"],
                             "the web console is disabled (ui_enabled is false)")
            self.assertNotIn("content-security-policy", hd)
        st, _, _ = H.request(self.port, "GET", "/v1/models")
        self.assertEqual(st, 200)


if __name__ == "__main__":
    unittest.main()
