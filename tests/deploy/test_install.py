"""test_install.py — make install / make uninstall.

Layout: installed into a DESTDIR with PREFIX=/usr, every file lands where
docs/operations.md says, the paths written into installed files are the
final ones, an existing config is never overwritten, and uninstall leaves
nothing but a config the administrator changed.

Running: installed into a temporary PREFIX (no DESTDIR, so the installed
paths are real), the installed convd starts with the installed config
(whose models_dir names the installed zoo) from another directory and
answers the installed convd-classify client. Where this machine allows it
(root, mount namespaces) the daemon runs confined the way convd.service
confines it: the source tree's models/, config/, kernels/ and clients/
hidden, / read-only except the cache directory, /proc with only process
entries (ProcSubset=pid, ProtectProc=invisible), W+X memory refused
(prctl PR_SET_MDWE, the kernel's MemoryDenyWriteExecute), no HOME."""
import ctypes
import json
import os
import subprocess
import unittest

import deploy_harness as h

PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
HIDDEN = ("models", "config", "kernels", "clients")

# unshare -m: private mounts for the daemon only, then exec it (same pid).
CONFINE = r'''
set -e
cache=$1; shift
mount --bind "$cache" "$cache"
mount -t proc -o subset=pid,hidepid=invisible proc /proc
for d in $CONVD_HIDE; do mount -t tmpfs -o ro,size=4k,mode=0555 none "$d"; done
mount -o remount,bind,ro /
exec "$@"
'''


def set_mdwe():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_MDWE)")


def mdwe_supported():
    r = subprocess.run(["/usr/bin/python3", "-c",
                        "import ctypes; l = ctypes.CDLL(None); "
                        "raise SystemExit(l.prctl(%d, %d, 0, 0, 0) != 0)"
                        % (PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN)], timeout=20)
    return r.returncode == 0


def confinement_supported():
    r = subprocess.run(["unshare", "-m", "sh", "-c",
                        "mount -t tmpfs none /mnt && mount -o remount,bind,ro / && "
                        "mount -t proc -o subset=pid proc /proc"],
                       capture_output=True, timeout=20)
    return r.returncode == 0, r.stderr.decode(errors="replace").strip()


def files_under(root):
    out = set()
    for d, _, fs in os.walk(root):
        for f in fs:
            out.add(os.path.relpath(os.path.join(d, f), root))
    return out


