#!/usr/bin/python3
"""soak.py — overload soak of convd: measures the daemon's saturated
throughput X on a CPU-heavy classifier, then offers 2X requests per second
(open loop: a request is sent on schedule whether or not earlier ones were
answered) for --seconds, re-measuring X every 5 s as the rate of 200 answers
(the machine may be shared), and checks what an overloaded server must do:

  * every answer is 200 or 503, and every 503 carries Retry-After;
  * the p99 latency of accepted (200) requests is within timeout_ms;
  * RSS grows less than 5% between the end of the first fifth of the run
    (minute 1 of a 5-minute run) and the end;
  * the number of open file descriptors (/proc/PID/fd) does not grow.

Bounded: --seconds and --max-requests; the daemon it starts (BUILD/convd on
an ephemeral loopback port, a temporary model folder) is always stopped.
Prints one JSON summary line; exits 1 if a check fails.
  bench/soak.py --build build --seconds 300        (the full run: make soak)
  bench/soak.py --build build --seconds 45         (make check's short run)"""
import argparse
import http.client
import json
import os
import queue
import shutil
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))


def proc_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def proc_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class Client:
    """One keep-alive connection, reopened after errors or Connection: close."""

    def __init__(self, port, path, body, timeout):
        self.port, self.path, self.body, self.timeout = port, path, body, timeout
        self.conn = None

    def post(self):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=self.timeout)
            try:
                self.conn.request("POST", self.path, body=self.body,
                                  headers={"Content-Type": "image/png"})
                r = self.conn.getresponse()
                data = r.read()
                if (r.getheader("Connection") or "").lower() == "close":
                    self.close()
                return r.status, r.getheader("Retry-After"), data
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError) as e:
                self.close()
                if attempt == 1:   # a kept-alive socket closed under us: once
                    raise e
        raise RuntimeError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def saturate(port, path, body, seconds, clients):
    """Closed loop with `clients` concurrent clients -> 200 answers per second."""
    stop = time.monotonic() + seconds
    ok = [0] * clients

    def run(i):
        c = Client(port, path, body, 60)
        while time.monotonic() < stop:
            st, _, _ = c.post()
            ok[i] += st == 200
        c.close()
    ts = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(ok) / (time.monotonic() - t0)


ADAPT_S = 5.0   # seconds between re-measurements of the daemon's capacity


def open_loop(port, path, body, rate, factor, seconds, max_requests, workers,
              timeout_s, pid):
    """Offers `rate` requests/s for `seconds`; -> (records, samples)."""
    jobs = queue.Queue()
    records, lock = [], threading.Lock()
    samples = []    # (t, rss_kib, fds)

    def worker():
        c = Client(port, path, body, timeout_s + 30)
        while True:
            t_sched = jobs.get()
            if t_sched is None:
                break
            t0 = time.monotonic()
            try:
                st, retry, _ = c.post()
                err = None
            except Exception as e:   # recorded: counts as a failure
                st, retry, err = 0, None, repr(e)
            rec = (t_sched, t0, time.monotonic(), st, retry, err)
            with lock:
                records.append(rec)
        c.close()
    ts = [threading.Thread(target=worker, daemon=True) for _ in range(workers)]
    for t in ts:
        t.start()
    start = time.monotonic()
    n, next_sample, next_adapt, due = 0, start, start + ADAPT_S, start
    rates = [rate]
    while n < max_requests:
        now = time.monotonic()
        if now - start >= seconds:
            break
        if now >= next_sample:
            samples.append((now - start, proc_rss_kib(pid), proc_fds(pid)))
            next_sample += 1.0
        if now >= next_adapt:
            # the 200 rate while overloaded is the daemon's capacity right
            # now (the machine may be shared): keep offering factor x that
            with lock:
                ok = sum(1 for r in records if r[3] == 200 and r[2] >= now - ADAPT_S)
            if ok:
                rate = max(rates[0] / 4, factor * ok / ADAPT_S)
                rates.append(rate)
            next_adapt += ADAPT_S
        if due > now:
            time.sleep(min(due - now, 0.01))
            continue
        jobs.put(due)
        due += 1.0 / rate
        n += 1
    samples.append((time.monotonic() - start, proc_rss_kib(pid), proc_fds(pid)))
    for _ in ts:
        jobs.put(None)
    for t in ts:
        t.join(timeout_s + 60)
    return records, samples, n, rates


