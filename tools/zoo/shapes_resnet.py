"""shapes_resnet.py — zoo entry "shapes-resnet": the plain residual baseline
classifier on 64x64 shapes images (tools/data/shapes.py). About 97k
parameters: a stride-2 stem and three stride-2 residual stages (24/40/64
channels).
It only defines the model, its data and its training recipe; tools/train.py
converts, checks and ships it.
"""

from zoo import shapes_common as sc

NAME = "shapes-resnet"
FAMILY = "resnet (plain conv)"
TASK = "classification"
LABELS = sc.LABELS
PREPROCESS = sc.PREPROCESS
EPOCHS = 12

data, evaluate, held_out, write_sample = (sc.data, sc.evaluate,
                                          sc.held_out, sc.write_sample)

Block = sc.ResBlock  # conv-bn-relu-conv-bn plus a 1x1 strided shortcut


class ShapesResNet(sc.ResNet):
    """64x64 -> stem (stride 2) -> three stride-2 residual stages -> 4x4."""

    def __init__(self, n_classes=len(LABELS), widths=(16, 24, 40, 64)):
        super().__init__(Block, n_classes, widths)


def build_model():
    return ShapesResNet()


def train(model, d, seed, quick=False, log=print):
    return sc.fit(model, d, seed, quick, log, EPOCHS)
