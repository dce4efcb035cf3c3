"""convd_fx_lowering.py — maps a traced, shape-annotated torch.fx graph to
convd ops: nn.Module leaves (call_module), torch / F / operator functions
(call_function) and tensor methods (call_method), through the _FUNCS and
_METHODS tables; _Converter.run walks the graph and returns the outputs.

It must not guess: a module, function or method it cannot map exactly raises
ConvertError naming the fx node, its target and the module path. It must not
write files, build model.json or fuse ops (convert.py / the loader do).
"""

import operator

import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F

from convd_errors import ConvertError
from convd_fx_custom import custom_lowering
from convd_fx_ops import _C, _Emitter, _T, _W, _args
from convd_fx_trace import _get_attr, _is_layernorm2d, _is_stochastic_depth


def _type_name(m):
    mod = type(m).__module__
    if mod.startswith("torch.nn.modules."):
        mod = "torch.nn"
    return "%s.%s" % (mod, type(m).__name__)


def _fn_name(t):
    if isinstance(t, str):
        return "." + t
    mod = getattr(t, "__module__", None) or ""
    name = getattr(t, "__name__", None) or repr(t)
    if mod in ("_operator", "operator"):
        mod = "operator"
    if not mod or mod.startswith("torch._C"):
        mod = "torch"
    return "%s.%s" % (mod, name)


