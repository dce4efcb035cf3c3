"""dcls.py — PyTorch reference layer of DCLS (Dilated Convolution with
Learnable Spacings, Khalfaoui-Hassani, Pellegrini, Masquelier, ICLR 2023),
its converter lowering and its GOLDEN cases.

Dcls(dim, in_ch, out_ch, kernel_count, dilated_kernel_size, ...) stores, like
the authors' layer (DCLS.construct.modules Dcls{1,2}d):
  weight (Cout, Cin/groups, kernel_count)   the kernel_count weights,
  P      (dim, Cout, Cin/groups, kernel_count)   their positions,
  SIG    (dim, Cout, Cin/groups, kernel_count)   widths (version 'gauss' only),
  bias   (Cout,) or None.
The dense kernel (Cout, Cin/groups, *dilated_kernel_size) is built per call:
  version 'v1'    : bilinear, X = prod_axes relu(1 - |t - c|)
  version 'gauss' : X = exp(-0.5 sum_axes ((t - c) / (|SIG| + 0.27))^2)
with X normalised per weight, X / (sum X + 1e-7), and K = sum_k X * weight.
Position convention (as the authors' ConstructKernel code): P[i] is an offset
from the kernel centre, c = P[i] + dilated_kernel_size[i] // 2, and P[i]
drives the spatial axis dim-1-i (P[0] moves along the last axis, width in
2-D). The layer's clamp_parameters keeps P[i] in [-dks[i]//2, dks[i]//2];
convd refuses positions outside that range at load. Then a conv with dilation
1. The lowering emits one dcls_conv node with the stored parameters; convd
materialises the dense kernel once at load. Writes nothing.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from convd_fx_custom import register_module

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _ntuple(v, d):
    return tuple(int(x) for x in v) if isinstance(v, (list, tuple)) else (int(v),) * d


def dcls_kernel(weight, P, SIG, dks):
    """Dense kernel (Cout, Cin/g, *dks) from weight, P and optional SIG."""
    nsp = len(dks)
    X = None
    for ax in range(nsp):
        pi = nsp - 1 - ax
        c = P[pi] + dks[pi] // 2                                # (O, I, kc)
        t = torch.arange(dks[ax], dtype=P.dtype, device=P.device)
        shape = [1] * nsp + [1, 1, 1]
        shape[ax] = dks[ax]
        d = t.view(shape) - c                                   # (.. L .., O, I, kc)
        if SIG is None:
            f = (1.0 - d.abs()).relu()
            X = f if X is None else X * f
        else:
            f = (d / (SIG[pi].abs() + 0.27)) ** 2
            X = f if X is None else X + f
    if SIG is not None:
        X = (-0.5 * X).exp()
    X = X / (X.sum(dim=tuple(range(nsp)), keepdim=True) + 1e-7)
    K = (X * weight).sum(-1)                                    # (*dks, O, I)
    return K.permute(nsp, nsp + 1, *range(nsp))


class Dcls(nn.Module):
    """DCLS convolution, 1-D, 2-D or 3-D; version 'v1' or 'gauss'."""

    def __init__(self, dim, in_ch, out_ch, kernel_count, dilated_kernel_size,
                 stride=1, padding=0, groups=1, bias=True, version="v1"):
        super().__init__()
        if dim not in _CONV or version not in ("v1", "gauss"):
            raise ValueError("dim 1..3, version 'v1' or 'gauss'")
        if in_ch % groups or out_ch % groups:
            raise ValueError("groups must divide the channels")
        self.dim, self.groups, self.version = dim, int(groups), version
        self.dks = _ntuple(dilated_kernel_size, dim)
        self.stride = _ntuple(stride, dim)
        self.padding = _ntuple(padding, dim)
        cig = in_ch // groups
        self.weight = nn.Parameter(torch.empty(out_ch, cig, kernel_count))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        P = torch.empty(dim, out_ch, cig, kernel_count)
        with torch.no_grad():
            for i, k in enumerate(self.dks):
                P[i].normal_(0, 0.5).clamp_(-(k // 2), k // 2)
        self.P = nn.Parameter(P)
        if version == "gauss":
            self.SIG = nn.Parameter(torch.full_like(P, 0.23))
        else:
            self.register_parameter("SIG", None)
        if bias:
            bound = 1 / math.sqrt(cig * kernel_count)
            self.bias = nn.Parameter(torch.empty(out_ch).uniform_(-bound, bound))
        else:
            self.register_parameter("bias", None)

    def clamp_parameters(self):
        with torch.no_grad():
            for i, k in enumerate(self.dks):
                self.P[i].clamp_(-(k // 2), k // 2)

    def forward(self, x):
        K = dcls_kernel(self.weight, self.P, self.SIG, self.dks)
        return _CONV[self.dim](x, K, self.bias, self.stride, self.padding, 1,
                               self.groups)

    def attrs(self):
        return {"dilated_kernel_size": list(self.dks),
                "stride": list(self.stride),
                "padding": list(self.padding) + list(self.padding),
                "groups": self.groups}


@register_module(Dcls)
def _lower_dcls(cv, n, m):
    p = n.target
    w = {"weight": cv.weight(p + ".weight", m.weight),
         "P": cv.weight(p + ".P", m.P)}
    if m.SIG is not None:
        w["SIG"] = cv.weight(p + ".SIG", m.SIG)
    if m.bias is not None:
        w["bias"] = cv.weight(p + ".bias", m.bias)
    return cv.emit("dcls_conv", [cv.tensor(n.args[0])], w, m.attrs())


def _spread(m, sig=False):
    """Golden weights: positions spread over the whole clamp range, some on
    its bounds (even sizes: partly outside the kernel, renormalised)."""
    with torch.no_grad():
        for i, k in enumerate(m.dks):
            lim = k // 2
            m.P[i].uniform_(-lim, lim)
            m.P[i].view(-1)[::7] = lim
            m.P[i].view(-1)[3::11] = -lim
        if sig:
            m.SIG.copy_(0.23 + 0.3 * torch.randn_like(m.SIG))
    return m


# The converter traces the root module's forward, so each layer is wrapped in
# nn.Sequential to be lowered as one node.
def _v1_2d():
    return nn.Sequential(_spread(Dcls(2, 8, 12, 5, (7, 5), padding=(3, 2))))


def _gauss_dw():
    return nn.Sequential(_spread(Dcls(2, 8, 8, 6, 9, padding=4, groups=8,
                                      version="gauss"), sig=True), nn.ReLU())


def _v1_1d_even():
    return nn.Sequential(_spread(Dcls(1, 6, 10, 4, 8, stride=2, padding=4,
                                      bias=False)))


def _gauss_1d():
    return nn.Sequential(_spread(Dcls(1, 4, 6, 3, 11, padding=5, groups=2,
                                      version="gauss"), sig=True))


def _gauss_2d_rect():
    return nn.Sequential(_spread(Dcls(2, 6, 4, 4, (5, 9), stride=(1, 2),
                                      padding=(2, 4), version="gauss"),
                                 sig=True))


GOLDEN = [
    ("dcls2d_v1", _v1_2d, (2, 8, 15, 13)),
    ("dcls2d_gauss_dw_relu", _gauss_dw, (3, 8, 17, 19)),
    ("dcls2d_gauss_rect", _gauss_2d_rect, (2, 6, 13, 21)),
    ("dcls1d_v1_even", _v1_1d_even, (2, 6, 51)),
    ("dcls1d_gauss", _gauss_1d, (3, 4, 37)),
]
