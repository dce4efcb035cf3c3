"""shapes_wavemix_seg.py — zoo entry "shapes-wavemix-seg": a WaveMix (Haar
DWT) semantic segmenter on the 64x64 shapes images (tools/data/shapes.py):
per-pixel logits over background + the 7 shape classes, (N, 8, 64, 64) at
input resolution. A conv stem down to 16x16 (keeping its 64x64 and 32x32
features as skips), level-1 WaveMix blocks at 16x16 (1x1 reduction, Haar
DWT, 1x1-conv MLP, stride-2 transposed conv, BatchNorm, residual;
tools/families/wavemix.py), then two stride-2 transposed-conv decoder
stages that add the skips, and a final 1x1 conv to the classes.
Held-out quality is mIoU over the 8 classes (background included),
accumulated over all held-out pixels. It only defines the model, its data
and its training recipe; tools/train.py converts, checks and ships it.
"""

import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from data import shapes
from families.wavemix import WaveMixBlock
from zoo.fashion_wavemix import swap_convt

NAME = "shapes-wavemix-seg"
FAMILY = "wavemix (Haar DWT)"
TASK = "segmentation"
LABELS = ["background"] + list(shapes.CLASSES)
K = len(LABELS)
SIZE = 64
MEAN, STD = 0.5, 0.25
PREPROCESS = {"kind": "image", "size": [SIZE, SIZE], "resize": "stretch",
              "color": "rgb", "scale": 255.0, "mean": [MEAN] * 3, "std": [STD] * 3}
N_TRAIN, N_TEST = 10000, 1000
N_TRAIN_QUICK, N_TEST_QUICK = 2000, 300
EPOCHS = 6
DIM, DEPTH, MULT, FF = 64, 4, 2, 32
W1, W2 = 16, 32                       # stem widths at 64x64 and 32x32


def _cbg(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                         nn.BatchNorm2d(cout), nn.GELU())


class Up(nn.Module):
    """Decoder stage: stride-2 transposed conv (k4, p1), + skip, BN, GELU."""

    def __init__(self, cin, cout):
        super().__init__()
        self.up = nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(cout)
        self.act = nn.GELU()

    def forward(self, x, skip):
        return self.act(self.bn(self.up(x) + skip))


class ShapesWaveMixSeg(nn.Module):
    """3x64x64 -> (N, K, 64, 64) per-pixel class logits."""

    def __init__(self, k=K, dim=DIM, depth=DEPTH, mult=MULT, ff=FF):
        super().__init__()
        self.stem1 = _cbg(3, W1, 1)                              # 64x64
        self.stem2 = _cbg(W1, W2, 2)                             # 32x32
        self.stem3 = _cbg(W2, dim, 2)                            # 16x16
        self.blocks = nn.Sequential(*[WaveMixBlock(dim, mult=mult, ff_channel=ff)
                                      for _ in range(depth)])
        self.up2 = Up(dim, W2)                                   # 32x32
        self.up1 = Up(W2, W1)                                    # 64x64
        self.head = nn.Conv2d(W1, k, 1)

    def forward(self, x):
        s1 = self.stem1(x)
        s2 = self.stem2(s1)
        y = self.blocks(self.stem3(s2))
        return self.head(self.up1(self.up2(y, s2), s1))


def build_model():
    return ShapesWaveMixSeg()


def _normalise(xb):
    return shapes.normalise(xb, MEAN, STD)


def data(seed, quick=False):
    """Train and held-out sets from disjoint generator seeds (the same seeds
    as the shapes classifiers); images and masks stay uint8 until used."""
    n_tr, n_te = (N_TRAIN_QUICK, N_TEST_QUICK) if quick else (N_TRAIN, N_TEST)
    tr_img, _, tr_mask = shapes.make(n_tr, seed=1000 + seed, size=SIZE)
    te_img, te_lab, te_mask = shapes.make(n_te, seed=9000 + seed, size=SIZE)
    return {"train": (shapes.to_nchw(tr_img), torch.from_numpy(tr_mask)),
            "test": (shapes.to_nchw(te_img), torch.from_numpy(te_mask)),
            "test_images": te_img, "test_labels": te_lab, "test_masks": te_mask}