class _Converter(_Emitter):
    """Lowers every node of the graph; the op emitters live in _Emitter."""

    # -- dispatch ------------------------------------------------------------

    def call_module(self, n, m):
        x = lambda: self.tensor(n.args[0])  # noqa: E731
        p = n.target
        custom = custom_lowering(m)
        if custom is not None:
            return custom(self, n, m)
        if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            if m.padding_mode != "zeros":
                self.fail("conv padding_mode %r (zeros only)" % m.padding_mode)
            return self.conv(x(), m.weight, m.bias, m.stride, m.padding,
                             m.dilation, m.groups, p + ".weight", p + ".bias")
        if isinstance(m, nn.Linear):
            return self.linear(x(), m.weight, m.bias, p + ".weight", p + ".bias")
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
            return self.batchnorm(x(), m.running_mean, m.running_var, m.weight,
                                  m.bias, m.eps, p)
        if _is_layernorm2d(m):
            return self.layernorm(x(), m.normalized_shape, m.weight, m.bias,
                                  m.eps, p, 1)
        if isinstance(m, nn.LayerNorm):
            return self.layernorm(x(), m.normalized_shape, m.weight, m.bias,
                                  m.eps, p, -1)
        simple = {nn.ReLU: "relu", nn.ReLU6: "relu6", nn.SiLU: "silu",
                  nn.Sigmoid: "sigmoid", nn.Hardswish: "hardswish",
                  nn.Hardsigmoid: "hardsigmoid", nn.Tanh: "tanh"}
        if type(m) in simple:
            return self.emit(simple[type(m)], [x()])
        if isinstance(m, nn.LeakyReLU):
            return self.emit("leaky_relu", [x()],
                             attrs={"alpha": float(m.negative_slope)})
        if isinstance(m, nn.GELU):
            return self.emit("gelu", [x()], attrs={"approximate": m.approximate})
        if isinstance(m, nn.Hardtanh):  # ReLU6 is caught above
            return self.clamp(x(), m.min_val, m.max_val)
        if isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)):
            if m.return_indices:
                self.fail("max pool with return_indices")
            return self.pool("maxpool", x(), m.kernel_size, m.stride, m.padding,
                             m.dilation, m.ceil_mode)
        if isinstance(m, (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)):
            return self.pool("avgpool", x(), m.kernel_size, m.stride, m.padding,
                             1, m.ceil_mode, m.count_include_pad,
                             getattr(m, "divisor_override", None))
        if isinstance(m, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d,
                          nn.AdaptiveAvgPool3d)):
            return self.adaptive(x())
        if isinstance(m, nn.Flatten):
            return self.flatten(x(), m.start_dim, m.end_dim)
        if isinstance(m, (nn.Dropout, nn.Dropout2d, nn.Dropout1d, nn.Identity,
                          nn.AlphaDropout)) or _is_stochastic_depth(m):
            return x()
        if isinstance(m, nn.Upsample):
            return self.upsample(x(), m.size, m.scale_factor, m.mode,
                                 m.align_corners)
        if isinstance(m, nn.Softmax):
            if m.dim is None:
                self.fail("softmax without dim")
            return self.emit("softmax", [x()],
                             attrs={"axis": self.axis(m.dim, len(x().shape))})
        if isinstance(m, (nn.ZeroPad2d, nn.ConstantPad1d, nn.ConstantPad2d,
                          nn.ConstantPad3d)):
            return self.pad(x(), list(m.padding), getattr(m, "value", 0.0))
        self.fail("unsupported module %s" % _type_name(m))

    def call_function(self, n, name):
        t = n.target
        a = n.args
        if "cd_const" in n.meta:  # shape arithmetic: sizes, ints, None
            shape_query = t is getattr and a[1] in ("shape", "ndim", "dtype", "device")
            return self.const(n, shape_query or t is len)
        h = _FUNCS.get(t)
        if h is None and name == "stochastic_depth":
            h = "stochastic_depth"
        if h is None:
            self.fail("unsupported function %s" % _fn_name(t))
        return self.dispatch(h, n, a)

    def const(self, n, shape_query):
        """A Python value computed while tracing. Allowed from constants and
        from tensor shapes; a value read from tensor data (x.max().item())
        would be frozen at the example input, so it is refused."""
        if not shape_query and any(isinstance(self.env.get(v), _T)
                                   for v in n.all_input_nodes):
            self.fail("%s computes a Python value from tensor data"
                      % _fn_name(n.target))
        return _C(n.meta["cd_const"])

    def call_method(self, n):
        if "cd_const" in n.meta:  # x.size(), x.dim() and the like
            return self.const(n, n.target in ("size", "dim", "numel", "ndimension",
                                              "nelement"))
        h = _METHODS.get(n.target)
        if h is None:
            self.fail("unsupported method .%s" % n.target)
        return self.dispatch(h, n, n.args)

    def dispatch(self, h, n, a):
        x = lambda: self.tensor(a[0])  # noqa: E731
        r = lambda: len(x().shape)  # noqa: E731
        if h in ("relu", "relu6", "silu", "sigmoid", "hardswish",
                 "hardsigmoid", "tanh"):
            return self.emit(h, [x()])
        if h == "leaky_relu":
            k = _args(n, ["input", "negative_slope"], {"negative_slope": 0.01})
            return self.emit("leaky_relu", [x()],
                             attrs={"alpha": float(k["negative_slope"])})
        if h == "gelu":
            k = _args(n, ["input"], {"approximate": "none"})
            return self.emit("gelu", [x()], attrs={"approximate": k["approximate"]})
        if h == "hardtanh":
            k = _args(n, ["input", "min_val", "max_val"],
                      {"min_val": -1.0, "max_val": 1.0})
            return self.clamp(x(), k["min_val"], k["max_val"])
        if h == "clamp":
            k = _args(n, ["input", "min", "max"], {"min": None, "max": None})
            if isinstance(k["min"], fx.Node) or isinstance(k["max"], fx.Node):
                self.fail("clamp with tensor bounds")
            return self.clamp(x(), k["min"], k["max"])
        if h in ("add", "sub", "mul", "div"):
            k = _args(n, ["input", "other"], {"alpha": 1})
            if k.get("rounding_mode") is not None:
                self.fail("div with rounding_mode")
            return self.binary(h, k["input"], k["other"], k["alpha"])
        if h == "rsub":
            k = _args(n, ["input", "other"], {"alpha": 1})
            return self.binary("sub", k["other"], k["input"], k["alpha"])
        if h == "flatten":
            k = _args(n, ["input", "start_dim", "end_dim"],
                      {"start_dim": 0, "end_dim": -1})
            return self.flatten(x(), k["start_dim"], k["end_dim"])
        if h in ("reshape", "unsqueeze", "squeeze"):
            return self.reshape_like(x())
        if h == "identity":
            return x()
        if h == "stochastic_depth":
            k = _args(n, ["input", "p", "mode", "training"], {"training": True})
            if k["training"] and k["p"] > 0:
                self.fail("stochastic_depth in training mode")
            return x()
        if h == "dropout":
            k = _args(n, ["input", "p", "training"], {"training": True})
            if k["training"] and k["p"] > 0:
                self.fail("dropout in training mode")
            return x()
        if h == "permute":
            if n.op == "call_method" and len(a) > 2 or (len(a) == 2 and isinstance(a[1], int)):
                perm = list(a[1:])
            else:
                perm = _args(n, ["input", "dims"])["dims"]
            return self.permute(x(), perm)
        if h == "transpose":
            k = _args(n, ["input", "dim0", "dim1"])
            rk = r()
            p = list(range(rk))
            d0, d1 = (int(k["dim0"]) % rk, int(k["dim1"]) % rk)
            p[d0], p[d1] = p[d1], p[d0]
            return self.permute(x(), p)
        if h == "mean":
            k = _args(n, ["input", "dim", "keepdim"], {"dim": None, "keepdim": False})
            return self.mean(x(), k["dim"], k["keepdim"])
        if h == "softmax":
            k = _args(n, ["input", "dim"], {"dim": None})
            if k["dim"] is None:
                self.fail("softmax without dim")
            return self.emit("softmax", [x()], attrs={"axis": self.axis(k["dim"], r())})
        if h == "cat":
            k = _args(n, ["tensors", "dim"], {"dim": 0})
            xs = [self.tensor(v) for v in k["tensors"]]
            if len(xs) == 1:
                return xs[0]
            return self.emit("concat", xs, attrs={"axis": self.axis(k["dim"], len(xs[0].shape))})
        if h in ("split", "chunk"):
            k = _args(n, ["input", "split_size_or_sections" if h == "split" else "chunks", "dim"],
                      {"dim": 0})
            return self.split(x(), None, k["dim"])
        if h == "getitem":
            return self.getitem(a[0], a[1])
        if h == "max_pool":
            k = _args(n, ["input", "kernel_size", "stride", "padding", "dilation",
                          "ceil_mode", "return_indices"],
                      {"stride": None, "padding": 0, "dilation": 1,
                       "ceil_mode": False, "return_indices": False})
            if k["return_indices"]:
                self.fail("max pool with return_indices")
            return self.pool("maxpool", x(), k["kernel_size"], k["stride"],
                             k["padding"], k["dilation"], k["ceil_mode"])
        if h == "avg_pool":
            k = _args(n, ["input", "kernel_size", "stride", "padding", "ceil_mode",
                          "count_include_pad", "divisor_override"],
                      {"stride": None, "padding": 0, "ceil_mode": False,
                       "count_include_pad": True, "divisor_override": None})
            return self.pool("avgpool", x(), k["kernel_size"], k["stride"],
                             k["padding"], 1, k["ceil_mode"],
                             k["count_include_pad"], k["divisor_override"])
        if h == "adaptive_avg_pool":
            return self.adaptive(x())
        if h == "interpolate":
            k = _args(n, ["input", "size", "scale_factor", "mode", "align_corners",
                          "recompute_scale_factor", "antialias"],
                      {"size": None, "scale_factor": None, "mode": "nearest",
                       "align_corners": None, "recompute_scale_factor": None,
                       "antialias": False})
            if k["antialias"]:
                self.fail("interpolate with antialias")
            return self.upsample(x(), k["size"], k["scale_factor"], k["mode"],
                                 k["align_corners"], k["recompute_scale_factor"])
        if h == "pad":
            k = _args(n, ["input", "pad", "mode", "value"],
                      {"mode": "constant", "value": None})
            if k["mode"] != "constant":
                self.fail("pad mode %r (constant only)" % k["mode"])
            return self.pad(x(), list(k["pad"]), k["value"] or 0.0)
        if h == "layer_norm":
            k = _args(n, ["input", "normalized_shape", "weight", "bias", "eps"],
                      {"weight": None, "bias": None, "eps": 1e-5})
            w, b = self.wtensor(k["weight"], "weight"), self.wtensor(k["bias"], "bias")
            shp = [self.val(v).value if isinstance(v, fx.Node) else v
                   for v in k["normalized_shape"]]
            return self.layernorm_w(x(), shp, w, b, k["eps"])
        if h == "batch_norm":
            k = _args(n, ["input", "running_mean", "running_var", "weight", "bias",
                          "training", "momentum", "eps"],
                      {"weight": None, "bias": None, "training": False, "eps": 1e-5})
            if k["training"]:
                self.fail("batch_norm in training mode")
            ws = [self.wtensor(k[s], s) for s in ("running_mean", "running_var",
                                                  "weight", "bias")]
            w = {}
            for slot, v in zip(("running_mean", "running_var", "weight", "bias"), ws):
                if v is not None:
                    w[slot] = self.weight(v.name, v.tensor)
            if len(w) != 4:
                self.fail("batch_norm without affine weights")
            return self.emit("batchnorm", [x()], w, {"eps": float(k["eps"])})
        if h in ("conv1d", "conv2d", "conv3d"):
            k = _args(n, ["input", "weight", "bias", "stride", "padding", "dilation",
                          "groups"], {"bias": None, "stride": 1, "padding": 0,
                                      "dilation": 1, "groups": 1})
            w, b = self.wtensor(k["weight"], "weight"), self.wtensor(k["bias"], "bias")
            return self.conv(x(), w.tensor, b.tensor if b else None, k["stride"],
                             k["padding"], k["dilation"], k["groups"], w.name,
                             b.name if b else None)
        if h == "linear":
            k = _args(n, ["input", "weight", "bias"], {"bias": None})
            w, b = self.wtensor(k["weight"], "weight"), self.wtensor(k["bias"], "bias")
            return self.linear(x(), w.tensor, b.tensor if b else None, w.name,
                               b.name if b else None)
        self.fail("unsupported %s" % h)

    def layernorm_w(self, x, shape, w, b, eps):
        if len(shape) != 1 or int(shape[0]) != x.shape[-1]:
            self.fail("layer norm over %r: only the last dim is supported"
                      % (tuple(shape),))
        ws = {}
        if w is not None:
            ws["weight"] = self.weight(w.name, w.tensor)
        if b is not None:
            ws["bias"] = self.weight(b.name, b.tensor)
        return self.emit("layernorm", [x], ws, {"eps": float(eps), "axis": -1})

    def run(self, input_name):
        out = None
        for n in self.gm.graph.nodes:
            self.cur, self.path = n, None
            if n.op == "placeholder":
                if out is not None or any(isinstance(v, _T) for v in self.env.values()):
                    self.fail("more than one input")
                self.used.add(input_name)
                self.env[n] = _T(input_name, n.meta["cd_shape"])
            elif n.op == "get_attr":
                t = _get_attr(self.gm, n.target)
                if isinstance(t, torch.Tensor):
                    self.env[n] = _W(n.target, t.detach())
                else:
                    self.env[n] = _C(t)
            elif n.op == "call_module":
                self.path = n.target
                self.env[n] = self.call_module(n, self.gm.get_submodule(n.target))
            elif n.op == "call_function":
                self.env[n] = self.call_function(n, getattr(n.target, "__name__", ""))
            elif n.op == "call_method":
                self.env[n] = self.call_method(n)
            elif n.op == "output":
                out = n.args[0]
        if out is None:
            raise ConvertError("traced graph has no output")
        flat = out if isinstance(out, (tuple, list)) else [out]
        outs = []
        for o in flat:
            v = self.env.get(o) if isinstance(o, fx.Node) else None
            if not isinstance(v, _T):
                raise ConvertError("model output %r is not an activation tensor" % (o,))
            if v.name == input_name:
                raise ConvertError("model output is the input itself")
            outs.append(v)
        return outs



