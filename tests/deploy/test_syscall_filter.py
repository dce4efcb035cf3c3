"""test_syscall_filter.py — convd.service's SystemCallFilter and
MemoryDenyWriteExecute hold for what convd really does. The daemon is traced
with strace -f through a cold start (POCL compiles kernels and runs its
linker), a classification and a SIGTERM shutdown; every system call made
must be in the unit's allow list (@system-service, expanded by
systemd-analyze, minus @privileged), and no memory may be mapped or turned
writable-and-executable or made executable later (mprotect with PROT_EXEC)."""
import os
import re
import shutil
import subprocess
import unittest

import deploy_harness as h


def expand(group, seen=None):
    """systemd-analyze syscall-filter GROUP -> set of syscall names."""
    seen = set() if seen is None else seen
    out = subprocess.run(["systemd-analyze", "syscall-filter", group], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    names = set()
    for line in out.splitlines()[1:]:
        tok = line.strip().split()[0] if line.strip() else ""
        if not tok or tok.startswith("#"):
            continue
        if tok.startswith("@"):
            if tok not in seen:
                seen.add(tok)
                names |= expand(tok, seen)
        else:
            names.add(tok)
    return names


class SyscallFilterTest(unittest.TestCase):
    def test_traced_cold_start_stays_inside_the_units_filter(self):
        for tool in ("strace", "systemd-analyze"):
            if not shutil.which(tool):
                self.skipTest("%s missing (make deps installs it)" % tool)
        probe = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "true"],
                               capture_output=True, text=True, timeout=30)
        if probe.returncode != 0:
            self.skipTest("strace cannot trace here (ptrace refused): " + probe.stderr.strip()[:200])
        with open(os.path.join(h.ROOT, "systemd", "convd.service")) as f:
            unit = f.read()
        self.assertIn("\nSystemCallFilter=@system-service\nSystemCallFilter=~@privileged\n", unit)
        self.assertIn("\nMemoryDenyWriteExecute=yes\n", unit)
        allowed = expand("@system-service") - expand("@privileged")

        tmp = h.tmpdir(self, "convd-strace-")
        trace = os.path.join(tmp, "trace")
        port = h.free_port()
        # A fresh cache: POCL compiles (and links) every kernel it uses.
        args = ["strace", "-f", "-qq", "-o", trace, h.CONVD, "--models", h.tiny_models_dir(tmp),
                "--port", str(port), "--device", "cpu", "--cache-dir", os.path.join(tmp, "cache")]
        d = h.Daemon(tmp, args, h.base_env())
        self.addCleanup(d.kill)
        self.assertEqual(d.wait_listening(), port)
        st, body = h.classify(port, "tiny-demo", os.path.join(h.TINY, "sample.png"))
        self.assertEqual(st, 200, body)
        pid = int(re.search(r"event=starting .* pid=(\d+)", d.stderr()).group(1))
        os.kill(pid, 15)   # the daemon, not strace
        self.assertEqual(d.proc.wait(timeout=60), 0, d.stderr()[-3000:])
        d.log.close()

        used, wx, exec_later, execs = set(), [], [], 0
        call = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z_0-9]+)[( ]")
        with open(trace, errors="replace") as f:
            for line in f:
                m = call.match(line)
                if not m:
                    continue
                name = m.group(1)
                used.add(name)
                if name in ("mmap", "mprotect", "pkey_mprotect"):
                    prot = re.search(r"PROT_[A-Z_|]+", line)
                    flags = prot.group(0).split("|") if prot else []
                    if "PROT_EXEC" in flags and "PROT_WRITE" in flags:
                        wx.append(line.strip())
                    if name != "mmap" and "PROT_EXEC" in flags:
                        exec_later.append(line.strip())
                if name == "execve":
                    execs += 1
        outside = sorted(used - allowed)
        print("\n  %d distinct system calls, %d execve calls (POCL runs the linker)" % (len(used), execs))
        self.assertGreater(len(used), 20)
        self.assertGreater(execs, 1, "a cold start runs POCL's linker")
        self.assertEqual(outside, [], "system calls outside the unit's filter")
        self.assertEqual(wx, [], "W+X memory")
        self.assertEqual(exec_later, [], "memory made executable after mapping")


if __name__ == "__main__":
    unittest.main()
