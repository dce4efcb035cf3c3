"""shapes_drn_phc.py — zoo entry "shapes-drn-phc": shapes-drn's dilated
residual network (zoo/shapes_drn.py: stride-2 stem and stage 1, dilation 2
and 4 stages, DRN-C degridding, 16x16 CAM layer, auxiliary foreground loss
in training) with every conv after the stem replaced by a PHC layer
(PHConv2d, n = 4, tools/families/hypercomplex.py, dilation included): each
weight is sum_s kron(A_s, F_s), about 1/4 of the conv parameters. The stem
(3 input channels) and the Linear classifier stay plain.
tools/train.py converts, checks and ships it.
"""

from families.hypercomplex import PHConv2d
from zoo import shapes_common as sc
from zoo import shapes_drn

NAME = "shapes-drn-phc"
FAMILY = "PHC n=4 (hypercomplex) in a DRN-C (dilated) network"
TASK = "classification"
LABELS = sc.LABELS
PREPROCESS = sc.PREPROCESS
CAM_LAYER = shapes_drn.CAM_LAYER
N_HC = 4
EPOCHS = shapes_drn.EPOCHS

data, evaluate, held_out, write_sample = (sc.data, sc.evaluate,
                                          sc.held_out, sc.write_sample)


def phc_conv(cin, cout, k, stride=1, padding=0, dilation=1):
    """PHC layer (n = N_HC); no bias in its forward (BN follows)."""
    return PHConv2d(N_HC, cin, cout, k, stride=stride, padding=padding,
                    dilation=dilation)


def build_model():
    return shapes_drn.ShapesDRN(conv=phc_conv)


def train(model, d, seed, quick=False, log=print):
    """shapes-drn's recipe; the PHC factor F is rank 5, so only the plain
    conv weights move to channels-last."""
    return sc.fit_with_foreground(model, d, seed, quick, log, EPOCHS,
                                  channels_last=False)
