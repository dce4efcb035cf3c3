"""test_notify.py — the daemon's sd_notify messages, read from a fake
$NOTIFY_SOCKET (a datagram socket this test binds): READY=1 only once the
models are loaded and the socket answers, STOPPING=1 on SIGTERM, RELOADING=1
then READY=1 on SIGHUP, WATCHDOG=1 at half of $WATCHDOG_USEC and never
without it, and nothing at all when the start fails."""
import os
import re
import signal
import time
import unittest

import deploy_harness as h


class NotifyTest(unittest.TestCase):
    def start(self, tmp, models, **env):
        self.notify = h.NotifySocket(tmp)
        self.addCleanup(self.notify.close)
        args = [h.CONVD, "--models", models, "--host", "127.0.0.1", "--port", "0",
                "--device", h.DEVICE, "--cache-dir", h.CACHE_DIR]
        d = h.Daemon(tmp, args, h.base_env(NOTIFY_SOCKET=self.notify.path, **env))
        self.addCleanup(d.kill)
        return d

    def test_ready_after_models_loaded_then_stopping_on_sigterm(self):
        tmp = h.tmpdir(self, "convd-notify-")
        d = self.start(tmp, h.tiny_models_dir(tmp))
        i_ready = self.notify.wait_for("READY=1", h.START_TIMEOUT)
        self.assertIsNotNone(i_ready, "no READY=1:\n" + d.stderr()[-3000:])
        # At READY the models are loaded and the socket answers at once.
        port = d.wait_listening(timeout=5)
        st, _ = h.request(port, "GET", "/v2/health/ready", timeout=5)
        self.assertEqual(st, 200)
        st, _ = h.request(port, "GET", "/v2/models/tiny-demo/ready", timeout=5)
        self.assertEqual(st, 200)
        log = d.stderr()
        self.assertTrue(h.event_lines(log, "models_loaded"), log)
        self.assertIn("ready=1 failed=0", h.event_lines(log, "models_loaded")[0])
        ready_msg = self.notify.snapshot()[i_ready][1]
        self.assertIn("STATUS=serving 1 models (0 failed to load)", ready_msg)
        # Nothing before READY claimed readiness; no watchdog was asked for.
        self.assertEqual(self.notify.count("READY=1"), 1)
        self.assertEqual(self.notify.count("WATCHDOG=1"), 0)

        self.assertEqual(d.terminate(), 0)
        i_stop = self.notify.wait_for("STOPPING=1", 5)
        self.assertIsNotNone(i_stop, "no STOPPING=1:\n" + d.stderr()[-3000:])
        self.assertGreater(i_stop, i_ready)
        self.assertEqual(self.notify.count("READY=1", after=i_stop), 0)

    def test_reload_sends_reloading_then_ready(self):
        tmp = h.tmpdir(self, "convd-notify-")
        d = self.start(tmp, h.tiny_models_dir(tmp))
        i_ready = self.notify.wait_for("READY=1", h.START_TIMEOUT)
        self.assertIsNotNone(i_ready, d.stderr()[-3000:])
        d.proc.send_signal(signal.SIGHUP)
        i_rel = self.notify.wait_for("RELOADING=1", 30, after=i_ready + 1)
        self.assertIsNotNone(i_rel, d.stderr()[-3000:])
        i_again = self.notify.wait_for("READY=1", 120, after=i_rel + 1)
        self.assertIsNotNone(i_again, "no READY=1 after the reload:\n" + d.stderr()[-3000:])
        self.assertEqual(d.terminate(), 0)

    def test_watchdog_pings_at_half_the_interval(self):
        tmp = h.tmpdir(self, "convd-notify-")
        usec = 400000
        d = self.start(tmp, h.tiny_models_dir(tmp), WATCHDOG_USEC=str(usec))
        i_ready = self.notify.wait_for("READY=1", h.START_TIMEOUT)
        self.assertIsNotNone(i_ready, d.stderr()[-3000:])
        self.assertIn("WATCHDOG_USEC=%d" % usec, self.notify.snapshot()[i_ready][1])
        time.sleep(1.5)
        msgs = self.notify.snapshot()
        pings = [t for t, m in msgs[i_ready + 1:] if "WATCHDOG=1" in m.split("\n")]
        # One every 0.2 s: about 7 in 1.5 s; the main loop ticks every 50 ms.
        self.assertGreaterEqual(len(pings), 5, msgs)
        self.assertLessEqual(len(pings), 9, msgs)
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        self.assertLess(max(gaps), usec / 1e6, gaps)
        self.assertIn("interval_ms=400", "".join(h.event_lines(d.stderr(), "watchdog")))
        # A reload may compile for minutes: the deadline is pushed out by 10
        # minutes with RELOADING=1 and restored with the next READY=1.
        d.proc.send_signal(signal.SIGHUP)
        i_rel = self.notify.wait_for("RELOADING=1", 30, after=i_ready + 1)
        self.assertIsNotNone(i_rel, d.stderr()[-3000:])
        self.assertIn("WATCHDOG_USEC=%d" % (usec + 600000000), self.notify.snapshot()[i_rel][1])
        i_again = self.notify.wait_for("READY=1", 120, after=i_rel + 1)
        self.assertIsNotNone(i_again, d.stderr()[-3000:])
        self.assertIn("WATCHDOG_USEC=%d" % usec, self.notify.snapshot()[i_again][1])
        self.assertEqual(d.terminate(), 0)

    def test_watchdog_for_another_pid_is_ignored(self):
        tmp = h.tmpdir(self, "convd-notify-")
        d = self.start(tmp, h.tiny_models_dir(tmp), WATCHDOG_USEC="200000",
                       WATCHDOG_PID=str(os.getpid()))
        i_ready = self.notify.wait_for("READY=1", h.START_TIMEOUT)
        self.assertIsNotNone(i_ready, d.stderr()[-3000:])
        time.sleep(0.6)
        self.assertEqual(self.notify.count("WATCHDOG=1"), 0, self.notify.snapshot())
        self.assertEqual(d.terminate(), 0)

    def test_failed_start_never_reports_ready(self):
        tmp = h.tmpdir(self, "convd-notify-")
        d = self.start(tmp, os.path.join(tmp, "no-such-models-dir"))
        rc = d.proc.wait(timeout=60)
        self.assertNotEqual(rc, 0)
        self.assertTrue(re.search(r"event=start_failed", d.stderr()), d.stderr())
        time.sleep(0.2)
        self.assertEqual(self.notify.count("READY=1"), 0, self.notify.snapshot())


if __name__ == "__main__":
    unittest.main()