def _flip(xb, mb, gen):
    """The same random horizontal/vertical flips on images and masks."""
    n = xb.shape[0]
    h = torch.rand(n, generator=gen) < 0.5
    v = torch.rand(n, generator=gen) < 0.5
    xb, mb = xb.clone(), mb.clone()
    xb[h], mb[h] = xb[h].flip(-1), mb[h].flip(-1)
    xb[v], mb[v] = xb[v].flip(-2), mb[v].flip(-2)
    return xb, mb


def train(model, d, seed, quick=False, log=print, batch=32, lr=4e-3):
    """Per-pixel cross-entropy, AdamW + one-cycle, seeded shuffling/flips.
    Transposed convs run through the fast FastConvT path while training."""
    x, m = d["train"]
    epochs = 2 if quick else EPOCHS
    swap_convt(model, True)
    gen = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    steps = epochs * ((n + batch - 1) // batch)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps,
                                                pct_start=0.2)
    for ep in range(epochs):
        model.train()
        t0, tot, seen = time.time(), 0.0, 0
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb, mb = _flip(x[idx], m[idx], gen)
            loss = F.cross_entropy(model(_normalise(xb)), mb.long())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss) * len(idx)
            seen += len(idx)
        log("epoch %d/%d loss %.4f (%.1f s)" % (ep + 1, epochs, tot / seen,
                                              time.time() - t0))
    return swap_convt(model, False).eval()


@torch.no_grad()
def predict_masks(model, x, batch=100):
    """uint8 images (N,3,H,W) -> predicted class per pixel (N,H,W) int64."""
    model.eval()
    return torch.cat([model(_normalise(x[i:i + batch])).argmax(1)
                      for i in range(0, x.shape[0], batch)])


def miou(pred, truth, k=K):
    """(mean IoU, per-class IoU list) over all pixels; classes absent from
    both prediction and truth are left out of the mean."""
    p = pred.reshape(-1).long()
    t = truth.reshape(-1).long()
    conf = torch.bincount(t * k + p, minlength=k * k).reshape(k, k).double()
    inter = conf.diag()
    union = conf.sum(0) + conf.sum(1) - inter
    ious = [float(inter[c] / union[c]) if union[c] > 0 else float("nan") for c in range(k)]
    valid = [v for v in ious if v == v]
    return sum(valid) / len(valid), ious


def evaluate(model, d):
    x, m = d["test"]
    value, ious = miou(predict_masks(model, x), m)
    return {"metric": "mIoU", "value": value,
            "per_class": {LABELS[c]: round(v, 4) for c, v in enumerate(ious)}}


def held_out(d):
    """(inputs (N,3,H,W) float32, masks (N,H,W)) as the model sees them."""
    x, m = d["test"]
    return _normalise(x), m


def write_sample(model, d, out_dir):
    """Writes test.png (the first held-out image with three objects, else the
    first one), test_mask.png (its predicted class per pixel, as 8-bit
    class indices) and test.json with the expected dominant label, the
    per-pixel accuracy of the prediction and the classes present."""
    from PIL import Image
    x, m = d["test"]
    counts = [len(np.unique(mm)) for mm in d["test_masks"][:64]]
    i = int(np.argmax(np.array(counts) >= 4)) if max(counts) >= 4 else 0
    Image.fromarray(d["test_images"][i]).save(os.path.join(out_dir, "test.png"))
    pred = predict_masks(model, x[i:i + 1])[0].numpy().astype(np.uint8)
    Image.fromarray(pred).save(os.path.join(out_dir, "test_mask.png"))
    truth = d["test_masks"][i]
    info = {"file": "test.png", "label": LABELS[int(d["test_labels"][i]) + 1],
            "index": int(d["test_labels"][i]) + 1, "mask": "test_mask.png",
            "classes_present": [LABELS[c] for c in np.unique(truth)],
            "pixel_accuracy": round(float((pred == truth).mean()), 4)}
    with open(os.path.join(out_dir, "test.json"), "w") as f:
        json.dump(info, f)
        f.write("\n")
    return info
