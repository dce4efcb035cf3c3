"""test_socket_activation.py — systemd socket activation as convd.socket
does it: this test owns a listening socket and passes it as fd 3 with
LISTEN_FDS=1 and LISTEN_PID set to the daemon's pid. The daemon must serve
on it (not on its configured port), leave it listening when it stops so a
client that connects between two instances is answered by the next one,
and ignore fd 3 when LISTEN_PID names another process."""
import socket
import unittest

import deploy_harness as h

# Puts the passed descriptor at 3, then execs the daemon under its own pid
# with LISTEN_PID=$$ — what systemd does between fork and exec.
ACTIVATE = ('fd=$1; shift; [ "$fd" = 3 ] || eval "exec 3<&$fd $fd<&-"; '
            'export LISTEN_FDS=1 LISTEN_PID=$$; exec "$@"')


class SocketActivationTest(unittest.TestCase):
    def setUp(self):
        self.tmp = h.tmpdir(self, "convd-sockact-")
        self.models = h.tiny_models_dir(self.tmp)
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(16)
        self.addCleanup(self.lsock.close)
        self.port = self.lsock.getsockname()[1]
        self.config_port = h.free_port()

    def daemon_args(self):
        return [h.CONVD, "--models", self.models, "--host", "127.0.0.1",
                "--port", str(self.config_port), "--device", h.DEVICE,
                "--cache-dir", h.CACHE_DIR]

    def activated(self):
        fd = self.lsock.fileno()
        args = ["/bin/sh", "-c", ACTIVATE, "sh", str(fd)] + self.daemon_args()
        d = h.Daemon(self.tmp, args, h.base_env(), pass_fds=(fd,))
        self.addCleanup(d.kill)
        return d

    def test_serves_on_the_passed_socket_and_keeps_it_for_the_next_instance(self):
        d = self.activated()
        self.assertEqual(d.wait_listening(), self.port, d.stderr()[-3000:])
        st, body = h.classify(self.port, "tiny-demo", h.os.path.join(h.TINY, "sample.png"))
        self.assertEqual(st, 200, body)
        self.assertEqual(body["predictions"][0]["label"], "ship")
        # The configured port was never bound.
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", self.config_port), timeout=2).close()
        self.assertEqual(d.terminate(), 0)

        # Between instances the socket still listens: a client waits in the
        # backlog (as under systemd across a restart) ...
        waiting = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        self.addCleanup(waiting.close)
        waiting.sendall(b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        # ... and the next instance answers it.
        d2 = self.activated()
        self.assertEqual(d2.wait_listening(), self.port, d2.stderr()[-3000:])
        waiting.settimeout(20)
        got = b""
        while True:
            chunk = waiting.recv(4096)
            if not chunk:
                break
            got += chunk
        self.assertTrue(got.startswith(b"HTTP/1.1 200"), got[:200])
        self.assertEqual(d2.terminate(), 0)

    def test_fd_for_another_pid_is_ignored(self):
        fd = self.lsock.fileno()
        script = ACTIVATE.replace("LISTEN_PID=$$", "LISTEN_PID=1")
        args = ["/bin/sh", "-c", script, "sh", str(fd)] + self.daemon_args()
        d = h.Daemon(self.tmp, args, h.base_env(), pass_fds=(fd,))
        self.addCleanup(d.kill)
        self.assertEqual(d.wait_listening(), self.config_port, d.stderr()[-3000:])
        st, _ = h.request(self.config_port, "GET", "/v2/health/live", timeout=5)
        self.assertEqual(st, 200)
        self.assertEqual(d.terminate(), 0)

    def test_passed_fd_that_is_not_a_listening_socket_is_refused(self):
        # fd 3 is a plain file: a clear start failure, not a crash.
        path = h.os.path.join(self.tmp, "not-a-socket")
        with open(path, "w") as f:
            args = ["/bin/sh", "-c", ACTIVATE, "sh", str(f.fileno())] + self.daemon_args()
            d = h.Daemon(self.tmp, args, h.base_env(), pass_fds=(f.fileno(),))
        self.addCleanup(d.kill)
        self.assertEqual(d.proc.wait(timeout=h.START_TIMEOUT), 1)
        self.assertIn("fd 3 is not a listening stream socket", d.stderr())


if __name__ == "__main__":
    unittest.main()
