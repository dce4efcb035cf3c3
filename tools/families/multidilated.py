"""multidilated.py — PyTorch reference layer of D3Net's multi-dilated
convolution (Takahashi & Mitsufuji, "Densely connected multidilated
convolutional networks for dense prediction tasks", CVPR 2021), its converter
lowering and its GOLDEN cases, plus plain dilated convolutions (nn.Conv1d /
nn.Conv2d with dilation, lowered by the converter's own conv path).

MultiDilatedConv(dim, in_ch, out_ch, kernel_size, dilations) splits the input
channels into m = len(dilations) equal slices x_0..x_{m-1} and computes
    y = sum_i conv(x_i, W_i, b_i, dilation d_i, 'same' padding)
with 'same' padding d_i (k - 1) per axis, d_i (k - 1) // 2 before and the rest
after (even kernels too), and one stride for all slices. It stores one weight
and one bias per slice (W_i (Cout, Cin/m, k...), b_i (Cout,)), as D3Net
implementations do; the lowering concatenates the W_i along the input-channel
dim into the multidilated_conv weight (Cout, Cin, k...) and sums the b_i into
its bias. Uneven slices are refused (convd needs Cin divisible by m).
Writes nothing; tools/make_family_golden.py uses GOLDEN.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from convd_fx_custom import register_module

_CONV = {1: F.conv1d, 2: F.conv2d}


def _ntuple(v, d):
    return tuple(int(x) for x in v) if isinstance(v, (list, tuple)) else (int(v),) * d


class MultiDilatedConv(nn.Module):
    """D3Net multi-dilated convolution, 1-D or 2-D."""

    def __init__(self, dim, in_ch, out_ch, kernel_size, dilations, stride=1,
                 bias=True):
        super().__init__()
        m = len(dilations)
        if dim not in _CONV or m < 1 or in_ch % m:
            raise ValueError("dim 1 or 2; in_ch divisible by len(dilations)")
        self.dim = dim
        self.k = _ntuple(kernel_size, dim)
        self.stride = _ntuple(stride, dim)
        self.dilations = [int(d) for d in dilations]
        cs = in_ch // m
        fan_in = cs * math.prod(self.k)
        bound = 1 / math.sqrt(fan_in)
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.empty(out_ch, cs, *self.k).uniform_(-bound, bound))
             for _ in range(m)])
        self.biases = nn.ParameterList(
            [nn.Parameter(torch.empty(out_ch).uniform_(-bound, bound))
             for _ in range(m)]) if bias else None

    def forward(self, x):
        xs = torch.chunk(x, len(self.dilations), dim=1)
        y = 0
        for i, d in enumerate(self.dilations):
            pad = []
            for k in reversed(self.k):  # F.pad lists the last axis first
                tot = d * (k - 1)
                pad += [tot // 2, tot - tot // 2]
            b = self.biases[i] if self.biases is not None else None
            y = y + _CONV[self.dim](F.pad(xs[i], pad), self.weights[i], b,
                                    self.stride, 0, d)
        return y


@register_module(MultiDilatedConv)
def _lower_multidilated(cv, n, m):
    p = n.target
    x = cv.tensor(n.args[0])
    with torch.no_grad():
        w = torch.cat(list(m.weights), dim=1)
        b = sum(m.biases) if m.biases is not None else None
    ws = {"weight": cv.weight(p + ".weight", w)}
    if b is not None:
        ws["bias"] = cv.weight(p + ".bias", b)
    return cv.emit("multidilated_conv", [x], ws,
                   {"dilations": m.dilations, "stride": list(m.stride)})


class D2Stack(nn.Module):
    """Two multi-dilated layers with ReLU, the second reading the input and
    the first layer's output concatenated (a small D2-block-like stack)."""

    def __init__(self, c):
        super().__init__()
        self.a = MultiDilatedConv(2, c, c, 3, [1, 2])
        self.b = MultiDilatedConv(2, 2 * c, c, 3, [1, 2, 4, 8])

    def forward(self, x):
        h = torch.relu(self.a(x))
        return torch.relu(self.b(torch.cat([x, h], dim=1)))


def _seq(*a, **k):
    """One layer in nn.Sequential (the converter traces the root's forward,
    so a bare layer would be inlined instead of lowered)."""
    return nn.Sequential(MultiDilatedConv(*a, **k))


GOLDEN = [
    ("multidilated2d", lambda: _seq(2, 12, 16, 3, [1, 2, 4]), (2, 12, 17, 23)),
    ("multidilated2d_even_stride",
     lambda: _seq(2, 8, 6, (2, 4), [3, 1], stride=2, bias=False),
     (3, 8, 15, 21)),
    ("multidilated1d", lambda: _seq(1, 9, 7, 5, [1, 4, 16]), (2, 9, 101)),
    ("multidilated_d2stack", lambda: D2Stack(4), (2, 4, 19, 13)),
    ("dilated2d", lambda: nn.Conv2d(6, 8, 3, dilation=(2, 3), padding=(2, 3)),
     (2, 6, 15, 17)),
    ("dilated1d", lambda: nn.Conv1d(5, 4, 3, dilation=4, padding=0),
     (3, 5, 41)),
]