def _register():
    funcs, methods = {}, {}
    table = {
        "relu": ["relu", "relu_"], "relu6": ["relu6"], "silu": ["silu"],
        "sigmoid": ["sigmoid"], "hardswish": ["hardswish"],
        "hardsigmoid": ["hardsigmoid"], "tanh": ["tanh"],
        "leaky_relu": ["leaky_relu"], "gelu": ["gelu"],
        "hardtanh": ["hardtanh"], "clamp": ["clamp", "clip"],
        "add": ["add", "iadd"], "sub": ["sub", "isub", "subtract"],
        "mul": ["mul", "imul", "multiply"],
        "div": ["div", "truediv", "itruediv", "divide", "true_divide"],
        "rsub": ["rsub"],
        "flatten": ["flatten"], "reshape": ["reshape", "view", "unsqueeze", "squeeze"],
        "identity": ["contiguous"], "dropout": ["dropout"],
        "permute": ["permute"], "transpose": ["transpose", "swapaxes"],
        "mean": ["mean"], "softmax": ["softmax"], "cat": ["cat", "concat"],
        "split": ["split"], "chunk": ["chunk"], "getitem": ["getitem"],
        "max_pool": ["max_pool1d", "max_pool2d", "max_pool3d"],
        "avg_pool": ["avg_pool1d", "avg_pool2d", "avg_pool3d"],
        "adaptive_avg_pool": ["adaptive_avg_pool1d", "adaptive_avg_pool2d",
                              "adaptive_avg_pool3d"],
        "interpolate": ["interpolate", "upsample"], "pad": ["pad"],
        "layer_norm": ["layer_norm"], "batch_norm": ["batch_norm"],
        "conv1d": ["conv1d"], "conv2d": ["conv2d"], "conv3d": ["conv3d"],
        "linear": ["linear"],
    }
    no_method = {"getitem", "interpolate", "max_pool", "avg_pool", "adaptive_avg_pool",
                 "layer_norm", "batch_norm", "conv1d", "conv2d", "conv3d", "linear",
                 "cat", "pad", "hardtanh", "leaky_relu", "gelu", "rsub"}
    for h, names in table.items():
        for nm in names:
            for ns in (torch, F, operator, torch.Tensor):
                f = getattr(ns, nm, None)
                if f is not None and callable(f) and ns is not torch.Tensor:
                    funcs[f] = h
            if h not in no_method and hasattr(torch.Tensor, nm):
                methods[nm] = h
            if h in ("relu", "sigmoid", "tanh", "clamp") and hasattr(torch.Tensor, nm + "_"):
                methods[nm + "_"] = h
    funcs[operator.getitem] = "getitem"
    return funcs, methods


_FUNCS, _METHODS = _register()
