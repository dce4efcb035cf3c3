"""shapes_atconv.py — zoo entry "shapes-atconv": an attentive-convolution
(ATConv-style dynamic depthwise kernel, tools/families/atconv.py) classifier
on 64x64 shapes images (tools/data/shapes.py). Every stage mixes space with a
DynamicDWConv2d whose kxk kernels (with a static bias) are generated per
sample and channel from the input's context (unnormalised taps, so they can
be edge filters, not only blurs), then mixes channels with 1x1 convs.
Chosen over a quaternion net because no other zoo model exercises convd's
per-sample dynamic kernel path (dynamic_dwconv).
It only defines the model, its data and its training recipe; tools/train.py
converts, checks and ships it.
"""

import torch
import torch.nn as nn

from families.atconv import DynamicDWConv2d
from zoo import shapes_common as sc

NAME = "shapes-atconv"
FAMILY = ("ATConv dynamic depthwise (chosen over quaternion: the only zoo "
          "model on convd's per-sample dynamic_dwconv path)")
TASK = "classification"
LABELS = sc.LABELS
PREPROCESS = sc.PREPROCESS
EPOCHS = 12

data, evaluate, held_out, write_sample = (sc.data, sc.evaluate,
                                          sc.held_out, sc.write_sample)


class ATBlock(nn.Module):
    """x + BN(pw2(relu(pw1(BN(dynamic_dw(x)))))): attentive spatial mixing
    followed by an inverted-bottleneck channel MLP."""

    def __init__(self, ch, k, expand=2, softmax=False):
        super().__init__()
        self.dyn = DynamicDWConv2d(ch, k, reduction=4, softmax=softmax, bias=True)
        self.bn1 = nn.BatchNorm2d(ch)
        self.pw1 = nn.Conv2d(ch, ch * expand, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(ch * expand)
        self.relu = nn.ReLU()
        self.pw2 = nn.Conv2d(ch * expand, ch, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(ch)

    def forward(self, x):
        y = self.relu(self.bn2(self.pw1(self.bn1(self.dyn(x)))))
        return x + self.bn3(self.pw2(y))


def down(cin, cout):
    """Strided 3x3 conv-bn-relu halving the resolution."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 2, 1, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


class ShapesATConv(nn.Module):
    """64x64 -> stem (32x32) -> [down, ATBlock] x 3 -> 4x4 -> pool -> fc."""

    def __init__(self, n_classes=len(LABELS), widths=(16, 32, 48, 64)):
        super().__init__()
        self.stem = down(3, widths[0])                                     # 32x32
        self.down1, self.blk1 = down(widths[0], widths[1]), ATBlock(widths[1], 5)  # 16
        self.down2, self.blk2 = down(widths[1], widths[2]), ATBlock(widths[2], 5)  # 8
        self.down3, self.blk3 = down(widths[2], widths[3]), ATBlock(widths[3], 3)  # 4
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[3], n_classes)

    def forward(self, x):
        x = self.stem(x)
        x = self.blk1(self.down1(x))
        x = self.blk2(self.down2(x))
        x = self.blk3(self.down3(x))
        return self.fc(torch.flatten(self.pool(x), 1))


def build_model():
    return ShapesATConv()


def train(model, d, seed, quick=False, log=print):
    return sc.fit(model, d, seed, quick, log, EPOCHS)
