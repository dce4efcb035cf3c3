"""deploy_harness.py — helpers for the deployment tests: a fake systemd
notification socket, a daemon started the way systemd starts it (by path,
with a chosen environment, optionally on a passed listening socket), bounded
HTTP calls and `make install` into a temporary place. Everything listens on
127.0.0.1 only and every wait has a deadline."""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get("BUILD_DIR", os.path.join(ROOT, "build")))
CONVD = os.path.join(BUILD, "convd")
DEVICE = os.environ.get("CONVD_DEVICE", "cpu")
TINY = os.path.join(ROOT, "models", "tiny-demo")
# Compiled OpenCL programs (and POCL's objects) shared by every test run.
CACHE_DIR = os.path.join(BUILD, "deploy-cache")
START_TIMEOUT = float(os.environ.get("CONVD_DEPLOY_START_TIMEOUT", "420"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(port, method, path, body=None, headers=None, timeout=20.0):
    """One bounded request on a fresh connection -> (status, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def classify(port, model, png_path, top=1):
    with open(png_path, "rb") as f:
        body = f.read()
    st, data = request(port, "POST", "/v1/models/%s/classify?top=%d" % (model, top),
                       body=body, headers={"Content-Type": "image/png"})
    return st, json.loads(data)


def tiny_models_dir(tmp):
    """A models folder holding a copy of the shipped tiny-demo."""
    d = os.path.join(tmp, "models")
    os.makedirs(d, exist_ok=True)
    shutil.copytree(TINY, os.path.join(d, "tiny-demo"))
    return d


def make_install(*args, timeout=300):
    """make install/uninstall ARGS with this test's build dir; -> CompletedProcess."""
    return subprocess.run(["make", "-s", "-C", ROOT, "B=" + BUILD] + list(args),
                          capture_output=True, text=True, timeout=timeout)


class NotifySocket:
    """A fake $NOTIFY_SOCKET: an AF_UNIX datagram socket read by a thread.
    messages: list of (monotonic time, text) in arrival order."""

    def __init__(self, tmp):
        self.path = os.path.join(tmp, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages = []
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while not self.done:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.messages.append((time.monotonic(), data.decode("utf-8", "replace")))

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def wait_for(self, field, timeout, after=0):
        """Waits for a message holding the line FIELD (e.g. "READY=1") among
        messages[after:]; returns its index, or None on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msgs = self.snapshot()
            for i in range(after, len(msgs)):
                if field in msgs[i][1].split("\n"):
                    return i
            time.sleep(0.02)
        return None

    def count(self, field, after=0):
        return sum(1 for _, m in self.snapshot()[after:] if field in m.split("\n"))

    def close(self):
        self.done = True
        self.thread.join(timeout=2)
        self.sock.close()


class Daemon:
    """A convd process with its stderr in a file. args: the whole command
    (binary first); env: the whole environment; pass_fds as for Popen."""

    def __init__(self, tmp, args, env, pass_fds=(), cwd=None, preexec_fn=None):
        self.tmp = tmp
        self.log_path = os.path.join(tmp, "convd.%d.log" % id(self))
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, env=env, cwd=cwd or tmp, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log, pass_fds=pass_fds,
                                     preexec_fn=preexec_fn)

    def stderr(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_listening(self, timeout=START_TIMEOUT):
        """Waits for the "listening" log line; returns the port it names."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.stderr().splitlines():
                if "event=listening" in line:
                    return int(line.rsplit("port=", 1)[1].split()[0])
            if self.proc.poll() is not None:
                raise RuntimeError("convd exited %d at start:\n%s" %
                                   (self.proc.returncode, self.stderr()[-4000:]))
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("convd not listening after %.0fs:\n%s" % (timeout, self.stderr()[-4000:]))

    def terminate(self, timeout=30):
        """SIGTERM, then wait; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        finally:
            self.log.close()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.close()


def base_env(**extra):
    """A service-like environment: no HOME cache, no inherited systemd vars."""
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": "/nonexistent"}
    env.update(extra)
    return env


def event_lines(log, event):
    return [l for l in log.splitlines() if "event=%s " % event in l + " "]


def tmpdir(test, prefix):
    d = tempfile.mkdtemp(prefix=prefix)
    test.addCleanup(shutil.rmtree, d, True)
    return d
