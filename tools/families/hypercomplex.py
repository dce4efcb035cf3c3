"""hypercomplex.py — PyTorch reference layers of the hypercomplex convolution
families, their converter lowerings and their GOLDEN cases.

* PHConv1d / PHConv2d — parameterised hypercomplex convolution (PHNNs,
  Grassucci, Zhang, Comminiello, arXiv:2110.04176): the conv weight is
  W = sum_s kron(A[s], F[s]) with A (n, n, n) and F (n, Cout/n, Cin/(n g), k...),
  i.e. block (r, c) of the (Cout, Cin) weight is sum_s A[s, r, c] * F[s].
  Like the authors' reference layer, the layer owns a `bias` parameter but
  does NOT add it in the convolution; the lowering therefore emits no bias.
* QuaternionConv1d / QuaternionConv2d — Hamilton product over the four channel
  quarters [r..., i..., j..., k...]; parts r, i, j, k each (Cout/4, Cin/(4 g), k...).
* ComplexConv1d / ComplexConv2d — channels [real..., imag...]; weight
  [[Wr, -Wi], [Wi, Wr]], complex bias (bias_real, bias_imag) added to the
  real and imaginary output halves.
* ComplexReLU — split ReLU (real and imaginary parts separately). With the
  [real..., imag...] channel layout it equals a plain ReLU over all channels,
  which is what the lowering emits.

Each structured layer lowers to one convd node (phc_conv, quaternion_conv,
complex_conv) that stores the factors; convd materialises the dense conv
weight once at load. Writes nothing; tools/make_family_golden.py uses GOLDEN.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from convd_fx_custom import register_module

_CONV = {1: F.conv1d, 2: F.conv2d}


def _ntuple(v, d):
    return tuple(v) if isinstance(v, (list, tuple)) else (int(v),) * d


class _StructuredConv(nn.Module):
    """Shared conv hyper-parameters of the structured layers."""

    def __init__(self, dim, stride, padding, dilation, groups):
        super().__init__()
        if dim not in _CONV:
            raise ValueError("dim must be 1 or 2")
        self.dim = dim
        self.stride = _ntuple(stride, dim)
        self.padding = _ntuple(padding, dim)
        self.dilation = _ntuple(dilation, dim)
        self.groups = int(groups)

    def conv(self, x, w, b=None):
        return _CONV[self.dim](x, w, b, self.stride, self.padding,
                               self.dilation, self.groups)

    def attrs(self):
        return {"stride": list(self.stride),
                "padding": list(self.padding) + list(self.padding),
                "dilation": list(self.dilation), "groups": self.groups}


class PHConv(_StructuredConv):
    """PHC layer (any n, 1-D or 2-D); bias is stored but ignored, as in the
    authors' reference implementation."""

    def __init__(self, n, in_ch, out_ch, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, dim=2):
        super().__init__(dim, stride, padding, dilation, groups)
        if in_ch % (n * groups) or out_ch % n:
            raise ValueError("n (x groups) must divide the channels")
        self.n = n
        k = _ntuple(kernel_size, dim)
        self.A = nn.Parameter(torch.randn(n, n, n) / n)
        fan_in = (in_ch // groups) * int(torch.tensor(k).prod())
        self.F = nn.Parameter(torch.randn(n, out_ch // n, in_ch // (n * groups),
                                          *k) / fan_in ** 0.5)
        self.bias = nn.Parameter(torch.randn(out_ch) * 0.1)  # unused in forward

    def weight(self):
        n, O, I = self.F.shape[:3]
        k = self.F.shape[3:]
        # (s, r, 1, c, 1, k..) * (s, 1, o, 1, i, k..) summed over s
        a = self.A.reshape(n, n, 1, n, 1, *([1] * len(k)))
        f = self.F.reshape(n, 1, O, 1, I, *k)
        return (a * f).sum(0).reshape(n * O, n * I, *k)

    def forward(self, x):
        return self.conv(x, self.weight())  # no bias: mirrors the reference


class PHConv1d(PHConv):
    def __init__(self, n, in_ch, out_ch, kernel_size, **kw):
        super().__init__(n, in_ch, out_ch, kernel_size, dim=1, **kw)


class PHConv2d(PHConv):
    def __init__(self, n, in_ch, out_ch, kernel_size, **kw):
        super().__init__(n, in_ch, out_ch, kernel_size, dim=2, **kw)


# Hamilton product: output component p takes SIGN[p][q] * part IDX[p][q] of
# input component q (components r, i, j, k).
_Q_IDX = ((0, 1, 2, 3), (1, 0, 3, 2), (2, 3, 0, 1), (3, 2, 1, 0))
_Q_SIGN = ((1, -1, -1, -1), (1, 1, -1, 1), (1, 1, 1, -1), (1, -1, 1, 1))


class QuaternionConv(_StructuredConv):
    def __init__(self, in_ch, out_ch, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, dim=2):
        super().__init__(dim, stride, padding, dilation, groups)
        if in_ch % (4 * groups) or out_ch % 4:
            raise ValueError("channels must be divisible by 4 (x groups)")
        k = _ntuple(kernel_size, dim)
        fan_in = (in_ch // groups) * int(torch.tensor(k).prod())
        shape = (out_ch // 4, in_ch // (4 * groups)) + k
        self.r, self.i, self.j, self.k = (
            nn.Parameter(torch.randn(*shape) / fan_in ** 0.5) for _ in range(4))
        self.bias = nn.Parameter(torch.randn(out_ch) * 0.1) if bias else None

    def weight(self):
        parts = (self.r, self.i, self.j, self.k)
        rows = [torch.cat([_Q_SIGN[p][q] * parts[_Q_IDX[p][q]] for q in range(4)], 1)
                for p in range(4)]
        return torch.cat(rows, 0)

    def forward(self, x):
        return self.conv(x, self.weight(), self.bias)


class QuaternionConv1d(QuaternionConv):
    def __init__(self, in_ch, out_ch, kernel_size, **kw):
        super().__init__(in_ch, out_ch, kernel_size, dim=1, **kw)


class QuaternionConv2d(QuaternionConv):
    def __init__(self, in_ch, out_ch, kernel_size, **kw):
        super().__init__(in_ch, out_ch, kernel_size, dim=2, **kw)


class ComplexConv(_StructuredConv):
    """in_ch/out_ch count real channels: [real..., imag...] halves. The
    forward is the textbook complex product (two real convs per half), an
    independent check of convd's [[Wr, -Wi], [Wi, Wr]] block weight; no
    groups (grouping complex channels is not one conv over this layout)."""

    def __init__(self, in_ch, out_ch, kernel_size, stride=1, padding=0,
                 dilation=1, bias=True, dim=2):
        super().__init__(dim, stride, padding, dilation, 1)
        if in_ch % 2 or out_ch % 2:
            raise ValueError("channels must be even")
        k = _ntuple(kernel_size, dim)
        fan_in = in_ch * int(torch.tensor(k).prod())
        shape = (out_ch // 2, in_ch // 2) + k
        self.real = nn.Parameter(torch.randn(*shape) / fan_in ** 0.5)
        self.imag = nn.Parameter(torch.randn(*shape) / fan_in ** 0.5)
        if bias:
            self.bias_real = nn.Parameter(torch.randn(out_ch // 2) * 0.1)
            self.bias_imag = nn.Parameter(torch.randn(out_ch // 2) * 0.1)
        else:
            self.bias_real = self.bias_imag = None

    def forward(self, x):
        xr, xi = x.chunk(2, dim=1)
        yr = self.conv(xr, self.real) - self.conv(xi, self.imag)
        yi = self.conv(xr, self.imag) + self.conv(xi, self.real)
        if self.bias_real is not None:
            shape = (1, -1) + (1,) * self.dim
            yr = yr + self.bias_real.reshape(shape)
            yi = yi + self.bias_imag.reshape(shape)
        return torch.cat([yr, yi], 1)


class ComplexConv1d(ComplexConv):
    def __init__(self, in_ch, out_ch, kernel_size, **kw):
        super().__init__(in_ch, out_ch, kernel_size, dim=1, **kw)


class ComplexConv2d(ComplexConv):
    def __init__(self, in_ch, out_ch, kernel_size, **kw):
        super().__init__(in_ch, out_ch, kernel_size, dim=2, **kw)


class ComplexReLU(nn.Module):
    """Split ReLU: ReLU(Re z) + i ReLU(Im z) on [real..., imag...] channels."""

    def forward(self, x):
        xr, xi = x.chunk(2, dim=1)
        return torch.cat([F.relu(xr), F.relu(xi)], 1)


# -- lowerings -----------------------------------------------------------------

@register_module(PHConv)
def _lower_phc(cv, n, m):
    p = n.target
    w = {"A": cv.weight(p + ".A", m.A), "F": cv.weight(p + ".F", m.F)}
    return cv.emit("phc_conv", [cv.tensor(n.args[0])], w, m.attrs())


@register_module(QuaternionConv)
def _lower_quaternion(cv, n, m):
    p = n.target
    w = {s: cv.weight(p + "." + s, getattr(m, s)) for s in ("r", "i", "j", "k")}
    if m.bias is not None:
        w["bias"] = cv.weight(p + ".bias", m.bias)
    return cv.emit("quaternion_conv", [cv.tensor(n.args[0])], w, m.attrs())


@register_module(ComplexConv)
def _lower_complex(cv, n, m):
    p = n.target
    w = {s: cv.weight(p + "." + s, getattr(m, s)) for s in ("real", "imag")}
    if m.bias_real is not None:
        w["bias_real"] = cv.weight(p + ".bias_real", m.bias_real)
        w["bias_imag"] = cv.weight(p + ".bias_imag", m.bias_imag)
    return cv.emit("complex_conv", [cv.tensor(n.args[0])], w, m.attrs())


@register_module(ComplexReLU)
def _lower_complex_relu(cv, n, m):
    return cv.emit("relu", [cv.tensor(n.args[0])])


# -- golden cases ----------------------------------------------------------------

def _phc_n2_2d():
    return nn.Sequential(PHConv2d(2, 4, 8, 3, padding=1), nn.ReLU(),
                         PHConv2d(2, 8, 6, 3, stride=2, padding=1))


def _phc_n4_2d():
    return nn.Sequential(PHConv2d(4, 8, 16, 3, padding=1, groups=2), nn.ReLU(),
                         PHConv2d(4, 16, 8, 1), nn.ReLU(),
                         PHConv2d(4, 8, 8, (3, 5), padding=(2, 1), dilation=(2, 1)))


def _phc_n3_1d():
    return nn.Sequential(PHConv1d(3, 6, 12, 5, padding=4, dilation=2), nn.ReLU(),
                         PHConv1d(3, 12, 9, 3, stride=2))


def _quaternion_2d():
    return nn.Sequential(QuaternionConv2d(4, 8, 3, padding=1), nn.ReLU(),
                         QuaternionConv2d(8, 16, 3, stride=2, padding=1, bias=False),
                         nn.ReLU(), QuaternionConv2d(16, 8, 1, groups=2))


def _quaternion_1d():
    return nn.Sequential(QuaternionConv1d(8, 12, 3, padding=1), nn.ReLU(),
                         QuaternionConv1d(12, 4, 5, stride=2, dilation=2))


def _complex_2d():
    return nn.Sequential(ComplexConv2d(2, 8, 3, padding=1), ComplexReLU(),
                         ComplexConv2d(8, 8, 3, stride=2, padding=2, dilation=2),
                         ComplexReLU(), ComplexConv2d(8, 4, 1, bias=False))


def _complex_1d():
    return nn.Sequential(ComplexConv1d(4, 8, 5, padding=2), ComplexReLU(),
                         ComplexConv1d(8, 6, 3, stride=2))


GOLDEN = [
    ("phc_n2_2d", _phc_n2_2d, (2, 4, 13, 13)),
    ("phc_n4_2d", _phc_n4_2d, (3, 8, 11, 9)),
    ("phc_n3_1d", _phc_n3_1d, (2, 6, 31)),
    ("quaternion_2d", _quaternion_2d, (2, 4, 15, 15)),
    ("quaternion_1d", _quaternion_1d, (3, 8, 27)),
    ("complex_2d", _complex_2d, (2, 2, 13, 11)),
    ("complex_1d", _complex_1d, (2, 4, 21)),
]
