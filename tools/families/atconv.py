"""atconv.py — PyTorch reference of a dynamic per-sample depthwise
convolution in the spirit of ATConv (Attentive Convolution, Yu et al., 2025,
arXiv 2510.20092): the kxk depthwise kernel is computed from the input
(context -> kernel) and applied per sample and channel; an optional softmax
over the k*k taps makes the taps of each kernel compete (the paper's lateral
inhibition principle, here in its simplest form), its converter lowering and
its GOLDEN case.

DynamicDWConv2d(channels, kernel_size, reduction, stride, dilation, softmax)
  kernel generation (ordinary traceable modules, converted to existing ops):
    AdaptiveAvgPool2d(1) -> flatten -> Linear(C, C/r) -> ReLU
    -> Linear(C/r, C*k*k) [-> reshape (N, C, k*k) -> softmax over taps]
  apply: DynamicDWApply(x, kern), out[n, c] = xcorr(x[n, c], kern[n, c]) + b[c]
    (PyTorch: F.conv2d on the input reshaped to (1, N*C, H, W) with
    groups = N*C). Only this module is a convd leaf: it lowers to one
    dynamic_dwconv node with inputs (x, kern), optional weight 'bias' and
    attributes kernel, stride, padding, dilation. Writes nothing.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from convd_fx_custom import register_module


def _pair(v):
    return tuple(int(x) for x in v) if isinstance(v, (list, tuple)) else (int(v),) * 2


class DynamicDWApply(nn.Module):
    """Applies per-sample depthwise kernels: forward(x (N,C,H,W), kern with
    C*kh*kw values per sample, in (N, C*kh*kw), (N, C, kh*kw) or (N, C, kh, kw))."""

    def __init__(self, channels, kernel_size, stride=1, padding=None,
                 dilation=1, bias=False):
        super().__init__()
        self.channels = int(channels)
        self.kernel_size = _pair(kernel_size)
        self.stride, self.dilation = _pair(stride), _pair(dilation)
        if padding is None:
            padding = tuple(d * (k - 1) // 2 for d, k in zip(self.dilation, self.kernel_size))
        self.padding = _pair(padding)
        self.bias = nn.Parameter(torch.randn(channels) * 0.1) if bias else None

    def forward(self, x, kern):
        n, c, h, w = x.shape
        kh, kw = self.kernel_size
        k = kern.reshape(n * c, 1, kh, kw)
        b = self.bias.repeat(n) if self.bias is not None else None
        y = F.conv2d(x.reshape(1, n * c, h, w), k, b, self.stride, self.padding,
                     self.dilation, groups=n * c)
        return y.reshape(n, c, y.shape[2], y.shape[3])


@register_module(DynamicDWApply)
def lower_dynamic_dwconv(cv, n, m):
    x = cv.tensor(n.args[0])
    kern = cv.tensor(n.args[1], "dynamic kernel")
    w = {"bias": cv.weight(n.target + ".bias", m.bias)} if m.bias is not None else None
    attrs = {"kernel": list(m.kernel_size), "stride": list(m.stride),
             "padding": list(m.padding) * 2, "dilation": list(m.dilation)}
    return cv.emit("dynamic_dwconv", [x, kern], w, attrs)


class DynamicDWConv2d(nn.Module):
    """Kernel generator (pool -> linear -> relu -> linear [-> softmax over
    taps]) followed by the per-sample depthwise apply."""

    def __init__(self, channels, kernel_size=3, reduction=4, stride=1,
                 dilation=1, softmax=True, bias=False):
        super().__init__()
        k = _pair(kernel_size)
        self.channels, self.taps, self.softmax = channels, k[0] * k[1], softmax
        hidden = max(4, channels // reduction)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(channels, hidden)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(hidden, channels * self.taps)
        self.apply_kernel = DynamicDWApply(channels, k, stride, None, dilation, bias)

    def forward(self, x):
        ctx = torch.flatten(self.pool(x), 1)
        kern = self.fc2(self.act(self.fc1(ctx)))
        if self.softmax:
            kern = torch.softmax(kern.reshape(-1, self.channels, self.taps), dim=-1)
        return self.apply_kernel(x, kern)


class ATConvNet(nn.Module):
    """Small test net: stem conv, a softmax-normalised 3x3 dynamic conv, a
    pointwise conv, an unnormalised strided 5x5 dynamic conv with bias."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.dyn1 = DynamicDWConv2d(8, 3, softmax=True)
        self.pw = nn.Conv2d(8, 12, 1)
        self.dyn2 = DynamicDWConv2d(12, 5, reduction=3, stride=2, softmax=False, bias=True)

    def forward(self, x):
        x = F.relu(self.stem(x))
        x = x + self.dyn1(x)
        x = F.relu(self.pw(x))
        return self.dyn2(x)


GOLDEN = [
    ("atconv_dynamic_dw", ATConvNet, (3, 3, 19, 23)),
]
