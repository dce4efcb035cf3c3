"""p3d.py — PyTorch reference layers of Pseudo-3D residual networks (Qiu,
Yao & Mei, "Learning spatio-temporal representation with pseudo-3D residual
networks", ICCV 2017) and their GOLDEN cases.

A 3x3x3 convolution is replaced by a spatial conv S with kernel (1, 3, 3)
and a temporal conv T with kernel (3, 1, 1), each followed by BatchNorm and
ReLU, combined three ways inside a bottleneck (1x1x1 reduce, S/T, 1x1x1
expand, BatchNorm, + shortcut, ReLU):
    P3D-A (serial):   y = T(S(x))
    P3D-B (parallel): y = S(x) + T(x)
    P3D-C (mixed):    s = S(x); y = s + T(s)
plus 3-D max/avg pooling. Every piece is a stock torch.nn module (Conv3d,
BatchNorm3d, MaxPool3d, AvgPool3d), so the converter lowers them itself: no
custom lowering here. convd runs the (1,kh,kw) and (kt,1,1) convs on the
fast paths of kernels/conv3d.cl. Writes nothing; tools/make_family_golden.py
uses GOLDEN.
"""
import torch
import torch.nn as nn


def _bn_relu(c):
    return [nn.BatchNorm3d(c), nn.ReLU()]


def spatial_conv(cin, cout, stride=1):
    """S: (1, 3, 3) conv, padding (0, 1, 1), spatial stride."""
    return nn.Sequential(nn.Conv3d(cin, cout, (1, 3, 3), (1, stride, stride),
                                   (0, 1, 1), bias=False), *_bn_relu(cout))


def temporal_conv(cin, cout):
    """T: (3, 1, 1) conv, padding (1, 0, 0)."""
    return nn.Sequential(nn.Conv3d(cin, cout, (3, 1, 1), 1, (1, 0, 0),
                                   bias=False), *_bn_relu(cout))


class P3DBlock(nn.Module):
    """P3D bottleneck of type 'A', 'B' or 'C' (cin == cout: identity
    shortcut; else a 1x1x1 conv + BN projection)."""

    def __init__(self, kind, cin, mid, cout):
        super().__init__()
        if kind not in ("A", "B", "C"):
            raise ValueError("P3D block kind must be A, B or C")
        self.kind = kind
        self.reduce = nn.Sequential(nn.Conv3d(cin, mid, 1, bias=False),
                                    *_bn_relu(mid))
        self.s = spatial_conv(mid, mid)
        self.t = temporal_conv(mid, mid)
        self.expand = nn.Sequential(nn.Conv3d(mid, cout, 1, bias=False),
                                    nn.BatchNorm3d(cout))
        self.short = None
        if cin != cout:
            self.short = nn.Sequential(nn.Conv3d(cin, cout, 1, bias=False),
                                       nn.BatchNorm3d(cout))

    def forward(self, x):
        h = self.reduce(x)
        if self.kind == "A":
            h = self.t(self.s(h))
        elif self.kind == "B":
            h = self.s(h) + self.t(h)
        else:
            s = self.s(h)
            h = s + self.t(s)
        sc = x if self.short is None else self.short(x)
        return torch.relu(self.expand(h) + sc)


class P3DNet(nn.Module):
    """Stem (1,3,3) conv, spatial max pool, blocks A, B, C, temporal max
    pool, 3-D average pool."""

    def __init__(self, cin=3, c=16):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv3d(cin, c, (1, 3, 3), 1, (0, 1, 1)),
                                  *_bn_relu(c))
        self.pool1 = nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))
        self.blocks = nn.Sequential(P3DBlock("A", c, c // 2, 2 * c),
                                    P3DBlock("B", 2 * c, c // 2, 2 * c),
                                    P3DBlock("C", 2 * c, c // 2, 2 * c))
        self.pool2 = nn.MaxPool3d((2, 1, 1), (2, 1, 1))
        self.pool3 = nn.AvgPool3d((1, 2, 2), (1, 2, 2), ceil_mode=True,
                                  count_include_pad=False)

    def forward(self, x):
        x = self.blocks(self.pool1(self.stem(x)))
        return self.pool3(self.pool2(x))


def _random_bn(model):
    for mod in model.modules():
        if isinstance(mod, nn.BatchNorm3d):
            with torch.no_grad():
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)
    return model


GOLDEN = [
    ("p3d_net", lambda: _random_bn(P3DNet()), (2, 3, 5, 17, 21)),
    ("p3d_blocks", lambda: _random_bn(nn.Sequential(
        P3DBlock("A", 16, 8, 16), P3DBlock("B", 16, 12, 16),
        P3DBlock("C", 16, 8, 24))), (2, 16, 5, 9, 11)),
]
