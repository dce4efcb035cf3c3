"""shapes_drn.py — zoo entry "shapes-drn": a dilated residual network
(DRN-C, Yu, Koltun and Funkhouser, "Dilated Residual Networks", CVPR 2017)
on 64x64 shapes images, built so that its Eigen-CAM localises the object.

The classifiers derived from shapes-resnet end on a 4x4 map, so a CAM peak
can only land on one of 16 cell centres. DRN keeps the resolution instead:
after a stride-2 stem and one stride-2 stage (16x16), the next two residual
stages replace their stride by dilation 2 and 4 (same receptive field
growth, no loss of resolution), and two plain "degridding" conv-bn-relu
layers with dilation 2 and 1 (DRN-C) remove the checkerboard that dilated
stages leave. Global average pooling and a Linear layer classify; the CAM
layer is the last 16x16 ReLU ("degrid2_relu"), 4 input pixels per cell.

Resolution alone does not win the pointing game (Eigen-CAM peak strictly
inside the object): trained on labels only, this network scored 71.7%
(rings 24/50, crescents 14/47: the peak sits in the hole or on an edge),
and with an untied 1x1 foreground probe on the CAM layer 59.7%. What works
is a foreground loss on the layer's channel mean (a tied probe: one scale
and one offset for all channels, see shapes_common.fit_with_foreground):
the mean, which also fixes Eigen-CAM's sign, and with it the first
principal component become object versus background. GAIN_ext-style
external supervision (Li et al., CVPR 2018) from the generator's masks;
the probes are training-only, the shipped model is the plain classifier.
Widths (16, 24, 32, 32) and 6 epochs keep a rebuild affordable on 2
shared cores.

Data, evaluation and samples are shapes-resnet's (zoo/shapes_common.py);
tools/train.py converts, checks and ships it.
"""

import torch
import torch.nn as nn

from zoo import shapes_common as sc

NAME = "shapes-drn"
FAMILY = "DRN-C (dilated residual conv, dilation 2 and 4)"
TASK = "classification"
LABELS = sc.LABELS
PREPROCESS = sc.PREPROCESS
CAM_LAYER = "degrid2_relu"
EPOCHS = 6
WIDTHS = (16, 24, 32, 32)   # stem, stage1, stage2, stage3 and degrid

data, evaluate, held_out, write_sample = (sc.data, sc.evaluate,
                                          sc.held_out, sc.write_sample)


def plain_conv(cin, cout, k, stride=1, padding=0, dilation=1):
    """Bias-free nn.Conv2d (BN follows it)."""
    return nn.Conv2d(cin, cout, k, stride, padding, dilation=dilation, bias=False)


class DilatedBlock(nn.Module):
    """conv-bn-relu-conv-bn with both 3x3 convs dilated by `dilation`, plus
    a (1x1 strided when shapes differ) shortcut; padding keeps the size.
    conv(cin, cout, k, stride, padding, dilation) makes every conv."""

    def __init__(self, cin, cout, stride, dilation, conv=plain_conv):
        super().__init__()
        d = dilation
        self.conv1 = conv(cin, cout, 3, stride, d, d)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = conv(cout, cout, 3, 1, d, d)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(conv(cin, cout, 1, stride),
                                       nn.BatchNorm2d(cout))
        self.relu2 = nn.ReLU()

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        s = x if self.short is None else self.short(x)
        return self.relu2(y + s)


class ShapesDRN(nn.Module):
    """64x64 -> stem (stride 2, 32x32) -> stage1 (stride 2, 16x16) ->
    stage2 (dilation 2) -> stage3 (dilation 4) -> degrid (dilation 2, 1) ->
    16x16 -> pool -> fc."""

    def __init__(self, n_classes=len(LABELS), widths=WIDTHS, conv=plain_conv):
        super().__init__()
        w = widths
        self.stem = nn.Sequential(plain_conv(3, w[0], 3, 2, 1),
                                  nn.BatchNorm2d(w[0]), nn.ReLU())
        self.stage1 = DilatedBlock(w[0], w[1], 2, 1, conv)
        self.stage2 = DilatedBlock(w[1], w[2], 1, 2, conv)
        self.stage3 = DilatedBlock(w[2], w[3], 1, 4, conv)
        self.degrid1_conv = conv(w[3], w[3], 3, 1, 2, 2)
        self.degrid1_bn = nn.BatchNorm2d(w[3])
        self.degrid1_relu = nn.ReLU()
        self.degrid2_conv = conv(w[3], w[3], 3, 1, 1)
        self.degrid2_bn = nn.BatchNorm2d(w[3])
        self.degrid2_relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(w[3], n_classes)

    def features(self, x):
        """The 16x16 CAM layer (degrid2_relu's output)."""
        x = self.stage3(self.stage2(self.stage1(self.stem(x))))
        x = self.degrid1_relu(self.degrid1_bn(self.degrid1_conv(x)))
        return self.degrid2_relu(self.degrid2_bn(self.degrid2_conv(x)))

    def classify(self, f):
        """Logits from the CAM layer: global average pool, then fc."""
        return self.fc(torch.flatten(self.pool(f), 1))

    def forward(self, x):
        return self.classify(self.features(x))


def build_model():
    return ShapesDRN()


def train(model, d, seed, quick=False, log=print):
    """The shapes recipe plus the auxiliary foreground loss on the CAM
    layer (shapes_common.fit_with_foreground; the probe is not shipped)."""
    return sc.fit_with_foreground(model, d, seed, quick, log, EPOCHS)
