"""shapes_inceptionnext.py — zoo entry "shapes-inceptionnext": an
InceptionNeXt-style (MetaNeXt) classifier on 64x64 shapes. Each block is
InceptionDWConv2d (identity / 3x3 / 1xk / kx1 depthwise channel groups,
tools/families/inceptionnext.py) -> BN -> 1x1 conv MLP (ReLU: Debian
torch's GELU is slow on CPU) -> layer scale -> + input; stages are joined
by BN + 3x3 stride-2 convs.
Data, evaluation and samples are shapes-resnet's; it only defines the model
and its recipe; tools/train.py converts, checks and ships it.
"""

import torch
import torch.nn as nn

from families.inceptionnext import InceptionDWConv2d
from zoo import shapes_common as sc

NAME = "shapes-inceptionnext"
FAMILY = "InceptionNeXt (inception depthwise)"
TASK = "classification"
LABELS = sc.LABELS
PREPROCESS = sc.PREPROCESS
EPOCHS = 20

data, evaluate, held_out, write_sample = (sc.data, sc.evaluate,
                                          sc.held_out, sc.write_sample)


class Block(nn.Module):
    """MetaNeXt block: inception depthwise token mixer, BN, 1x1 MLP, layer
    scale, residual."""

    def __init__(self, dim, band, ratio=0.25, mlp=3):
        super().__init__()
        self.mixer = InceptionDWConv2d(dim, square_kernel_size=3,
                                       band_kernel_size=band, branch_ratio=ratio)
        self.norm = nn.BatchNorm2d(dim)
        self.fc1 = nn.Conv2d(dim, mlp * dim, 1)
        self.act = nn.ReLU()
        self.fc2 = nn.Conv2d(mlp * dim, dim, 1)
        self.gamma = nn.Parameter(torch.ones(1, dim, 1, 1))

    def forward(self, x):
        y = self.fc2(self.act(self.fc1(self.norm(self.mixer(x)))))
        return x + self.gamma * y


class ShapesInceptionNeXt(nn.Module):
    """64x64 -> stem conv (stride 2) -> 32x32 -> one block per stage at
    16x16, 8x8, 4x4."""

    def __init__(self, n_classes=len(LABELS), dims=(16, 32, 48, 64),
                 bands=(0, 11, 7, 5)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dims[0], 3, 2, 1, bias=False),
                                  nn.BatchNorm2d(dims[0]), nn.ReLU())
        layers = []  # no block at 32x32: too slow to train on 2 cores
        for i in range(1, len(dims)):
            layers += [nn.BatchNorm2d(dims[i - 1]),
                       nn.Conv2d(dims[i - 1], dims[i], 3, 2, 1),
                       Block(dims[i], bands[i])]
        self.blocks = nn.Sequential(*layers)
        self.norm = nn.BatchNorm2d(dims[-1])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(dims[-1], n_classes)

    def forward(self, x):
        x = self.norm(self.blocks(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


def build_model():
    return ShapesInceptionNeXt()


def train(model, d, seed, quick=False, log=print):
    return sc.fit(model, d, seed, quick, log, EPOCHS, weight_decay=0.05)
