"""shapes_phc.py — zoo entry "shapes-phc": the shapes-resnet architecture
(stride-2 stem, three stride-2 residual stages of 24/40/64 channels) with
every 3x3 and 1x1 shortcut conv replaced by a PHC layer (PHConv2d, n = 4,
tools/families/hypercomplex.py): each conv weight is sum_s kron(A_s, F_s),
about 1/4 of the conv parameters. The stem conv stays plain (3 input
channels do not divide by 4) and so does the classifier (a Linear layer).
Data, evaluation and samples are shapes-resnet's; it only defines the model
and its recipe; tools/train.py converts, checks and ships it.
"""

import torch
import torch.nn as nn

from families.hypercomplex import PHConv2d
from zoo import common
from zoo import shapes_resnet as base

NAME = "shapes-phc"
FAMILY = "PHC n=4 (hypercomplex conv); baseline shapes-resnet 98.12%"
TASK = "classification"
LABELS = base.LABELS
PREPROCESS = base.PREPROCESS
N_HC = 4
EPOCHS = 12

data, evaluate, held_out, write_sample = (base.data, base.evaluate,
                                          base.held_out, base.write_sample)


class Block(nn.Module):
    """PHC conv-bn-relu-PHC conv-bn plus a (1x1 PHC strided) shortcut. PHC
    layers carry no bias in their forward (BN follows each)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = PHConv2d(N_HC, cin, cout, 3, stride=stride, padding=1)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = PHConv2d(N_HC, cout, cout, 3, stride=1, padding=1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(PHConv2d(N_HC, cin, cout, 1, stride=stride),
                                       nn.BatchNorm2d(cout))
        self.relu2 = nn.ReLU()

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        s = x if self.short is None else self.short(x)
        return self.relu2(y + s)


class ShapesPHC(nn.Module):
    """64x64 -> plain stem (stride 2) -> three stride-2 PHC stages -> 4x4."""

    def __init__(self, n_classes=len(LABELS), widths=(16, 24, 40, 64)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, 2, 1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU())   # 32x32
        self.stage1 = Block(widths[0], widths[1], 2)                      # 16x16
        self.stage2 = Block(widths[1], widths[2], 2)                      # 8x8
        self.stage3 = Block(widths[2], widths[3], 2)                      # 4x4
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[3], n_classes)

    def forward(self, x):
        x = self.stage3(self.stage2(self.stage1(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


def build_model():
    return ShapesPHC()


def _normalise_cl(xb):
    """Network input in channels-last layout (faster CPU convs)."""
    return base._normalise(xb).contiguous(memory_format=torch.channels_last)


def train(model, d, seed, quick=False, log=print):
    """shapes-resnet's recipe. The PHC factor F is rank 5, so the model
    cannot be moved to channels-last as a whole: only the input and the
    plain conv weights are (fit_classifier's channels_last=False)."""
    x, y = d["train"]
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.to(memory_format=torch.channels_last)
    common.fit_classifier(model, x, y, epochs=2 if quick else EPOCHS, batch=128,
                          lr=5e-3, seed=seed, transform=_normalise_cl,
                          augment=common.flip_augment, channels_last=False, log=log)
    return model
