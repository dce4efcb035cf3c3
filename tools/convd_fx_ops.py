"""convd_fx_ops.py — the emitting half of the fx -> convd lowering: value
kinds (_T activation, _W constant weight, _Split, _C Python constant), the
argument helpers, and _Emitter, which builds convd graph nodes and collects
weights for one op each (conv, linear, batchnorm, pool, slice, ...).

It must not decide which op an fx node is (convd_fx_lowering.py dispatches)
and must not guess: anything convd cannot represent exactly goes through
fail(), which raises ConvertError naming the fx node and module path.
"""

import math
import re

import numpy as np
import torch
import torch.fx as fx

from convd_errors import ConvertError


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


class _Emitter:
    """Holds the graph being built (nodes, weights, value names) and emits
    one convd node per call; fx-node dispatch is in convd_fx_lowering."""

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
