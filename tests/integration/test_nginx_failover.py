"""test_nginx_failover.py — scale-out behind Debian's nginx with the shipped
deploy/nginx/convd.conf: two build/convd instances and an nginx (its own
prefix, pid, temp and log paths under a temp dir; its upstream and listen
lines swapped for loopback ports) on 127.0.0.1. A bounded burst of classify
requests (300, 6 at a time) goes through nginx; after a third of them one
instance is SIGKILLed. Every request must get 200 with the label convd
gives for that image, both instances must have served part of the burst,
and model management must be refused at the balancer. Skipped when nginx is not installed (make deps installs it). Run
through run.sh."""
import concurrent.futures as cf
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import harness as H

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONF = os.path.join(H.ROOT, "deploy", "nginx", "convd.conf")
N_REQUESTS = 300
CONCURRENCY = 6
KILL_AFTER = 100



def site_config(upstream_ports, listen_port):
    """deploy/nginx/convd.conf with its instances and listen address
    replaced by loopback ones; everything else as shipped."""
    with open(CONF) as f:
        text = f.read()
    servers = re.findall(r"^\s*server 127\.0\.0\.1:\d+ (.*);$", text, re.M)
    assert servers, "no upstream server lines in " + CONF
    opts = servers[0]
    text, n = re.subn(r"^(\s*)server 127\.0\.0\.1:\d+ .*;\n", "", text, flags=re.M)
    assert n == len(servers)
    lines = "".join("    server 127.0.0.1:%d %s;\n" % (p, opts) for p in upstream_ports)
    text = text.replace("    keepalive", lines + "    keepalive", 1)
    text, n = re.subn(r"^(\s*)listen 8080;", r"\1listen 127.0.0.1:%d;" % listen_port,
                      text, flags=re.M)
    assert n == 1
    return text


def main_config(prefix, site):
    user = ""
    if os.geteuid() == 0:   # workers would drop to www-data and lose the temp dir
        user = "user %s;\n" % pwd.getpwuid(0).pw_name
    return """%sdaemon off;
worker_processes 2;
pid %s/nginx.pid;
error_log %s/error.log warn;
events { worker_connections 256; }
http {
    access_log %s/access.log;
    client_body_temp_path %s/body;
    proxy_temp_path %s/proxy;
    fastcgi_temp_path %s/fastcgi;
    uwsgi_temp_path %s/uwsgi;
    scgi_temp_path %s/scgi;
%s
}
""" % ((user,) + (prefix,) * 8 + (site,))


@unittest.skipUnless(os.access(NGINX, os.X_OK), "nginx not installed (make deps)")
class NginxFailoverTests(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="convd-it-nginx-")
        self.servers = []
        self.nginx = None

    def tearDown(self):
        if self.nginx and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait(5)
        for s in self.servers:
            s.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start_nginx(self, ports):
        prefix = os.path.join(self.tmp, "nginx")
        os.makedirs(prefix)
        listen = H.free_port()
        conf = os.path.join(prefix, "nginx.conf")
        with open(conf, "w") as f:
            f.write(main_config(prefix, site_config(ports, listen)))
        p = subprocess.run([NGINX, "-t", "-p", prefix, "-c", conf, "-e",
                            os.path.join(prefix, "error.log")], capture_output=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        self.nginx = subprocess.Popen([NGINX, "-p", prefix, "-c", conf, "-e",
                                       os.path.join(prefix, "error.log")],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            self.assertIsNone(self.nginx.poll(), "nginx exited")
            try:
                if H.request(listen, "GET", "/healthz", timeout=2)[0] == 200:
                    return listen
            except OSError:
                pass
            time.sleep(0.05)
        self.fail("nginx did not answer on port %d" % listen)

    def served(self, port):
        """classify requests answered 200 by the instance on port."""
        _, _, data = H.request(port, "GET", "/metrics")
        return sum(v for name, lab, v in H.parse_metrics(data.decode())
                   if name == "convd_requests_total" and lab.get("endpoint") == "classify"
                   and lab.get("code", lab.get("status")) == "200")

    def test_instance_killed_mid_burst(self):
        models = H.models_dir(self.tmp)
        for _ in range(2):
            # max_batch 1: only the batch size warmed up at load ever runs,
            # so no first-use kernel build stalls a request (this test is
            # about failover, not batching)
            s = H.Server(models, config={"max_batch": 1})
            self.servers.append(s)
            s.start(timeout=300)
        a, b = self.servers
        images = [H.png_encode(H.random_image(seed)) for seed in range(3)]
        want = []
        for img in images:    # the answer, asked of one instance directly
            st, _, data = H.classify(a.port, "tiny-demo", img, top=1)
            self.assertEqual(st, 200)
            want.append(json.loads(data)["predictions"][0]["label"])
        lb = self.start_nginx([a.port, b.port])

        done = 0
        lock = threading.Lock()
        killed = threading.Event()
        a_served = []

        def one(i):
            nonlocal done
            try:
                st, _, data = H.classify(lb, "tiny-demo", images[i % 3], top=1, timeout=60)
            except OSError as e:
                st, data = -1, str(e).encode()
            with lock:
                done += 1
                kill = done == KILL_AFTER
            if kill:
                a_served.append(self.served(a.port))
                a.proc.send_signal(signal.SIGKILL)
                killed.set()
            return i, st, data

        t0 = time.monotonic()
        with cf.ThreadPoolExecutor(CONCURRENCY) as ex:
            results = list(ex.map(one, range(N_REQUESTS), timeout=240))
        elapsed = time.monotonic() - t0
        self.assertTrue(killed.is_set())
        a.proc.wait(10)
        bad = []
        for i, st, data in results:
            label = None
            if st == 200:
                label = json.loads(data)["predictions"][0]["label"]
            if st != 200 or label != want[i % 3]:
                bad.append((i, st, data[:200]))
        self.assertEqual(bad, [], "%d of %d requests failed" % (len(bad), N_REQUESTS))
        # both instances took part: the kill hit a live member of the pool
        self.assertGreater(a_served[0], 0)
        self.assertGreater(self.served(b.port), N_REQUESTS - KILL_AFTER - 1)
        self.assertIsNone(self.nginx.poll())
        # model management is refused at the balancer, with convd's error shape
        st, _, data = H.request(lb, "POST", "/v2/repository/models/tiny-demo/unload")
        self.assertEqual(st, 403)
        self.assertEqual(json.loads(data)["error"]["code"], 403)
        st, _, _ = H.classify(b.port, "tiny-demo", images[0])
        self.assertEqual(st, 200)
        # nginx saw the dead instance fail (and so retried on the other one)
        with open(os.path.join(self.tmp, "nginx", "error.log"), errors="replace") as f:
            upstream_errors = [l for l in f if "127.0.0.1:%d" % a.port in l and
                               ("failed" in l or "prematurely" in l or "reset" in l)]
        self.assertTrue(upstream_errors, "no upstream error logged for the killed instance")
        print("\nnginx failover: %d requests in %.1f s, 0 failed; the killed instance had "
              "served %d, nginx logged %d upstream errors for it" %
              (N_REQUESTS, elapsed, a_served[0], len(upstream_errors)))


if __name__ == "__main__":
    unittest.main()
