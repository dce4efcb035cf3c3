"""test_convert.py — tests tools/convert.py: the folders it writes are valid
(model.json keys, safetensors header, weight shapes), running them with an
independent interpreter of docs/model-format.md reproduces PyTorch, and
unsupported ops fail with a clear message (API and CLI).

Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m unittest tests/tools/test_convert.py
It must not touch the network or anything outside a temporary directory.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import convert  # noqa: E402

torch.set_num_threads(1)

TOP_KEYS = {"format", "version", "name", "task", "weights", "inputs", "outputs",
            "labels", "cam_layer", "graph"}


# ------------------------------------------------- reference interpreter
# Written from docs/model-format.md, not from convert.py, so a mismatch in
# either shows up as a numeric difference against PyTorch.

def _sp(a, key, d, default):
    v = a.get(key, default)
    return [v] * d if isinstance(v, (int, float)) else list(v)


def _pads(a, d):
    p = a.get("padding", [0] * d)
    if isinstance(p, int):
        p = [p] * d
    if len(p) == d:
        p = list(p) + list(p)
    return p[:d], p[d:]


def _torch_pad(x, pb, pe, value=0.0):
    d = len(pb)
    flat = []
    for i in reversed(range(d)):
        flat += [pb[i], pe[i]]
    return F.pad(x, flat, value=value)


ACTS = {"relu": torch.relu, "relu6": F.relu6, "silu": F.silu,
        "sigmoid": torch.sigmoid, "hardswish": F.hardswish,
        "hardsigmoid": F.hardsigmoid, "tanh": torch.tanh}


def run_graph(model, weights, x):
    """Executes a model.json dict on input x (N, *shape) with torch ops."""
    vals = {model["inputs"][0]["name"]: x}
    pending = list(model["graph"])
    while pending:
        progress = False
        for nd in list(pending):
            if not all(i in vals for i in nd["inputs"]):
                continue
            ins = [vals[i] for i in nd["inputs"]]
            w = {k: torch.from_numpy(weights[v]) for k, v in nd.get("weights", {}).items()}
            vals[nd["name"]] = _op(nd["op"], ins, w, nd.get("attrs", {}))
            pending.remove(nd)
            progress = True
        if not progress:
            raise ValueError("dangling inputs or cycle: %s" % pending[0]["name"])
    return [vals[o] for o in model["outputs"]]


def _op(op, ins, w, a):
    x = ins[0]
    if op == "conv":
        d = x.dim() - 2
        pb, pe = _pads(a, d)
        xp = _torch_pad(x, pb, pe)
        f = [F.conv1d, F.conv2d, F.conv3d][d - 1]
        y = f(xp, w["weight"], w.get("bias"), _sp(a, "stride", d, 1), 0,
              _sp(a, "dilation", d, 1), a.get("groups", 1))
        assert "activation" not in a and "residual" not in a
        return y
    if op == "linear":
        return F.linear(x, w["weight"], w.get("bias"))
    if op == "batchnorm":
        return F.batch_norm(x, w["running_mean"], w["running_var"], w["weight"],
                            w["bias"], False, 0.0, a.get("eps", 1e-5))
    if op == "layernorm":
        axis = a.get("axis", 1)
        eps = a.get("eps", 1e-5)
        xt = x.movedim(1, -1) if axis == 1 else x
        y = F.layer_norm(xt, (xt.shape[-1],), w.get("weight"), w.get("bias"), eps)
        return y.movedim(-1, 1) if axis == 1 else y
    if op in ACTS:
        return ACTS[op](x)
    if op == "leaky_relu":
        return F.leaky_relu(x, a.get("alpha", 0.01))
    if op == "gelu":
        return F.gelu(x, approximate=a.get("approximate", "none"))
    if op == "clamp":
        return torch.clamp(x, a.get("min"), a.get("max"))
    if op in ("add", "sub", "mul", "div"):
        fn = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}[op]
        if len(ins) == 2:
            return fn(ins[0], ins[1])
        other = w["other"] if "other" in w else torch.tensor(float(a["scalar"]))
        return fn(other, x) if a.get("reverse") else fn(x, other)
    if op == "concat":
        return torch.cat(ins, a.get("axis", 1))
    if op == "slice":
        ax = a.get("axis", 1)
        idx = [slice(None)] * x.dim()
        idx[ax] = slice(a.get("start", 0), a.get("end"), a.get("step", 1))
        return x[tuple(idx)]
    if op == "flatten":
        return torch.flatten(x, a.get("start_dim", 1), a.get("end_dim", -1))
    if op == "reshape":
        return x.reshape([x.shape[0]] + list(a["shape"]))
    if op == "permute":
        assert a["perm"][0] == 0
        return x.permute(a["perm"])
    if op in ("maxpool", "avgpool"):
        d = x.dim() - 2
        k = _sp(a, "kernel", d, 1)
        s = _sp(a, "stride", d, 0) if "stride" in a else k
        pb, pe = _pads(a, d)
        assert pb == pe
        if op == "maxpool":
            f = [F.max_pool1d, F.max_pool2d, F.max_pool3d][d - 1]
            return f(x, k, s, pb, _sp(a, "dilation", d, 1), bool(a.get("ceil_mode", 0)))
        f = [F.avg_pool1d, F.avg_pool2d, F.avg_pool3d][d - 1]
        return f(x, k, s, pb, bool(a.get("ceil_mode", 0)),
                 bool(a.get("count_include_pad", 1)))
    if op == "adaptive_avgpool":
        f = {3: F.adaptive_avg_pool1d, 4: F.adaptive_avg_pool2d}[x.dim()]
        return f(x, a["output_size"])
    if op == "global_avgpool":
        return x.mean(dim=tuple(range(2, x.dim())), keepdim=True)
    if op == "upsample":
        mode = a.get("mode", "nearest")
        ac = bool(a.get("align_corners", 0)) if mode == "bilinear" else None
        if "size" in a:
            return F.interpolate(x, size=a["size"], mode=mode, align_corners=ac)
        return F.interpolate(x, scale_factor=a["scale"], mode=mode, align_corners=ac)
    if op == "softmax":
        return torch.softmax(x, a.get("axis", 1))
    if op == "pad":
        d = len(a["padding"]) // 2
        return _torch_pad(x, a["padding"][:d], a["padding"][d:], a.get("value", 0.0))
    if op in ("identity", "dropout"):
        return x
    raise ValueError("unknown op %s" % op)


def load_folder(path):
    with open(os.path.join(path, "model.json")) as f:
        model = json.load(f)
    weights, _ = convert.read_safetensors(os.path.join(path, model["weights"]))
    return model, weights


# ------------------------------------------------- test models

class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding="same", groups=2, bias=False)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 5)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = y + self.conv2(y)
        return self.fc(torch.flatten(self.pool(y), 1))


class ManyOps(nn.Module):
    """Exercises the less common mappings."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(4, 6, (3, 5), stride=(1, 2), padding=(2, 1), dilation=(2, 1))
        self.scale = nn.Parameter(torch.rand(6, 1, 1) + 0.5)
        self.ln = nn.LayerNorm(6)
        self.mp = nn.MaxPool2d(3, 2, 1, ceil_mode=True)
        self.ap = nn.AvgPool2d(2, 1, 1, count_include_pad=False)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.pad = nn.ZeroPad2d((1, 2, 0, 3))
        self.act = nn.Hardtanh(-0.5, 2.0)
        self.lrelu = nn.LeakyReLU(0.2)
        self.c1d = nn.Conv1d(8, 4, 3, padding=1)
        self.bn1d = nn.BatchNorm1d(4)
        self.sm = nn.Softmax(dim=1)

    def forward(self, x):
        y = self.c1(x) * self.scale
        y = self.ln(y.permute(0, 2, 3, 1)).permute(0, 3, 1, 2).contiguous()
        y = 1.0 - F.hardswish(y) / 2
        sp = torch.split(y, [2, 4], dim=1)
        a, b = sp[0], sp[1]
        c = y[:, 1:5:2]
        y = torch.cat([a * b[:, :2], c, self.lrelu(b)], 1)
        y = self.act(self.pad(self.ap(self.mp(y))))
        y = F.gelu(self.up(y), approximate="tanh") + F.interpolate(y, scale_factor=2.0)
        y = torch.sigmoid(y).transpose(2, 3)
        z = y.mean(dim=(-2, -1))
        s = y.reshape(y.size(0), 8, -1)
        s = self.bn1d(self.c1d(s)).flatten(1)
        return self.sm(torch.cat([z, s[:, :7]], 1)), F.silu(s).view(-1, 4, s.shape[1] // 4)


def _randomize(m, seed):
    g = torch.Generator().manual_seed(seed)
    for mod in m.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = mod.num_features
            mod.running_mean.copy_(torch.randn(c, generator=g) * 0.1)
            mod.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            mod.weight.data.copy_(torch.rand(c, generator=g) + 0.5)
            mod.bias.data.copy_(torch.randn(c, generator=g) * 0.1)
    return m


class TestConvert(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def check_equal(self, m, x, out):
        model, weights = load_folder(out)
        with torch.no_grad():
            ref = m(x)
            got = run_graph(model, weights, x)
        ref = ref if isinstance(ref, tuple) else (ref,)
        self.assertEqual(len(ref), len(got))
        for r, g in zip(ref, got):
            self.assertEqual(tuple(r.shape), tuple(g.shape))
            self.assertLess((r - g).abs().max().item(), 1e-5 * max(1.0, r.abs().max().item()))
        return model, weights

    def test_tiny_folder_valid(self):
        torch.manual_seed(0)
        m = _randomize(TinyNet(), 1).eval()
        x = torch.randn(1, 3, 16, 16)
        model = convert.convert(m, x, self.dir, name="tiny",
                                preprocess=convert.imagenet_preprocess(16, 16))
        with open(os.path.join(self.dir, "model.json")) as f:
            j = json.load(f)
        self.assertEqual(j, model)
        self.assertLessEqual(set(j), TOP_KEYS)
        for k in ("format", "version", "name", "task", "weights", "inputs", "outputs", "graph"):
            self.assertIn(k, j)
        self.assertEqual(j["format"], "convd-model")
        self.assertEqual(j["version"], 1)
        self.assertEqual(j["inputs"][0]["shape"], [3, 16, 16])
        self.assertEqual(j["labels"], ["class_%d" % i for i in range(5)])
        self.assertEqual(j["cam_layer"], "add")
        self.assertEqual(j["outputs"], ["fc"])
        names = [n["name"] for n in j["graph"]]
        self.assertEqual(len(names), len(set(names)))
        weights, meta = convert.read_safetensors(os.path.join(self.dir, "weights.safetensors"))
        self.assertEqual(weights["conv1.weight"].shape, (8, 3, 3, 3))
        self.assertEqual(weights["conv2.weight"].shape, (8, 4, 3, 3))
        self.assertEqual(weights["fc.weight"].shape, (5, 8))
        self.assertEqual(weights["bn1.running_var"].shape, (8,))
        self.assertNotIn("conv2.bias", weights)
        conv2 = [n for n in j["graph"] if n["name"] == "conv2"][0]
        self.assertEqual(conv2["attrs"]["padding"], [1, 1, 1, 1])
        self.assertEqual(conv2["attrs"]["groups"], 2)
        for nd in j["graph"]:
            for t in nd.get("weights", {}).values():
                self.assertIn(t, weights)
        with open(os.path.join(self.dir, "weights.safetensors"), "rb") as f:
            n = int.from_bytes(f.read(8), "little")
        self.assertEqual((8 + n) % 64, 0)
        self.check_equal(m, torch.randn(3, 3, 16, 16), self.dir)

    def test_many_ops_match_pytorch(self):
        torch.manual_seed(2)
        m = _randomize(ManyOps(), 3).eval()
        x = torch.randn(2, 4, 11, 13)
        model = convert.convert(m, x[:1], self.dir, name="many", task="other")
        ops = {n["op"] for n in model["graph"]}
        for op in ("conv", "mul", "layernorm", "permute", "sub", "div", "slice",
                   "concat", "maxpool", "avgpool", "pad", "clamp", "upsample",
                   "gelu", "sigmoid", "global_avgpool", "reshape", "batchnorm",
                   "softmax", "leaky_relu", "hardswish", "silu", "add", "flatten"):
            self.assertIn(op, ops)
        self.assertEqual(len(model["outputs"]), 2)
        self.check_equal(m, torch.randn(3, 4, 11, 13), self.dir)

    def test_torchvision_models_match_pytorch(self):
        for i, arch in enumerate(("resnet18", "mobilenet_v2", "convnext_tiny",
                                  "densenet121")):
            with self.subTest(arch=arch):
                m = convert.torchvision_model(arch, i, num_classes=10)
                out = os.path.join(self.dir, arch)
                model = convert.convert(m, torch.zeros(1, 3, 32, 32), out, name=arch,
                                        preprocess=convert.imagenet_preprocess(32, 32))
                self.assertEqual(model["inputs"][0]["preprocess"]["resize_to"], 37)
                self.assertIn("cam_layer", model)
                self.check_equal(m, torch.randn(2, 3, 32, 32), out)

    def test_f16_weights(self):
        torch.manual_seed(0)
        m = TinyNet().eval()
        convert.convert(m, torch.randn(1, 3, 8, 8), self.dir, dtype="F16")
        with open(os.path.join(self.dir, "weights.safetensors"), "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            header = json.loads(f.read(n))
        self.assertEqual(header["conv1.weight"]["dtype"], "F16")
        w, _ = convert.read_safetensors(os.path.join(self.dir, "weights.safetensors"))
        self.assertLess(abs(w["fc.weight"] - m.fc.weight.detach().numpy()).max(), 1e-3)

    def test_unsupported_module_message(self):
        m = nn.Sequential(nn.Conv2d(4, 4, 1), nn.Sequential(nn.ReLU(), nn.PixelShuffle(2)))
        with self.assertRaises(convert.ConvertError) as cm:
            convert.convert(m, torch.randn(1, 4, 4, 4), self.dir)
        msg = str(cm.exception)
        self.assertIn("unsupported module torch.nn.PixelShuffle at '1.1'", msg)
        self.assertIn("fx node '_1_1'", msg)

    def test_unsupported_function_message(self):
        class M(nn.Module):
            def forward(self, x):
                return torch.cumsum(x, 1)
        with self.assertRaises(convert.ConvertError) as cm:
            convert.convert(M(), torch.randn(1, 4), self.dir)
        self.assertIn("unsupported function torch.cumsum", str(cm.exception))
        self.assertIn("fx node 'cumsum'", str(cm.exception))

    def test_batch_moving_reshape_refused(self):
        class M(nn.Module):
            def forward(self, x):
                return x.permute(1, 0, 2) + x.reshape(-1)[: 1]
        with self.assertRaises(convert.ConvertError) as cm:
            convert.convert(M(), torch.randn(1, 2, 3), self.dir)
        self.assertIn("batch", str(cm.exception))

    def test_cli_unsupported_exits_nonzero(self):
        code = ("import sys, torch, torch.nn as nn; sys.path.insert(0, %r); "
                "import convert, torchvision; "
                "torchvision.models.pixnet = lambda weights=None, num_classes=10: "
                "nn.Sequential(nn.Conv2d(3, 12, 1), nn.PixelShuffle(2), "
                "nn.Flatten(), nn.LazyLinear(num_classes)); "
                "sys.exit(convert.main(sys.argv[1:]))" % os.path.join(ROOT, "tools"))
        r = subprocess.run([sys.executable, "-c", code, "--torchvision", "pixnet",
                            "--seed", "0", "--size", "8", "8", "--out", self.dir],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unsupported module torch.nn.PixelShuffle at '1'", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "model.json")))

    def test_cli_unknown_model(self):
        r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "convert.py"),
                            "--torchvision", "no_such_net", "--out", self.dir],
                           capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unknown torchvision model 'no_such_net'", r.stderr)

    def test_safetensors_reader_refuses_bad_files(self):
        p = os.path.join(self.dir, "w.safetensors")
        convert.write_safetensors(p, {"a": torch.ones(2, 3).numpy()})
        with open(p, "rb") as f:
            raw = f.read()
        for bad in (raw[:5], b"\x00" * 8 + raw[8:], (10 ** 9).to_bytes(8, "little") + raw[8:],
                    raw[:-4]):
            with open(p, "wb") as f:
                f.write(bad)
            with self.assertRaises(ValueError):
                convert.read_safetensors(p)


class TestCompareOutputs(unittest.TestCase):
    """tools/compare_outputs.py: tolerances, top-5 order, JSON handling."""

    def run_cmp(self, ref, got_json):
        import numpy as np
        with tempfile.TemporaryDirectory() as d:
            np.save(os.path.join(d, "e.npy"), ref.astype("<f4"))
            with open(os.path.join(d, "o.json"), "w") as f:
                f.write(got_json if isinstance(got_json, str) else json.dumps(got_json))
            r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "compare_outputs.py"),
                                os.path.join(d, "e.npy"), os.path.join(d, "o.json"),
                                "--name", "case"], capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout

    @staticmethod
    def js(arr):
        return {"outputs": {"fc": {"shape": list(arr.shape),
                                   "data": arr.reshape(-1).tolist()}}}

    def test_cases(self):
        import numpy as np
        rng = np.random.default_rng(0)
        ref = rng.standard_normal((2, 100)).astype(np.float32)
        rc, out = self.run_cmp(ref, self.js(ref + 1e-6))
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.count(" ok "), 2)
        self.assertIn("top5=same", out)
        bad = ref.copy()
        bad[1, 3] += 0.01
        rc, out = self.run_cmp(ref, self.js(bad))
        self.assertEqual(rc, 1)
        self.assertIn("case[1]: FAIL", out)
        tie = ref.copy()                     # two top values equal within tol
        top = np.argsort(-ref[0])[:2]
        tie[0, top[1]] = ref[0, top[0]]
        ref2 = tie.copy()
        tie[0, top[1]] += 1e-6
        rc, out = self.run_cmp(ref2, self.js(tie))
        self.assertEqual(rc, 0, out)
        swapped = ref.copy()                 # a real swap of the top two
        swapped[0, top[0]], swapped[0, top[1]] = ref[0, top[1]], ref[0, top[0]]
        rc, out = self.run_cmp(ref, self.js(swapped))
        self.assertEqual(rc, 1)
        rc, out = self.run_cmp(ref, self.js(ref[:1]))
        self.assertEqual(rc, 1)
        self.assertIn("shape", out)
        rc, out = self.run_cmp(ref, "{not json")
        self.assertEqual(rc, 1)
        nan = ref.copy()
        nan[0, 0] = np.nan
        rc, out = self.run_cmp(ref, json.dumps(self.js(nan)))
        self.assertEqual(rc, 1)


if __name__ == "__main__":
    unittest.main()
