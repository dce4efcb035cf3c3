"""shapes_common.py — what the 64x64 shapes classifiers (shapes-resnet,
-phc, -atconv, -inceptionnext, -unireplk) share: labels and preprocessing,
seeded data generation (tools/data/shapes.py), the training call, accuracy,
held-out inputs, the sample image and the residual block scaffolding.
Not a zoo entry itself (zoo/__init__.py skips it); no model choices here.
"""

import torch
import torch.nn as nn

from data import shapes
from zoo import common

LABELS = list(shapes.CLASSES)
SIZE = 64
MEAN, STD = 0.5, 0.25
PREPROCESS = {"kind": "image", "size": [SIZE, SIZE], "resize": "stretch",
              "color": "rgb", "scale": 255.0, "mean": [MEAN] * 3, "std": [STD] * 3}
N_TRAIN, N_TEST = 20000, 4000
N_TRAIN_QUICK, N_TEST_QUICK = 3000, 1000


def normalise(xb):
    """uint8 (N,3,H,W) -> float32 network input, as PREPROCESS says."""
    return shapes.normalise(xb, MEAN, STD)


def data(seed, quick=False):
    """Train and held-out sets from disjoint generator seeds; images stay
    uint8 NCHW until a batch is fed."""
    n_tr, n_te = (N_TRAIN_QUICK, N_TEST_QUICK) if quick else (N_TRAIN, N_TEST)
    tr_img, tr_lab, tr_mask = shapes.make(n_tr, seed=1000 + seed, size=SIZE)
    te_img, te_lab, _ = shapes.make(n_te, seed=9000 + seed, size=SIZE)
    return {"train": (shapes.to_nchw(tr_img), torch.from_numpy(tr_lab)),
            "train_masks": torch.from_numpy(tr_mask),
            "test": (shapes.to_nchw(te_img), torch.from_numpy(te_lab)),
            "test_images": te_img, "test_labels": te_lab}


def fit(model, d, seed, quick, log, epochs, weight_decay=5e-4,
        transform=normalise, channels_last=True):
    """The shapes recipe: flip augmentation, batch 128, lr 5e-3, epochs
    (2 when quick)."""
    x, y = d["train"]
    common.fit_classifier(model, x, y, epochs=2 if quick else epochs, batch=128,
                          lr=5e-3, seed=seed, transform=transform,
                          augment=common.flip_augment, weight_decay=weight_decay,
                          channels_last=channels_last, log=log)
    return model