class InstallLayoutTest(unittest.TestCase):
    def test_destdir_layout_config_kept_and_uninstall(self):
        dest = h.tmpdir(self, "convd-destdir-")
        r = h.make_install("install", "DESTDIR=" + dest, "PREFIX=/usr")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        files = files_under(dest)
        clients = sorted(os.path.basename(f)[:-3] for f in os.listdir(os.path.join(h.ROOT, "clients"))
                         if f.endswith(".sh") and f != "convd-client-lib.sh")
        for f in (["usr/sbin/convd", "usr/bin/convd-infer", "etc/convd/convd.json",
                   "usr/lib/systemd/system/convd.service", "usr/lib/systemd/system/convd.socket",
                   "usr/share/man/man8/convd.8", "usr/share/man/man1/convd-infer.1",
                   "usr/share/convd/convd-client-lib.sh",
                   "usr/share/convd/models/tiny-demo/model.json"] +
                  ["usr/bin/convd-" + c for c in clients]):
            self.assertIn(f, files)
        for c in ("classify", "segment", "cam", "audio"):
            self.assertIn(c, clients)
        for f in ["usr/sbin/convd", "usr/bin/convd-infer"] + ["usr/bin/convd-" + c for c in clients]:
            self.assertTrue(os.access(os.path.join(dest, f), os.X_OK), f)
        # Every shipped model, and nothing outside etc/ and usr/.
        shipped = {m for m in os.listdir(os.path.join(h.ROOT, "models"))
                   if os.path.isfile(os.path.join(h.ROOT, "models", m, "model.json"))}
        self.assertEqual(set(os.listdir(os.path.join(dest, "usr/share/convd/models"))) - {"README.md"},
                         shipped)
        self.assertEqual({f.split("/")[0] for f in files}, {"etc", "usr"})

        # Installed files name the final paths, never DESTDIR or the source tree.
        with open(os.path.join(dest, "etc/convd/convd.json")) as f:
            cfg = json.load(f)
        self.assertEqual(cfg["models_dir"], "/usr/share/convd/models")
        with open(os.path.join(dest, "usr/lib/systemd/system/convd.service")) as f:
            unit = f.read()
        self.assertIn("ExecStart=/usr/sbin/convd --config /etc/convd/convd.json", unit)
        for c in clients:
            with open(os.path.join(dest, "usr/bin/convd-" + c)) as f:
                text = f.read()
            self.assertIn('. "/usr/share/convd/convd-client-lib.sh"', text)
            # Usage lines and messages name the installed command.
            self.assertIn("convd-" + c, text)
            self.assertNotIn(c + ".sh", text)
        for f in files:
            p = os.path.join(dest, f)
            if os.path.getsize(p) < 1 << 20 and not f.endswith(".safetensors"):
                with open(p, "rb") as fh:
                    data = fh.read()
                self.assertNotIn(dest.encode(), data, f)
                self.assertNotIn(h.ROOT.encode() + b"/", data, f)

        # A changed config survives a re-install and an uninstall.
        conf = os.path.join(dest, "etc/convd/convd.json")
        with open(conf, "w") as f:
            json.dump(dict(cfg, port=9999), f)
        r = h.make_install("install", "DESTDIR=" + dest, "PREFIX=/usr")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("keeping existing", r.stdout)
        with open(conf) as f:
            self.assertEqual(json.load(f)["port"], 9999)
        r = h.make_install("uninstall", "DESTDIR=" + dest, "PREFIX=/usr")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(files_under(dest), {"etc/convd/convd.json"}, r.stdout)

        # An unchanged config goes with the rest.
        os.remove(conf)
        self.assertEqual(h.make_install("install", "DESTDIR=" + dest, "PREFIX=/usr").returncode, 0)
        r = h.make_install("uninstall", "DESTDIR=" + dest, "PREFIX=/usr")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(files_under(dest), set())

    def test_relative_locations_are_refused(self):
        dest = h.tmpdir(self, "convd-destdir-")
        r = h.make_install("install", "DESTDIR=" + dest, "PREFIX=usr")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("must be absolute", r.stderr)
        self.assertEqual(files_under(dest), set())


