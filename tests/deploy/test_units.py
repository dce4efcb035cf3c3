"""test_units.py — the shipped deployment files are valid for the tools that
read them: the systemd units as installed (`systemd-analyze verify`) and
their hardening score (`systemd-analyze security --offline=true`, at most
2.5), the Prometheus scrape config and alert rules (`promtool`), the
Kubernetes manifests (YAML that holds a Deployment with the probes,
resources and volumes the docs promise, a Service selecting it, and a
ConfigMap convd itself accepts) and the man pages (groff, no warnings)."""
import glob
import json
import os
import re
import shutil
import subprocess
import unittest

import deploy_harness as h

MAX_EXPOSURE = 2.5


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


class SystemdUnitsTest(unittest.TestCase):
    def setUp(self):
        if not shutil.which("systemd-analyze") or run(["systemd-analyze", "--version"]).returncode:
            self.skipTest("systemd-analyze cannot run here (install the systemd package: make deps)")

    def test_installed_units_verify(self):
        # verify checks that ExecStart's binary exists: use a real install.
        tmp = h.tmpdir(self, "convd-units-")
        prefix = os.path.join(tmp, "usr")
        r = h.make_install("install", "PREFIX=" + prefix, "SYSCONFDIR=" + os.path.join(tmp, "etc"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        unitdir = os.path.join(prefix, "lib", "systemd", "system")
        units = [os.path.join(unitdir, u) for u in ("convd.service", "convd.socket")]
        env = dict(os.environ, MANPATH=os.path.join(prefix, "share", "man"))
        args = ["systemd-analyze", "verify"]
        if not shutil.which("man"):
            print("\n  note: no man(1) here; Documentation=man:convd(8) not checked")
            args.append("--man=no")
        r = run(args + units, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stderr.strip(), "", r.stderr)
        # The installed units differ from the shipped ones only in paths.
        for u in ("convd.service", "convd.socket"):
            with open(os.path.join(h.ROOT, "systemd", u)) as f:
                src = f.read()
            with open(os.path.join(unitdir, u)) as f:
                inst = f.read()
            self.assertEqual(inst.replace(prefix, "/usr/local").replace(os.path.join(tmp, "etc"), "/etc"), src)

    def test_security_exposure_at_most_2_5(self):
        r = run(["systemd-analyze", "security", "--offline=true",
                 os.path.join(h.ROOT, "systemd", "convd.service")])
        m = re.search(r"Overall exposure level for convd\.service: ([0-9.]+)", r.stdout)
        self.assertIsNotNone(m, r.stdout + r.stderr)
        exposure = float(m.group(1))
        print("\n  exposure %.1f" % exposure)
        self.assertLessEqual(exposure, MAX_EXPOSURE, r.stdout)
        # The score quoted in the unit and the docs is the measured one.
        with open(os.path.join(h.ROOT, "systemd", "convd.service")) as f:
            self.assertIn("rates this unit %.1f" % exposure, f.read())
        with open(os.path.join(h.ROOT, "docs", "operations.md")) as f:
            self.assertIn("overall exposure **%.1f**" % exposure, f.read())

    def test_service_is_notify_with_watchdog_and_socket_matches_config(self):
        with open(os.path.join(h.ROOT, "systemd", "convd.service")) as f:
            unit = f.read()
        for line in ("Type=notify", "DynamicUser=yes", "CacheDirectory=convd",
                     "StateDirectory=convd", "MemoryDenyWriteExecute=yes", "ProcSubset=pid"):
            self.assertIn("\n" + line + "\n", unit)
        self.assertRegex(unit, r"\nWatchdogSec=\d+s\n")
        with open(os.path.join(h.ROOT, "systemd", "convd.socket")) as f:
            sock = f.read()
        with open(os.path.join(h.ROOT, "config", "convd.json")) as f:
            cfg = json.load(f)
        self.assertIn("\nListenStream=%s:%d\n" % (cfg["host"], cfg["port"]), sock)


class PrometheusTest(unittest.TestCase):
    def test_promtool_accepts_config_and_rules(self):
        if not shutil.which("promtool"):
            self.fail("promtool missing: it comes with the prometheus package (make deps)")
        conf = os.path.join(h.ROOT, "deploy", "prometheus", "prometheus.yml")
        r = run(["promtool", "check", "config", conf])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("SUCCESS", r.stdout + r.stderr)
        rules = os.path.join(h.ROOT, "deploy", "prometheus", "convd-alerts.yml")
        r = run(["promtool", "check", "rules", rules])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_rules_name_metrics_convd_exports(self):
        with open(os.path.join(h.ROOT, "deploy", "prometheus", "convd-alerts.yml")) as f:
            rules = f.read()
        with open(os.path.join(h.ROOT, "daemon", "server", "metrics.c")) as f:
            src = f.read()
        names = set(re.findall(r"\b(convd_[a-z_]+?)(?:_bucket)?\b", rules))
        self.assertTrue(names)
        for n in names:
            self.assertIn('"%s' % n, src, n)


class KubernetesTest(unittest.TestCase):
    def setUp(self):
        import yaml
        self.docs = []
        for p in sorted(glob.glob(os.path.join(h.ROOT, "deploy", "k8s", "*.yaml"))):
            with open(p) as f:
                self.docs += [(os.path.basename(p), d) for d in yaml.safe_load_all(f) if d]
        self.by_kind = {}
        for name, d in self.docs:
            self.assertIn("kind", d, name)
            self.by_kind.setdefault(d["kind"], []).append(d)

    def test_deployment_probes_resources_volumes(self):
        dep = self.by_kind["Deployment"][0]
        pod = dep["spec"]["template"]["spec"]
        c = pod["containers"][0]
        self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/v2/health/ready")
        self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/v2/health/live")
        for k in ("cpu", "memory"):
            self.assertIn(k, c["resources"]["requests"])
            self.assertIn(k, c["resources"]["limits"])
        mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
        vols = {v["name"]: v for v in pod["volumes"]}
        self.assertEqual(set(mounts), set(vols))
        cm_name = vols["config"]["configMap"]["name"]
        cms = [m for m in self.by_kind["ConfigMap"] if m["metadata"]["name"] == cm_name]
        self.assertEqual(len(cms), 1)
        cfg = json.loads(cms[0]["data"]["convd.json"])
        self.assertEqual(cfg["models_dir"], mounts["models"])
        self.assertEqual(cfg["cache_dir"], mounts["cache"])
        self.assertEqual(c["command"][-1], os.path.join(mounts["config"], "convd.json"))
        self.assertEqual(c["ports"][0]["containerPort"], cfg["port"])
        # The labels line up: Deployment selector, pod template, Service.
        labels = dep["spec"]["template"]["metadata"]["labels"]
        self.assertEqual(dep["spec"]["selector"]["matchLabels"], labels)
        svc = self.by_kind["Service"][0]
        self.assertEqual(svc["spec"]["selector"], labels)
        self.assertEqual(svc["spec"]["ports"][0]["targetPort"], c["ports"][0]["name"])

    def test_configmap_is_a_config_convd_accepts(self):
        cfg = self.by_kind["ConfigMap"][0]["data"]["convd.json"]
        tmp = h.tmpdir(self, "convd-k8s-")
        path = os.path.join(tmp, "convd.json")
        with open(path, "w") as f:
            f.write(cfg)
        # --help after a config file: the file is parsed and checked first.
        r = run([h.CONVD, "--config", path, "--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(path, "w") as f:
            f.write(cfg.replace('"threads"', '"thread_count"'))
        r = run([h.CONVD, "--config", path, "--help"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("thread_count", r.stderr)

    def test_kustomization_lists_every_manifest(self):
        kust = self.by_kind["Kustomization"][0]
        files = {n for n, d in self.docs if d["kind"] != "Kustomization"}
        self.assertEqual(set(kust["resources"]), files)


class ManPagesTest(unittest.TestCase):
    def test_man_pages_format_without_warnings(self):
        if not shutil.which("groff"):
            self.fail("groff missing (groff-base, make deps)")
        for page in ("convd.8", "convd-infer.1"):
            r = run(["groff", "-man", "-Tutf8", "-ww", "-z", os.path.join(h.ROOT, "man", page)],
                    env=dict(os.environ, LC_ALL="C"))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stderr, "", page)


if __name__ == "__main__":
    unittest.main()
