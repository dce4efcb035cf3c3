#!/usr/bin/python3
"""convert.py — turns a PyTorch nn.Module into a convd model folder
(model.json + weights.safetensors, docs/model-format.md) by tracing it with
torch.fx and mapping every node to a convd op.

It must not guess: a module, function or method it cannot map exactly raises
ConvertError naming the fx node, its target and the module path, and the CLI
exits non-zero with that message. It never runs the daemon or fuses ops (the
loader does that).

Usage: tools/convert.py --torchvision NAME --seed S --size H W --out DIR
                        [--num-classes K] [--dtype F32|F16] [--name N]
"""

import argparse
import json
import math
import operator
import os
import re
import struct
import sys

import numpy as np
import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


class ConvertError(Exception):
    """A model that convd cannot represent exactly; the message says why."""


# ---------------------------------------------------------------- safetensors

_NP_DTYPE = {"F32": "<f4", "F16": "<f2"}


def write_safetensors(path, tensors, dtype="F32", metadata=None):
    """Writes {name: array} as safetensors: tensors sorted by name, stored
    back to back, data area 64-byte aligned (header padded with spaces)."""
    if dtype not in _NP_DTYPE:
        raise ConvertError("unsupported weight dtype %r (F32 or F16)" % dtype)
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(np.asarray(tensors[name], dtype=np.float32))
        raw = arr.astype(_NP_DTYPE[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": [int(d) for d in arr.shape],
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = dict(metadata or {"format": "pt"})
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((-(8 + len(hj))) % 64)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Reads and validates a safetensors file; returns ({name: ndarray
    float32}, metadata). Raises ValueError naming the fault."""
    sizes = {"F32": 4, "F16": 2, "BF16": 2}
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError("%s: shorter than 8 bytes" % path)
    (n,) = struct.unpack("<Q", buf[:8])
    if n == 0 or 8 + n > len(buf):
        raise ValueError("%s: bad header length %d" % (path, n))
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    data = buf[8 + n:]
    meta = header.pop("__metadata__", {})
    out, spans = {}, []
    for name, e in header.items():
        dt, shape, (b, end) = e["dtype"], e["shape"], e["data_offsets"]
        if dt not in sizes:
            raise ValueError("%s: tensor %s: unknown dtype %s" % (path, name, dt))
        if any((not isinstance(d, int)) or d < 0 for d in shape):
            raise ValueError("%s: tensor %s: bad shape" % (path, name))
        if not 0 <= b <= end <= len(data):
            raise ValueError("%s: tensor %s: bad offsets" % (path, name))
        if int(np.prod(shape, dtype=np.int64)) * sizes[dt] != end - b:
            raise ValueError("%s: tensor %s: size mismatch" % (path, name))
        spans.append((b, end, name))
        raw = data[b:end]
        if dt == "BF16":
            u = np.frombuffer(raw, "<u2").astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(raw, {"F32": "<f4", "F16": "<f2"}[dt])
        out[name] = arr.astype(np.float32).reshape(shape)
    spans.sort()
    for (b0, e0, n0), (b1, _, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise ValueError("%s: tensors %s and %s overlap" % (path, n0, n1))
    return out, meta


# ---------------------------------------------------------------- tracing


def _is_stochastic_depth(m):
    return type(m).__name__ == "StochasticDepth"


def _is_layernorm2d(m):
    return (type(m).__name__ == "LayerNorm2d" and isinstance(m, nn.LayerNorm)
            and type(m).__module__.startswith("torchvision")
            and len(m.normalized_shape) == 1)


class _Tracer(fx.Tracer):
    """Standard leaves plus torchvision's StochasticDepth and LayerNorm2d."""

    def is_leaf_module(self, m, qualname):
        if _is_stochastic_depth(m) or _is_layernorm2d(m):
            return True
        return super().is_leaf_module(m, qualname)


class _Prop(fx.Interpreter):
    """Runs the traced module once and records each node's result kind:
    'cd_shape' (tuple) for tensors, 'cd_shapes' for tuples of tensors,
    'cd_const' for anything else (sizes, ints)."""

    def run_node(self, n):
        r = super().run_node(n)
        if isinstance(r, torch.Tensor):
            n.meta["cd_shape"] = tuple(int(d) for d in r.shape)
        elif isinstance(r, (tuple, list)) and r and all(
                isinstance(t, torch.Tensor) for t in r):
            n.meta["cd_shapes"] = [tuple(int(d) for d in t.shape) for t in r]
        else:
            n.meta["cd_const"] = r
        return r


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


def _tuple(v, d):
    if isinstance(v, (list, tuple)):
        if len(v) == 1:
            return [int(v[0])] * d
        if len(v) != d:
            raise ConvertError("expected %d values, got %r" % (d, v))
        return [int(x) for x in v]
    return [int(v)] * d


def _args(node, names, defaults=None):
    """Positional + keyword arguments of an fx call as a dict by name."""
    out = dict(defaults or {})
    for k, v in zip(names, node.args):
        out[k] = v
    for k, v in node.kwargs.items():
        out[k] = v
    return out


class _T:
    """An activation value: convd value name and traced shape (with batch)."""

    def __init__(self, name, shape):
        self.name, self.shape = name, shape


class _W:
    """A constant tensor (get_attr) used as a weight operand."""

    def __init__(self, name, tensor):
        self.name, self.tensor = name, tensor


class _Split:
    """A tuple of tensors from split/chunk: source value, axis, bounds."""

    def __init__(self, src, axis, bounds):
        self.src, self.axis, self.bounds = src, axis, bounds


class _C:
    """A Python constant (sizes, numbers) computed while tracing."""

    def __init__(self, value):
        self.value = value


class _Converter:
    def __init__(self, gm, batch):
        self.gm = gm
        self.batch = batch
        self.nodes = []
        self.weights = {}
        self.used = set()
        self.env = {}
        self.cur = None       # fx node being converted (for messages)
        self.path = None      # module path of the current node, if any

    # -- helpers -------------------------------------------------------------

    def fail(self, what):
        n = self.cur
        where = " at '%s'" % self.path if self.path else ""
        raise ConvertError("%s%s (fx node '%s')" % (what, where, n.name))

    def uname(self, base):
        s = re.sub(r"[^A-Za-z0-9_.-]", "_", base) or "node"
        name, k = s, 1
        while name in self.used:
            name = "%s_%d" % (s, k)
            k += 1
        self.used.add(name)
        return name

    def weight(self, name, t):
        t = t.detach().to(torch.float32).cpu().contiguous().numpy()
        if name in self.weights:
            if self.weights[name].shape != t.shape or not np.array_equal(
                    self.weights[name], t):
                self.fail("two different tensors named '%s'" % name)
        self.weights[name] = t
        return name

    def emit(self, op, inputs, weights=None, attrs=None, shape=None, name=None):
        node = {"name": self.uname(name or self.cur.name), "op": op,
                "inputs": [i.name for i in inputs]}
        if weights:
            node["weights"] = weights
        if attrs:
            node["attrs"] = attrs
        self.nodes.append(node)
        return _T(node["name"], shape if shape is not None else self.out_shape())

    def out_shape(self):
        s = self.cur.meta.get("cd_shape")
        if s is None:
            self.fail("no tensor result")
        return s

    def val(self, a):
        if isinstance(a, fx.Node):
            return self.env[a]
        return _C(a)

    def tensor(self, a, what="input"):
        v = self.val(a)
        if not isinstance(v, _T):
            self.fail("%s must be an activation tensor, got %s" % (what, type(v).__name__.strip("_")))
        return v

    def wtensor(self, a, what):
        if a is None:
            return None
        v = self.val(a)
        if isinstance(v, _W):
            return v
        self.fail("%s must be a constant parameter" % what)

    def axis(self, d, rank, what="dim"):
        d = int(d)
        if d < 0:
            d += rank
        if not 0 <= d < rank:
            self.fail("%s %d out of range for rank %d" % (what, d, rank))
        if d == 0:
            self.fail("%s 0 is the batch dimension, which convd keeps" % what)
        return d

    # -- ops -----------------------------------------------------------------

    def conv(self, x, weight, bias, stride, padding, dilation, groups, wname, bname):
        d = weight.dim() - 2
        if not 1 <= d <= 3:
            self.fail("conv with %d spatial dims" % d)
        k = list(weight.shape[2:])
        stride, dilation = _tuple(stride, d), _tuple(dilation, d)
        if isinstance(padding, str):
            if padding == "valid":
                pb = pe = [0] * d
            elif padding == "same":
                tot = [dl * (kk - 1) for dl, kk in zip(dilation, k)]
                pb = [t // 2 for t in tot]
                pe = [t - b for t, b in zip(tot, pb)]
            else:
                self.fail("conv padding %r" % padding)
        else:
            pb = pe = _tuple(padding, d)
        w = {"weight": self.weight(wname, weight)}
        if bias is not None:
            w["bias"] = self.weight(bname, bias)
        attrs = {"stride": stride, "padding": pb + pe, "dilation": dilation,
                 "groups": int(groups)}
        return self.emit("conv", [x], w, attrs)

    def linear(self, x, weight, bias, wname, bname):
        w = {"weight": self.weight(wname, weight)}
        if bias is not None:
            w["bias"] = self.weight(bname, bias)
        return self.emit("linear", [x], w)

    def batchnorm(self, x, mean, var, weight, bias, eps, base):
        if mean is None or var is None:
            self.fail("batch norm without running statistics")
        c = mean.shape[0]
        if weight is None:
            weight = torch.ones(c)
        if bias is None:
            bias = torch.zeros(c)
        w = {"weight": self.weight(base + ".weight", weight),
             "bias": self.weight(base + ".bias", bias),
             "running_mean": self.weight(base + ".running_mean", mean),
             "running_var": self.weight(base + ".running_var", var)}
        return self.emit("batchnorm", [x], w, {"eps": float(eps)})

    def layernorm(self, x, shape, weight, bias, eps, base, axis):
        if axis == -1:
            if len(shape) != 1 or int(shape[0]) != x.shape[-1]:
                self.fail("layer norm over %r: only the last dim is supported"
                          % (tuple(shape),))
        w = {}
        if weight is not None:
            w["weight"] = self.weight(base + ".weight", weight)
        if bias is not None:
            w["bias"] = self.weight(base + ".bias", bias)
        return self.emit("layernorm", [x], w, {"eps": float(eps), "axis": axis})

    def pool(self, op, x, kernel, stride, padding, dilation, ceil_mode,
             count_include_pad=True, divisor_override=None):
        d = len(x.shape) - 2
        if not 1 <= d <= 3:
            self.fail("pool on rank %d" % len(x.shape))
        if divisor_override is not None:
            self.fail("avg pool divisor_override is not supported")
        k = _tuple(kernel, d)
        s = k if stride is None or stride == [] or stride == () else _tuple(stride, d)
        p = _tuple(padding, d)
        attrs = {"kernel": k, "stride": s, "padding": p + p,
                 "ceil_mode": int(bool(ceil_mode))}
        if op == "maxpool":
            attrs["dilation"] = _tuple(dilation, d)
        else:
            attrs["count_include_pad"] = int(bool(count_include_pad))
        return self.emit(op, [x], attrs=attrs)

    def adaptive(self, x):
        out = self.out_shape()
        if all(v == 1 for v in out[2:]):
            return self.emit("global_avgpool", [x])
        return self.emit("adaptive_avgpool", [x],
                         attrs={"output_size": list(out[2:])})

    def upsample(self, x, size, scale, mode, align_corners, recompute=None):
        if mode not in ("nearest", "bilinear"):
            self.fail("upsample mode %r (nearest or bilinear only)" % mode)
        if len(x.shape) != 4:
            self.fail("upsample on rank %d (4-D only)" % len(x.shape))
        attrs = {"mode": mode}
        if scale is not None and not recompute:
            attrs["scale"] = [float(v) for v in
                              (scale if isinstance(scale, (list, tuple))
                               else [scale] * 2)]
        else:
            attrs["size"] = list(self.out_shape()[2:])
        if mode == "bilinear":
            attrs["align_corners"] = int(bool(align_corners))
        return self.emit("upsample", [x], attrs=attrs)

    def pad(self, x, pad, value):
        if len(pad) % 2 or not pad:
            self.fail("pad list %r" % (pad,))
        d = len(pad) // 2
        if d > len(x.shape) - 1:
            self.fail("padding the batch dimension")
        pb = [int(pad[2 * (d - 1 - i)]) for i in range(d)]
        pe = [int(pad[2 * (d - 1 - i) + 1]) for i in range(d)]
        if min(pb + pe) < 0:
            self.fail("negative padding (cropping) is not supported")
        attrs = {"padding": pb + pe}
        if value:
            attrs["value"] = float(value)
        return self.emit("pad", [x], attrs=attrs)

    def clamp(self, x, lo, hi):
        attrs = {}
        if lo is not None:
            attrs["min"] = float(lo)
        if hi is not None:
            attrs["max"] = float(hi)
        return self.emit("clamp", [x], attrs=attrs)

    def binary(self, op, a, b, alpha=1):
        if alpha != 1:
            self.fail("%s with alpha != 1" % op)
        va, vb = self.val(a), self.val(b)
        if isinstance(va, _T) and isinstance(vb, _T):
            return self.emit(op, [va, vb])
        if isinstance(va, _T) or isinstance(vb, _T):
            x, other, rev = (va, vb, 0) if isinstance(va, _T) else (vb, va, 1)
            if isinstance(other, _W) and other.tensor.numel() == 1:
                other = _C(float(other.tensor.reshape(-1)[0]))
            attrs = {"reverse": rev} if rev else {}
            if isinstance(other, _W):
                t = other.tensor
                if t.dim() > len(x.shape) or (t.dim() == len(x.shape) and t.shape[0] != 1):
                    self.fail("weight operand of shape %s would broadcast over "
                              "the batch" % (tuple(t.shape),))
                return self.emit(op, [x], {"other": self.weight(other.name, t)},
                                 attrs or None)
            if isinstance(other.value, (int, float)) and not isinstance(other.value, bool):
                if not math.isfinite(float(other.value)):
                    self.fail("non-finite scalar operand")
                attrs["scalar"] = float(other.value)
                return self.emit(op, [x], attrs=attrs)
            self.fail("%s with a %s operand" % (op, type(other.value).__name__))
        self.fail("%s without an activation operand" % op)

    def reshape_like(self, x):
        out = self.out_shape()
        if out[0] != x.shape[0]:
            self.fail("reshape to %s moves the batch dimension" % (out,))
        return self.emit("reshape", [x], attrs={"shape": list(out[1:])})

    def flatten(self, x, start, end):
        r = len(x.shape)
        start = self.axis(start, r, "flatten start_dim")
        end = int(end) + r if int(end) < 0 else int(end)
        if end < start or end >= r:
            self.fail("flatten end_dim %d" % end)
        return self.emit("flatten", [x], attrs={"start_dim": start, "end_dim": end})

    def permute(self, x, perm):
        r = len(x.shape)
        p = [int(v) + r if int(v) < 0 else int(v) for v in perm]
        if sorted(p) != list(range(r)):
            self.fail("permute %r is not a permutation of rank %d" % (perm, r))
        if p[0] != 0:
            self.fail("permute %r moves the batch dimension" % (perm,))
        if p == list(range(r)):
            return x
        return self.emit("permute", [x], attrs={"perm": p})

    def mean(self, x, dims, keepdim):
        r = len(x.shape)
        if isinstance(dims, int):
            dims = [dims]
        ds = sorted(int(d) + r if int(d) < 0 else int(d) for d in (dims or []))
        if r < 3 or ds != list(range(2, r)):
            self.fail("mean over dims %r (only all spatial dims -> "
                      "global_avgpool)" % (dims,))
        if keepdim:
            return self.emit("global_avgpool", [x])
        shp = tuple(x.shape[:2]) + (1,) * (r - 2)
        p = self.emit("global_avgpool", [x], shape=shp, name=self.cur.name + "_pool")
        return self.emit("flatten", [p], attrs={"start_dim": 1, "end_dim": -1})

    def split(self, x, size_or_sections, dim, chunks=None):
        r = len(x.shape)
        ax = self.axis(dim, r)
        shapes = self.cur.meta.get("cd_shapes")
        if shapes is None:
            self.fail("split without tensor results")
        bounds, s = [], 0
        for shp in shapes:
            bounds.append((s, s + shp[ax]))
            s += shp[ax]
        return _Split(x, ax, bounds)

    def getitem(self, src, idx):
        v = self.val(src)
        if isinstance(v, _Split):
            b, e = v.bounds[int(idx)]
            return self.emit("slice", [v.src], attrs={"axis": v.axis,
                                                      "start": b, "end": e})
        if isinstance(v, _C):
            return _C(self.cur.meta.get("cd_const"))
        if isinstance(v, _T):
            return self.index(v, idx)
        self.fail("indexing a %s" % type(v).__name__)

    def index(self, x, idx):
        if not isinstance(idx, tuple):
            idx = (idx,)
        r = len(x.shape)
        if Ellipsis in idx:
            k = idx.index(Ellipsis)
            idx = idx[:k] + (slice(None),) * (r - len(idx) + 1) + idx[k + 1:]
        if len(idx) > r or any(not isinstance(i, slice) for i in idx):
            self.fail("tensor indexing %r (only slices)" % (idx,))
        if idx and idx[0] != slice(None):
            self.fail("indexing the batch dimension")
        cur, base = x, self.cur.name
        todo = [(a, s) for a, s in enumerate(idx) if s != slice(None)]
        for k, (a, s) in enumerate(todo):
            if any(isinstance(v, fx.Node) for v in (s.start, s.stop, s.step)):
                self.fail("slice bounds computed at run time")
            if s.step is not None and s.step <= 0:
                self.fail("slice step %r" % s.step)
            shp = list(cur.shape)
            shp[a] = len(range(*s.indices(shp[a])))
            attrs = {"axis": a}
            if s.start is not None:
                attrs["start"] = int(s.start)
            if s.stop is not None:
                attrs["end"] = int(s.stop)
            if s.step not in (None, 1):
                attrs["step"] = int(s.step)
            last = k == len(todo) - 1
            cur = self.emit("slice", [cur], attrs=attrs, shape=tuple(shp),
                            name=base if last else "%s_%d" % (base, a))
        return cur

    # -- dispatch ------------------------------------------------------------

    def call_module(self, n, m):
        x = lambda: self.tensor(n.args[0])  # noqa: E731
        p = n.target
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


def _get_attr(root, target):
    obj = root
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


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


# ---------------------------------------------------------------- model folder


def imagenet_preprocess(h, w, resize="shorter_center_crop"):
    """The torchvision evaluation transform: shorter side to round(H*256/224),
    centre crop H x W, ImageNet mean/std."""
    p = {"kind": "image", "size": [int(h), int(w)], "resize": resize}
    if resize == "shorter_center_crop":
        p["resize_to"] = int(round(h * 256 / 224))
    p.update({"color": "rgb", "scale": 255.0, "mean": list(IMAGENET_MEAN),
              "std": list(IMAGENET_STD)})
    return p


def _dump_json(model):
    """model.json: one top-level key per line, one graph node per line."""
    c = lambda v: json.dumps(v, separators=(", ", ": "))  # noqa: E731
    lines = ['  "%s": %s' % (k, c(v)) for k, v in model.items() if k != "graph"]
    nodes = ",\n    ".join(c(nd) for nd in model["graph"])
    lines.append('  "graph": [\n    ' + nodes + "\n  ]")
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _trace(module):
    tracer = _Tracer()
    graph = tracer.trace(module)
    return fx.GraphModule(tracer.root, graph)


def convert(module, example_input, out_dir, name=None, task="classification",
            labels=None, preprocess=None, cam_layer=None, dtype="F32"):
    """Converts module (traced with example_input, shape (N, *sample)) into
    out_dir/model.json + out_dir/weights.safetensors. Returns the model.json
    dict. Raises ConvertError for anything convd cannot represent."""
    if not isinstance(example_input, torch.Tensor) or example_input.dim() < 2:
        raise ConvertError("example_input must be a tensor (N, *sample_shape)")
    if dtype not in _NP_DTYPE:
        raise ConvertError("unsupported weight dtype %r (F32 or F16)" % dtype)
    name = name or type(module).__name__.lower()
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", name):
        raise ConvertError("model name %r: 1-64 chars of [A-Za-z0-9._-]" % name)
    module = module.eval()
    try:
        gm = _trace(module)
    except Exception as e:  # fx raises many kinds (TraceError, TypeError...)
        raise ConvertError("torch.fx could not trace %s: %s"
                           % (type(module).__name__, e)) from e
    x = example_input.detach().to(torch.float32)
    xb = torch.cat([x[:1], x[:1]]) if x.shape[0] == 1 else x  # batch >= 2
    try:
        with torch.no_grad():
            _Prop(gm).run(xb)
    except Exception as e:
        raise ConvertError("running the traced %s on a batch of %d failed: %s"
                           % (type(module).__name__, xb.shape[0], e)) from e
    conv = _Converter(gm, xb.shape[0])
    outs = conv.run("input")
    used = set()
    for nd in conv.nodes:
        used.update(nd.get("weights", {}).values())
    weights = {k: v for k, v in conv.weights.items() if k in used}
    if cam_layer is None:
        pools = [nd for nd in conv.nodes if nd["op"] == "global_avgpool"]
        if pools:
            cam_layer = pools[-1]["inputs"][0]
            if cam_layer == "input":
                cam_layer = None
    elif cam_layer not in conv.used:
        raise ConvertError("cam_layer %r names no value (values: %s...)"
                           % (cam_layer, ", ".join(sorted(conv.used)[:8])))
    model = {"format": "convd-model", "version": 1, "name": name, "task": task,
             "weights": "weights.safetensors"}
    inp = {"name": "input", "shape": [int(d) for d in x.shape[1:]]}
    if preprocess:
        inp["preprocess"] = preprocess
    model["inputs"] = [inp]
    model["outputs"] = [o.name for o in outs]
    if labels is None and task == "classification" and len(outs[0].shape) == 2:
        labels = ["class_%d" % i for i in range(outs[0].shape[1])]
    if labels is not None:
        model["labels"] = [str(s) for s in labels]
    if cam_layer:
        model["cam_layer"] = cam_layer
    model["graph"] = conv.nodes
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "weights.safetensors"), weights, dtype,
                      {"format": "pt", "producer": "convd tools/convert.py"})
    with open(os.path.join(out_dir, "model.json"), "w") as f:
        f.write(_dump_json(model))
    return model


def torchvision_model(arch, seed, num_classes=1000):
    """torch.manual_seed(seed), then torchvision.models.<arch>(weights=None)."""
    import torchvision
    fn = getattr(torchvision.models, arch, None)
    if fn is None or not callable(fn):
        raise ConvertError("unknown torchvision model %r" % arch)
    torch.manual_seed(seed)
    return fn(weights=None, num_classes=num_classes).eval()


def main(argv=None):
    ap = argparse.ArgumentParser(description="convert a PyTorch model to convd")
    ap.add_argument("--torchvision", required=True, metavar="NAME")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, nargs=2, default=[224, 224], metavar=("H", "W"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--num-classes", type=int, default=1000)
    ap.add_argument("--dtype", default="F32", choices=["F32", "F16"])
    ap.add_argument("--name", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    try:
        m = torchvision_model(args.torchvision, args.seed, args.num_classes)
        h, w = args.size
        model = convert(m, torch.zeros(1, 3, h, w), args.out,
                        name=args.name or args.torchvision,
                        preprocess=imagenet_preprocess(h, w), dtype=args.dtype)
    except ConvertError as e:
        print("convert.py: error: %s" % e, file=sys.stderr)
        return 1
    print("wrote %s: %d nodes, outputs %s" % (args.out, len(model["graph"]),
                                             model["outputs"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