def percentile(xs, p):
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--max-requests", type=int, default=200000)
    ap.add_argument("--factor", type=float, default=2.0, help="offered load / saturated")
    ap.add_argument("--timeout-ms", type=int, default=2000, help="the daemon's timeout_ms")
    ap.add_argument("--max-queue", type=int, default=16)
    ap.add_argument("--workers", type=int, default=96, help="client threads")
    ap.add_argument("--device", default=os.environ.get("CONVD_DEVICE", "cpu"))
    a = ap.parse_args()
    os.environ["BUILD_DIR"] = os.path.abspath(a.build)
    os.environ["CONVD_DEVICE"] = a.device
    import harness as H   # reads BUILD_DIR and CONVD_DEVICE at import

    tmp = tempfile.mkdtemp(prefix="convd-soak-")
    srv = None
    try:
        models = os.path.join(tmp, "models")
        # ~0.3 GFLOP per image: the daemon, not the Python client, saturates
        H.make_slow_model(os.path.join(models, "soak"), name="soak", size=96, ch=32,
                          n_conv=3)
        srv = H.Server(models, config={
            "timeout_ms": a.timeout_ms, "max_queue": a.max_queue, "max_batch": 8,
            "max_delay_us": 2000, "threads": 4, "max_connections": 1024,
            "max_connections_per_ip": 0, "log_level": "warn"})
        srv.start(timeout=240)
        pid = srv.proc.pid
        path = "/v1/models/soak/classify?top=1"
        body = H.png_encode(H.random_image(11))
        saturate(srv.port, path, body, 2.0, 8)           # warm-up
        x = saturate(srv.port, path, body, min(10.0, max(4.0, a.seconds / 10)), 32)
        rate = max(1.0, a.factor * x)
        time.sleep(1.0)
        fds0 = proc_fds(pid)
        t_mark = a.seconds / 5.0   # "minute 1" of a 5-minute run
        records, samples, offered, rates = open_loop(
            srv.port, path, body, rate, a.factor, a.seconds, a.max_requests, a.workers,
            a.timeout_ms / 1000.0, pid)
        time.sleep(2.0)
        fds1 = proc_fds(pid)
        alive = srv.proc.poll() is None
        rc_stop = srv.stop()
    finally:
        if srv is not None:
            srv.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)

    statuses = {}
    for r in records:
        statuses[r[3]] = statuses.get(r[3], 0) + 1
    lat_ok = [r[2] - r[1] for r in records if r[3] == 200]
    lag = [r[1] - r[0] for r in records]
    no_retry = sum(1 for r in records if r[3] == 503 and not r[4])
    errors = [r[5] for r in records if r[5]][:5]
    rss_mark = next((s[1] for s in samples if s[0] >= t_mark), samples[0][1])
    rss_end = samples[-1][1]
    growth = (rss_end - rss_mark) / float(rss_mark) if rss_mark else 0.0
    p99 = percentile(lat_ok, 99)
    summary = {
        "saturated_rps_closed_loop": round(x, 1),
        "offered_rps": round(offered / a.seconds, 1),
        "offered_rps_steps": [round(r, 1) for r in rates],
        "seconds": a.seconds, "requests": len(records), "offered": offered,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "answered_200_rps": round(statuses.get(200, 0) / a.seconds, 1),
        "p50_ms_200": round(percentile(lat_ok, 50) * 1e3, 1),
        "p99_ms_200": round(p99 * 1e3, 1), "timeout_ms": a.timeout_ms,
        "client_lag_p99_ms": round(percentile(lag, 99) * 1e3, 1),
        "rss_kib_mark": rss_mark, "rss_kib_end": rss_end,
        "rss_growth_pct": round(100 * growth, 2),
        "fds_before": fds0, "fds_after": fds1,
        "retry_after_missing": no_retry, "client_errors": errors,
        "daemon_alive": alive, "exit_code": rc_stop,
    }
    fails = []
    if set(statuses) - {200, 503}:
        fails.append("answers other than 200/503: %s" % statuses)
    if no_retry:
        fails.append("%d answers 503 without Retry-After" % no_retry)
    overload = offered / max(1, statuses.get(200, 0))
    summary["offered_per_200"] = round(overload, 2)
    if statuses.get(200, 0) == 0 or statuses.get(503, 0) == 0 or overload < 1.5:
        fails.append("not overloaded: need both 200 and 503 answers (%s)" % statuses)
    if p99 > a.timeout_ms / 1000.0:
        fails.append("p99 of accepted requests %.0f ms > timeout %d ms" %
                     (p99 * 1e3, a.timeout_ms))
    if growth >= 0.05:
        fails.append("RSS grew %.1f%% after the first fifth" % (100 * growth))
    if fds1 > fds0 + 2:
        fails.append("file descriptors grew from %d to %d" % (fds0, fds1))
    if not alive or rc_stop != 0:
        fails.append("daemon died or exited %s" % rc_stop)
    summary["result"] = "ok" if not fails else "FAILED: " + "; ".join(fails)
    print(json.dumps(summary))
    return 0 if not fails else 1


if __name__ == "__main__":
    sys.exit(main())