class InstalledDaemonTest(unittest.TestCase):
    def test_installed_daemon_serves_the_installed_zoo_to_the_installed_client(self):
        tmp = h.tmpdir(self, "convd-prefix-")
        prefix, etc = os.path.join(tmp, "usr"), os.path.join(tmp, "etc")
        r = h.make_install("install", "PREFIX=" + prefix, "SYSCONFDIR=" + etc)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        conf = os.path.join(etc, "convd", "convd.json")
        models = os.path.join(prefix, "share", "convd", "models")
        with open(conf) as f:
            self.assertEqual(json.load(f)["models_dir"], models)
        os.makedirs(h.CACHE_DIR, exist_ok=True)
        port = h.free_port()
        daemon = [os.path.join(prefix, "sbin", "convd"), "--config", conf,
                  "--port", str(port), "--device", h.DEVICE, "--cache-dir", h.CACHE_DIR]
        env = h.base_env()
        preexec, confined = None, []
        ok, why = confinement_supported()
        if ok:
            env["CONVD_HIDE"] = " ".join(os.path.join(h.ROOT, d) for d in HIDDEN)
            daemon = ["unshare", "-m", "/bin/sh", "-c", CONFINE, "sh", h.CACHE_DIR] + daemon
            confined.append("mounts")
            if mdwe_supported():
                preexec = set_mdwe
                confined.append("MDWE")
            else:
                print("\n  note: no prctl(PR_SET_MDWE) on this kernel; W+X not checked")
        else:
            print("\n  note: no mount namespace here (%s); running unconfined" % why)
        run_dir = h.tmpdir(self, "convd-cwd-")
        d = h.Daemon(run_dir, daemon, env, cwd=run_dir, preexec_fn=preexec)
        self.addCleanup(d.kill)
        self.assertEqual(d.wait_listening(), port)
        log = d.stderr()
        self.assertIn("models_dir=%s" % models, log)
        loaded = h.event_lines(log, "models_loaded")
        self.assertTrue(loaded and "failed=0" in loaded[0], log[-3000:])

        # The installed client, from outside the source tree, by its name.
        cenv = dict(h.base_env(), PATH=os.path.join(prefix, "bin") + ":/usr/bin:/bin",
                    CONVD_HOST="127.0.0.1:%d" % port, CONVD_URL="http://127.0.0.1:%d" % port)
        for model, sample, label in (("tiny-demo", "sample.png", "ship"),
                                     ("shapes-resnet", "test.png", "circle")):
            out = subprocess.run(["convd-classify", model, os.path.join(models, model, sample)],
                                 env=cenv, cwd=run_dir, capture_output=True, text=True, timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(json.loads(out.stdout)["predictions"][0]["label"], label)
        out = subprocess.run(["convd-classify", "no-such-model", os.path.join(models, "tiny-demo", "sample.png")],
                             env=cenv, cwd=run_dir, capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1)
        self.assertIn("404", out.stderr)
        self.assertEqual(d.terminate(), 0, d.stderr()[-3000:])
        if confined:
            print("\n  confined: %s" % ", ".join(confined))


class UnwritableCacheTest(unittest.TestCase):
    def test_unwritable_cache_dir_falls_back_to_pocls_default_and_says_so(self):
        # cache_dir below a regular file: unwritable even for root. POCL
        # cannot keep its kernels in cache_dir/pocl, so convd leaves POCL its
        # default ($XDG_CACHE_HOME/pocl here), logs why, and serves.
        tmp = h.tmpdir(self, "convd-cache-")
        blocker = os.path.join(tmp, "file")
        open(blocker, "w").close()
        port = h.free_port()
        os.makedirs(h.CACHE_DIR, exist_ok=True)
        env = h.base_env(XDG_CACHE_HOME=os.path.join(h.CACHE_DIR, "xdg"))
        d = h.Daemon(tmp, [h.CONVD, "--models", h.tiny_models_dir(tmp), "--port", str(port),
                           "--device", "cpu", "--cache-dir", os.path.join(blocker, "cache")], env)
        self.addCleanup(d.kill)
        self.assertEqual(d.wait_listening(), port)
        log = d.stderr()
        warn = h.event_lines(log, "pocl_cache_unwritable")
        self.assertTrue(warn, log)
        self.assertIn("path=%s/cache/pocl" % blocker, warn[0])
        self.assertIn("Not a directory", warn[0])
        self.assertIn("POCL keeps its default cache", warn[0])
        st, body = h.classify(port, "tiny-demo", os.path.join(h.TINY, "sample.png"))
        self.assertEqual(st, 200, body)
        self.assertTrue(os.path.isdir(os.path.join(h.CACHE_DIR, "xdg", "pocl")))
        self.assertEqual(d.terminate(), 0)

    def test_unwritable_pocl_cache_dir_is_named_in_the_log(self):
        # An explicit POCL_CACHE_DIR that cannot be written: POCL finds no
        # device; convd says why before loading, and keeps answering.
        tmp = h.tmpdir(self, "convd-cache-")
        blocker = os.path.join(tmp, "file")
        open(blocker, "w").close()
        port = h.free_port()
        env = h.base_env(POCL_CACHE_DIR=os.path.join(blocker, "pocl"))
        d = h.Daemon(tmp, [h.CONVD, "--models", h.tiny_models_dir(tmp), "--port", str(port),
                           "--device", "cpu", "--cache-dir", h.CACHE_DIR], env)
        self.addCleanup(d.kill)
        self.assertEqual(d.wait_listening(), port)
        log = d.stderr()
        warn = h.event_lines(log, "pocl_cache_unwritable")
        self.assertTrue(warn, log)
        self.assertIn("path=%s/pocl" % blocker, warn[0])
        self.assertIn("no OpenCL CPU device", warn[0])
        self.assertIn("no usable CPU device", "".join(h.event_lines(log, "model_load_failed")))
        st, body = h.request(port, "GET", "/v2/health/ready", timeout=5)
        self.assertEqual(st, 503, body)
        st, _ = h.request(port, "GET", "/v2/health/live", timeout=5)
        self.assertEqual(st, 200)
        self.assertEqual(d.terminate(), 0)


if __name__ == "__main__":
    unittest.main()
