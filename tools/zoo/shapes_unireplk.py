"""shapes_unireplk.py — zoo entry "shapes-unireplk": a UniRepLKNet-style
classifier on 64x64 shapes. Its blocks follow UniRepLKNet's block: the
DilatedReparamBlock (tools/families/unireplknet.py) in training (branch)
form — a K x K depthwise conv + BN plus dilated small depthwise convs + BNs,
summed — then BN, SE, an FFN of 1x1 convs with ReLU, BN, layer scale and the
residual (no GELU/GRN and no channels-last Linear layers: they make
training 2-3x slower in Debian's CPU torch). It is shipped in branch form;
convd merges the branches into one K x K depthwise conv at load
(pass_reparam). Data, evaluation and
samples are shapes-resnet's; tools/train.py converts, checks and ships it.
"""

import torch
import torch.nn as nn

from families.unireplknet import DilatedReparamBlock, SEBlock
from zoo import shapes_common as sc

NAME = "shapes-unireplk"
FAMILY = "UniRepLKNet (dilated re-param K=7, merged at load)"
TASK = "classification"
LABELS = sc.LABELS
PREPROCESS = sc.PREPROCESS
KERNEL = 7
EPOCHS = 18

data, evaluate, held_out, write_sample = (sc.data, sc.evaluate,
                                          sc.held_out, sc.write_sample)


class Block(nn.Module):
    """re-param dwconv -> BN -> SE -> 1x1 -> ReLU -> 1x1 -> BN ->
    layer scale -> + input."""

    def __init__(self, dim, kernel_size, ffn_factor=3):
        super().__init__()
        self.dwconv = DilatedReparamBlock(dim, kernel_size)
        self.norm = nn.BatchNorm2d(dim)
        self.se = SEBlock(dim, dim // 4)
        ffn = ffn_factor * dim
        self.pw1 = nn.Conv2d(dim, ffn, 1)
        self.act = nn.ReLU()
        self.pw2 = nn.Conv2d(ffn, dim, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(dim)
        self.gamma = nn.Parameter(torch.ones(1, dim, 1, 1))

    def forward(self, x):
        y = self.se(self.norm(self.dwconv(x)))
        y = self.norm2(self.pw2(self.act(self.pw1(y))))
        return x + self.gamma * y


class ShapesUniRepLK(nn.Module):
    """64x64 -> stem conv (stride 2) -> 32x32 -> stride-2 conv + BN
    downsamples -> 16x16 (no block: too slow to train here), then two
    UniRepLKNet blocks at 8x8 and one at 4x4."""

    def __init__(self, n_classes=len(LABELS), dims=(16, 24, 48, 64),
                 depths=(0, 2, 1)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dims[0], 3, 2, 1, bias=False),
                                  nn.BatchNorm2d(dims[0]), nn.ReLU())
        layers = []
        for i in range(1, len(dims)):
            layers += [nn.Conv2d(dims[i - 1], dims[i], 3, 2, 1, bias=False),
                       nn.BatchNorm2d(dims[i])]
            if depths[i - 1] == 0:
                layers.append(nn.ReLU())
            layers += [Block(dims[i], KERNEL) for _ in range(depths[i - 1])]
        self.blocks = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(dims[-1], n_classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(torch.flatten(self.pool(x), 1))


def build_model():
    return ShapesUniRepLK()


def train(model, d, seed, quick=False, log=print):
    return sc.fit(model, d, seed, quick, log, EPOCHS, weight_decay=0.05)
