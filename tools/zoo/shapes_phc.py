"""shapes_phc.py — zoo entry "shapes-phc": the shapes-resnet architecture
(stride-2 stem, three stride-2 residual stages of 24/40/64 channels) with
every 3x3 and 1x1 shortcut conv replaced by a PHC layer (PHConv2d, n = 4,
tools/families/hypercomplex.py): each conv weight is sum_s kron(A_s, F_s),
about 1/4 of the conv parameters. The stem conv stays plain (3 input
channels do not divide by 4) and so does the classifier (a Linear layer).
Data, evaluation and samples are shapes-resnet's (zoo/shapes_common.py); it only defines the model
and its recipe; tools/train.py converts, checks and ships it.
"""

import torch
import torch.nn as nn

from families.hypercomplex import PHConv2d
from zoo import shapes_common as sc

NAME = "shapes-phc"
FAMILY = "PHC n=4 (hypercomplex conv); baseline shapes-resnet 98.12%"
TASK = "classification"
LABELS = sc.LABELS
PREPROCESS = sc.PREPROCESS
N_HC = 4
EPOCHS = 12

data, evaluate, held_out, write_sample = (sc.data, sc.evaluate,
                                          sc.held_out, sc.write_sample)


def phc_conv(cin, cout, k, stride, padding=0):
    """PHC layer (n = N_HC); it carries no bias in its forward (BN follows)."""
    return PHConv2d(N_HC, cin, cout, k, stride=stride, padding=padding)


class Block(sc.ResBlock):
    """PHC conv-bn-relu-PHC conv-bn plus a (1x1 PHC strided) shortcut."""

    def __init__(self, cin, cout, stride):
        super().__init__(cin, cout, stride, conv=phc_conv)


class ShapesPHC(sc.ResNet):
    """64x64 -> plain stem (stride 2) -> three stride-2 PHC stages -> 4x4."""

    def __init__(self, n_classes=len(LABELS), widths=(16, 24, 40, 64)):
        super().__init__(Block, n_classes, widths)


def build_model():
    return ShapesPHC()


def _normalise_cl(xb):
    """Network input in channels-last layout (faster CPU convs)."""
    return sc.normalise(xb).contiguous(memory_format=torch.channels_last)


def train(model, d, seed, quick=False, log=print):
    """shapes-resnet's recipe. The PHC factor F is rank 5, so the model
    cannot be moved to channels-last as a whole: only the input and the
    plain conv weights are (fit_classifier's channels_last=False)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            m.to(memory_format=torch.channels_last)
    return sc.fit(model, d, seed, quick, log, EPOCHS, transform=_normalise_cl,
                  channels_last=False)
