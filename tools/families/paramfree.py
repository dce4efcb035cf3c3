"""paramfree.py — PyTorch reference of the parameter-free spatial block of
Kim et al., "Learning Features with Parameter-Free Layers" (ICLR 2022): in an
inverted-bottleneck residual block the depthwise 3x3 conv is replaced by a
3x3 max-pool (stride 1, padding 1; stride 2 in a downsampling block), and
its GOLDEN case. Composed only of existing torch ops, so it converts without
a custom lowering (conv, batchnorm folded at load, relu, maxpool, add).
Writes nothing.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


def _bn(c):
    """BatchNorm with non-trivial running statistics (so folding is tested)."""
    bn = nn.BatchNorm2d(c)
    with torch.no_grad():
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 1.5)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.2, 0.2)
    return bn


class ParamFreeBlock(nn.Module):
    """1x1 expand -> BN -> ReLU -> maxpool 3x3 (the parameter-free spatial
    op) -> 1x1 project -> BN, plus the identity (or, when downsampling, a
    2x2 avg-pool + 1x1 conv shortcut), then ReLU."""

    def __init__(self, cin, cout, expand=3, stride=1):
        super().__init__()
        mid = cin * expand
        self.expand = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn1 = _bn(mid)
        self.spatial = nn.MaxPool2d(3, stride, 1)
        self.project = nn.Conv2d(mid, cout, 1, bias=False)
        self.bn2 = _bn(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(
                nn.AvgPool2d(stride, stride, ceil_mode=True) if stride != 1 else nn.Identity(),
                nn.Conv2d(cin, cout, 1, bias=False), _bn(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.expand(x)))
        y = self.bn2(self.project(self.spatial(y)))
        s = x if self.short is None else self.short(x)
        return F.relu(y + s)


class ParamFreeNet(nn.Module):
    """Stem conv, two stride-1 blocks, one downsampling block, a head."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), _bn(16), nn.ReLU())
        self.blocks = nn.Sequential(ParamFreeBlock(16, 16), ParamFreeBlock(16, 16),
                                    ParamFreeBlock(16, 24, stride=2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(24, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.blocks(self.stem(x))), 1))


GOLDEN = [
    ("paramfree_maxpool_block", ParamFreeNet, (2, 3, 33, 29)),
]
