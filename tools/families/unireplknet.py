"""unireplknet.py — PyTorch reference layers of UniRepLKNet (Ding et al.,
"UniRepLKNet: A Universal Perception Large-Kernel ConvNet", CVPR 2024),
written from the paper's formulas:

* DilatedReparamBlock (training form): a large depthwise conv (K x K) with
  BatchNorm plus parallel dilated small-kernel depthwise convs, each with its
  own BatchNorm, summed. It is traced as ordinary nodes (conv, batchnorm, add);
  convd folds the BNs and merges the branches into ONE depthwise K x K conv at
  load (daemon/engine/pass_reparam.c).
* GRNwithNHWC: global response normalisation, channels-last, eps 1e-6:
  out = gamma * (x * Nx) + beta + x, Gx = ||x||_2 over (H, W), Nx = Gx /
  (mean_c Gx + eps). Lowered to convd's `grn` op (axis -1). GRNChannelsFirst
  is the same over (N, C, H, W) (axis 1).
* SEBlock: squeeze-and-excitation (global average pool, 1x1 conv, ReLU, 1x1
  conv, sigmoid, channel-wise scale): existing ops only.
GOLDEN: small UniRepLKNet-style nets with K = 13 and K = 31, odd sizes.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from convd_fx_custom import register_module

# UniRepLKNet's branch table: K -> (small kernel sizes, dilations). K = 31 is
# not in the paper's table; it uses the K = 17 branches (all fit inside 31).
BRANCHES = {
    5: ([3, 3], [1, 2]),
    7: ([5, 3, 3], [1, 2, 3]),
    9: ([5, 5, 3, 3], [1, 2, 3, 4]),
    11: ([5, 5, 3, 3, 3], [1, 2, 3, 4, 5]),
    13: ([5, 7, 3, 3, 3], [1, 2, 3, 4, 5]),
    15: ([5, 7, 3, 3, 3], [1, 2, 3, 5, 7]),
    17: ([5, 9, 3, 3, 3], [1, 2, 4, 5, 7]),
    31: ([5, 9, 3, 3, 3], [1, 2, 4, 5, 7]),
}


class DilatedReparamBlock(nn.Module):
    """Large depthwise kernel + dilated small-kernel depthwise branches, each
    followed by BatchNorm, summed (the training form of the block)."""

    def __init__(self, channels, kernel_size):
        super().__init__()
        self.lk_origin = nn.Conv2d(channels, channels, kernel_size, 1,
                                   kernel_size // 2, groups=channels, bias=False)
        self.origin_bn = nn.BatchNorm2d(channels)
        self.kernel_sizes, self.dilates = BRANCHES[kernel_size]
        self.convs = nn.ModuleList()
        self.bns = nn.ModuleList()
        for k, r in zip(self.kernel_sizes, self.dilates):
            self.convs.append(nn.Conv2d(channels, channels, k, 1,
                                        (r * (k - 1) + 1) // 2, dilation=r,
                                        groups=channels, bias=False))
            self.bns.append(nn.BatchNorm2d(channels))

    def forward(self, x):
        out = self.origin_bn(self.lk_origin(x))
        for conv, bn in zip(self.convs, self.bns):
            out = out + bn(conv(x))
        return out


class GRNwithNHWC(nn.Module):
    """GRN over a channels-last (N, H, W, C) tensor, eps 1e-6."""

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, 1, 1, dim))
        self.beta = nn.Parameter(torch.zeros(1, 1, 1, dim))
        self.eps = eps

    def forward(self, x):
        gx = torch.norm(x, p=2, dim=(1, 2), keepdim=True)
        nx = gx / (gx.mean(dim=-1, keepdim=True) + self.eps)
        return (self.gamma * nx + 1) * x + self.beta


class GRNChannelsFirst(nn.Module):
    """GRN over a channels-first (N, C, H, W) tensor."""

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.gamma = nn.Parameter(torch.zeros(1, dim, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, dim, 1, 1))
        self.eps = eps

    def forward(self, x):
        gx = torch.norm(x, p=2, dim=(2, 3), keepdim=True)
        nx = gx / (gx.mean(dim=1, keepdim=True) + self.eps)
        return self.gamma * (x * nx) + self.beta + x


def _lower_grn(axis):
    def lower(cv, n, m):
        base = str(n.target)
        w = {"gamma": cv.weight(base + ".gamma", m.gamma.reshape(-1)),
             "beta": cv.weight(base + ".beta", m.beta.reshape(-1))}
        return cv.emit("grn", [cv.tensor(n.args[0])], weights=w,
                       attrs={"axis": axis, "eps": float(m.eps)})
    return lower


register_module(GRNwithNHWC)(_lower_grn(-1))
register_module(GRNChannelsFirst)(_lower_grn(1))


class SEBlock(nn.Module):
    """Squeeze-and-excitation as in UniRepLKNet: pool, 1x1 down + ReLU, 1x1
    up + sigmoid, scale the input per channel."""

    def __init__(self, channels, internal):
        super().__init__()
        self.down = nn.Conv2d(channels, internal, 1, bias=True)
        self.up = nn.Conv2d(internal, channels, 1, bias=True)
        self.channels = channels

    def forward(self, inputs):
        x = F.adaptive_avg_pool2d(inputs, output_size=(1, 1))
        x = F.relu(self.down(x))
        x = torch.sigmoid(self.up(x))
        return inputs * x


class UniRepLKNetBlock(nn.Module):
    """dwconv (re-param block) -> BN -> SE -> NHWC: Linear -> GELU -> GRN ->
    Linear -> NCHW -> BN -> layer scale -> + input."""

    def __init__(self, dim, kernel_size, ffn_factor=4):
        super().__init__()
        self.dwconv = DilatedReparamBlock(dim, kernel_size)
        self.norm = nn.BatchNorm2d(dim)
        self.se = SEBlock(dim, dim // 4)
        ffn = ffn_factor * dim
        self.pwconv1 = nn.Linear(dim, ffn)
        self.act = nn.GELU()
        self.grn = GRNwithNHWC(ffn)
        self.pwconv2 = nn.Linear(ffn, dim, bias=False)
        self.norm2 = nn.BatchNorm2d(dim)
        self.gamma = nn.Parameter(torch.ones(1, dim, 1, 1))

    def forward(self, x):
        y = self.se(self.norm(self.dwconv(x)))
        y = y.permute(0, 2, 3, 1)
        y = self.pwconv2(self.grn(self.act(self.pwconv1(y))))
        y = self.norm2(y.permute(0, 3, 1, 2))
        return x + self.gamma * y


class TinyUniRepLKNet(nn.Module):
    def __init__(self, kernel_size, dim=16, depth=2):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dim, 3, 2, 1), nn.BatchNorm2d(dim),
                                  nn.GELU())
        self.blocks = nn.Sequential(*[UniRepLKNetBlock(dim, kernel_size)
                                      for _ in range(depth)])

    def forward(self, x):
        return self.blocks(self.stem(x))


def randomize(model):
    """Non-trivial BN statistics, GRN and layer-scale parameters (their
    initial values are zeros/ones, which would hide mistakes)."""
    g = torch.Generator().manual_seed(1234)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(torch.randn(c, generator=g) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
                m.weight.copy_(torch.rand(c, generator=g) + 0.5)
                m.bias.copy_(torch.randn(c, generator=g) * 0.2)
            if isinstance(m, (GRNwithNHWC, GRNChannelsFirst)):
                m.gamma.copy_(torch.randn(m.gamma.shape, generator=g) * 0.5)
                m.beta.copy_(torch.randn(m.beta.shape, generator=g) * 0.2)
            if isinstance(m, UniRepLKNetBlock):
                m.gamma.copy_(torch.rand(m.gamma.shape, generator=g) + 0.5)
    return model


class GRNNet(nn.Module):
    """conv -> GRN channels-first -> conv: the axis 1 form."""

    def __init__(self, dim=12):
        super().__init__()
        self.c1 = nn.Conv2d(3, dim, 3, 1, 1)
        self.grn = GRNChannelsFirst(dim)
        self.c2 = nn.Conv2d(dim, 5, 1)

    def forward(self, x):
        return self.c2(self.grn(self.c1(x)))


GOLDEN = [
    ("unireplknet_k13", lambda: randomize(TinyUniRepLKNet(13)), (2, 3, 37, 35)),
    ("unireplknet_k31", lambda: randomize(TinyUniRepLKNet(31, dim=8, depth=1)),
     (2, 3, 45, 43)),
    ("unireplknet_grn_cf", lambda: randomize(GRNNet()), (3, 3, 13, 11)),
]
