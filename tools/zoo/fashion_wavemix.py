"""fashion_wavemix.py — zoo entry "fashion-wavemix": a small WaveMix (Haar
DWT token-mixing) classifier on Fashion-MNIST (tools/data/fashion.py, the
official 60k/10k split of Debian's dataset-fashion-mnist). A two-conv stem
(28x28 -> 14x14, C channels), level-1 WaveMix blocks (1x1 reduction, Haar
DWT, 1x1-conv MLP, stride-2 transposed conv back up, BatchNorm, residual;
tools/families/wavemix.py), global average pool and a linear layer.
It only defines the model, its data and its training recipe; tools/train.py
converts, checks and ships it.

Published Fashion-MNIST test accuracies to set ours against (official 10k
test split):
  WaveMix (Jeevan & Sethi 2022, arXiv 2203.03689): 93.91%, as listed for
    the paper under "Fashion MNIST (test)" by wizwand.com (a benchmark
    aggregator; not checked against the paper's own table)
  WaveMix-Lite README (github.com/pranavphoenix/WaveMix): "90% Accu. in
    Fashion MNIST" with WaveMix Lite-8/5, 7,156 parameters
  Fashion-MNIST benchmark table (github.com/zalandoresearch/fashion-mnist
    README): WRN-28-10 + Random Erasing 96.3%, Capsule Network (8M params)
    93.6%, VGG16 (26M params) 93.5%, MLP 256-128-100 88.33%, human
    (crowd-sourced, no fashion expertise) 83.5%
  Xiao, Rasul & Vollgraf 2017 (arXiv 1708.07747), best scikit-learn
    baseline (SVC, RBF kernel): 89.7%
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

from data import fashion
from families.wavemix import WaveMixBlock
from zoo import common

NAME = "fashion-wavemix"
FAMILY = "wavemix (Haar DWT)"
TASK = "classification"
LABELS = list(fashion.CLASSES)
SIZE = 28
MEAN, STD = 0.286, 0.353          # Fashion-MNIST train pixel mean/std (x/255)
PREPROCESS = {"kind": "image", "size": [SIZE, SIZE], "resize": "stretch",
              "color": "gray", "scale": 255.0, "mean": [MEAN], "std": [STD]}
N_TRAIN_QUICK, N_TEST_QUICK = 6000, 2000
EPOCHS = 5
DIM, DEPTH, MULT, FF = 48, 3, 2, 32


class FastConvT(nn.Module):
    """Training-time stand-in for nn.ConvTranspose2d(k=4, stride=2,
    padding=1), whose CPU kernels in this torch 1.13 build are ~17x slower:
    the same weight tensor applied as one 2x2 conv over the zero-padded input
    giving the 4 output phases (4*Cout channels), each phase cropped at its
    offset, then a pixel shuffle. Same results within float rounding;
    swap_convt() puts the real layer back before shipping."""
    _TAP = ((3, 1), (2, 0))  # output phase a: kernel taps for input rows m-1+a, m+a

    def __init__(self, ct):
        super().__init__()
        self.ct = ct

    def forward(self, x):
        w = self.ct.weight                                     # (Cin, Cout, 4, 4)
        cin, cout = w.shape[0], w.shape[1]
        n, _, h, wd = x.shape
        ks = [w[:, :, list(self._TAP[a])][:, :, :, list(self._TAP[b])]
              for a in range(2) for b in range(2)]             # 4 x (Cin, Cout, 2, 2)
        k2 = torch.stack(ks, 2).permute(1, 2, 0, 3, 4).reshape(cout * 4, cin, 2, 2)
        bias = None if self.ct.bias is None else self.ct.bias.repeat_interleave(4)
        y = F.conv2d(F.pad(x, (1, 1, 1, 1)), k2, bias).view(n, cout, 4, h + 1, wd + 1)
        y = torch.stack([y[:, :, 2 * a + b, a:a + h, b:b + wd]
                         for a in range(2) for b in range(2)], 2)
        return F.pixel_shuffle(y.reshape(n, cout * 4, h, wd), 2)


def _fast_ok(m):
    return (isinstance(m, nn.ConvTranspose2d) and m.kernel_size == (4, 4)
            and m.stride == (2, 2) and m.padding == (1, 1) and m.groups == 1
            and m.output_padding == (0, 0) and m.dilation == (1, 1))


def swap_convt(model, fast):
    """fast=True: wraps every ConvTranspose2d(k4, s2, p1) of model in
    FastConvT (for training); fast=False: unwraps them again. In place."""
    for mod in list(model.modules()):
        for name, child in list(mod.named_children()):
            if fast and _fast_ok(child):
                setattr(mod, name, FastConvT(child))
            elif not fast and isinstance(child, FastConvT):
                setattr(mod, name, child.ct)
    return model


class FashionWaveMix(nn.Module):
    """1x28x28 -> conv stem (16 ch at 28x28, DIM ch at 14x14) -> DEPTH
    WaveMix blocks at 14x14 (their DWT works at 7x7) -> pool -> linear."""

    def __init__(self, n_classes=len(LABELS), dim=DIM, depth=DEPTH, mult=MULT, ff=FF):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.GELU(),
            nn.Conv2d(16, dim, 3, 2, 1, bias=False), nn.BatchNorm2d(dim), nn.GELU())
        self.blocks = nn.Sequential(*[WaveMixBlock(dim, mult=mult, ff_channel=ff)
                                      for _ in range(depth)])
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(0.1)
        self.fc = nn.Linear(dim, n_classes)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(self.drop(torch.flatten(self.pool(x), 1)))


def build_model():
    return FashionWaveMix()


def _normalise(xb):
    """uint8 (N,1,28,28) -> float32 network input, as PREPROCESS says."""
    return xb.float().div_(255.0).sub_(MEAN).div_(STD)


def _hflip(xb, gen):
    """Random horizontal flips (garments are left-right symmetric enough;
    vertical flips are not used)."""
    f = torch.rand(xb.shape[0], generator=gen) < 0.5
    xb = xb.clone()
    xb[f] = xb[f].flip(-1)
    return xb


def data(seed, quick=False):
    """The official split; quick mode takes the first 6000/2000 images. The
    data is fixed, seed only drives training."""
    tr_img, tr_lab = fashion.load("train")
    te_img, te_lab = fashion.load("test")
    if quick:
        tr_img, tr_lab = tr_img[:N_TRAIN_QUICK], tr_lab[:N_TRAIN_QUICK]
        te_img, te_lab = te_img[:N_TEST_QUICK], te_lab[:N_TEST_QUICK]
    to_t = lambda a: torch.from_numpy(a).unsqueeze(1).contiguous()  # noqa: E731
    return {"train": (to_t(tr_img), torch.from_numpy(tr_lab)),
            "test": (to_t(te_img), torch.from_numpy(te_lab)),
            "test_images": te_img, "test_labels": te_lab}


def train(model, d, seed, quick=False, log=print):
    x, y = d["train"]
    swap_convt(model, True)
    common.fit_classifier(model, x, y, epochs=2 if quick else EPOCHS, batch=128,
                          lr=4e-3, seed=seed, transform=_normalise, augment=_hflip,
                          weight_decay=5e-4, channels_last=False, log=log)
    return swap_convt(model, False)


def evaluate(model, d):
    x, y = d["test"]
    return {"metric": "accuracy", "value": common.accuracy(model, x, y, _normalise)}


def held_out(d):
    """(inputs (N,1,28,28) float32, labels (N,)) as the model sees them."""
    x, y = d["test"]
    return _normalise(x), y


def write_sample(model, d, out_dir):
    """Writes test.png (greyscale 28x28): the first test image classified
    right."""
    return common.write_png_sample(model, d["test_images"], d["test_labels"],
                                   _normalise(d["test"][0][:64]), LABELS, out_dir)