def fit_with_foreground(model, d, seed, quick, log, epochs, aux_weight=1.0,
                        batch=128, lr=5e-3, weight_decay=5e-4, channels_last=True):
    """The shapes recipe plus an auxiliary foreground loss on the CAM layer
    f = model.features(x) (N, C, h, w), weighted by aux_weight next to the
    classification loss. The target is the share of each cell covered by an
    object (the generator's mask, average-pooled to h x w); two binary
    cross-entropies predict it: from a 1x1 conv probe over the channels and
    from the channel mean of f with one learned scale and offset (a tied
    probe). The tied term is the one that makes the layer's mean, and so
    its Eigen-CAM, object versus background (pointing game 99.5% strict
    with it, 59.7% with the 1x1 probe alone). Probes are training-only and
    never shipped. After GAIN_ext (Li et al., "Tell me where to look",
    CVPR 2018), with mask supervision instead of Grad-CAM. Flips
    are applied to images and masks alike; AdamW + one-cycle as fit().
    channels_last=False moves only the nn.Conv2d weights to channels-last
    (models holding rank-5 parameters, e.g. PHC factors, cannot move).
    model must offer features(x) and classify(features)."""
    import time
    import torch.nn.functional as F
    x, y = d["train"]
    fg = d["train_masks"]
    epochs = 2 if quick else epochs
    for m in (model.modules() if not channels_last else [model]):
        if channels_last or isinstance(m, nn.Conv2d):
            m.to(memory_format=torch.channels_last)
    with torch.no_grad():
        width = model.features(normalise(x[:2])).shape[1]
    head = nn.Conv2d(width, 1, 1)
    tied = nn.Parameter(torch.tensor([1.0, 0.0]))
    params = list(model.parameters()) + list(head.parameters()) + [tied]
    gen = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    steps = epochs * ((n + batch - 1) // batch)
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps,
                                                pct_start=0.2)
    for ep in range(epochs):
        model.train()
        t0, tot, correct = time.time(), 0.0, 0
        perm = torch.randperm(n, generator=gen)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb = normalise(x[idx]).contiguous(memory_format=torch.channels_last)
            mb = (fg[idx] > 0).float()[:, None]
            h = torch.rand(len(idx), generator=gen) < 0.5
            v = torch.rand(len(idx), generator=gen) < 0.5
            xb, mb = xb.clone(), mb.clone()
            xb[h], mb[h] = xb[h].flip(-1), mb[h].flip(-1)
            xb[v], mb[v] = xb[v].flip(-2), mb[v].flip(-2)
            f = model.features(xb)
            out = model.classify(f)
            target = F.adaptive_avg_pool2d(mb, f.shape[-2:])
            loss = F.cross_entropy(out, y[idx]) + aux_weight * (
                F.binary_cross_entropy_with_logits(head(f), target)
                + F.binary_cross_entropy_with_logits(
                    tied[0] * f.mean(1, keepdim=True) + tied[1], target))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss) * len(idx)
            correct += int((out.argmax(1) == y[idx]).sum())
        log("epoch %d/%d loss %.4f train_acc %.4f (%.1f s)"
            % (ep + 1, epochs, tot / n, correct / n, time.time() - t0))
    model.to(memory_format=torch.contiguous_format)
    model.eval()
    return model


def evaluate(model, d):
    x, y = d["test"]
    return {"metric": "accuracy", "value": common.accuracy(model, x, y, normalise)}


def held_out(d):
    """(inputs (N,3,H,W) float32, labels (N,)) as the model sees them."""
    x, y = d["test"]
    return normalise(x), y


def write_sample(model, d, out_dir):
    """Writes test.png: the first held-out image the model classifies right."""
    return common.write_png_sample(model, d["test_images"], d["test_labels"],
                                   normalise(d["test"][0][:64]), LABELS, out_dir)


def plain_conv(cin, cout, k, stride, padding=0):
    """Bias-free nn.Conv2d (BN follows it)."""
    return nn.Conv2d(cin, cout, k, stride, padding, bias=False)


class ResBlock(nn.Module):
    """conv-bn-relu-conv-bn plus a (1x1 strided when shapes differ) shortcut;
    conv(cin, cout, k, stride, padding) makes every conv (bias-free)."""

    def __init__(self, cin, cout, stride, conv=plain_conv):
        super().__init__()
        self.conv1 = conv(cin, cout, 3, stride, 1)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = conv(cout, cout, 3, 1, 1)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(conv(cin, cout, 1, stride), nn.BatchNorm2d(cout))
        self.relu2 = nn.ReLU()

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        s = x if self.short is None else self.short(x)
        return self.relu2(y + s)


class ResNet(nn.Module):
    """64x64 -> plain stem (stride 2) -> three stride-2 residual stages of
    block(cin, cout, stride) -> 4x4 -> pool -> fc."""

    def __init__(self, block, n_classes=len(LABELS), widths=(16, 24, 40, 64)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, 2, 1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU())   # 32x32
        self.stage1 = block(widths[0], widths[1], 2)                      # 16x16
        self.stage2 = block(widths[1], widths[2], 2)                      # 8x8
        self.stage3 = block(widths[2], widths[3], 2)                      # 4x4
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[3], n_classes)

    def forward(self, x):
        x = self.stage3(self.stage2(self.stage1(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))
