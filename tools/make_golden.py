#!/usr/bin/python3
"""make_golden.py — writes the golden fixtures that prove convd equals
PyTorch: for each model, DIR/<name>/ holds the converted folder, network
inputs input_<k>.npy (N, C, H, W) float32 and PyTorch's outputs
expected_<k>.npy. Inputs are already preprocessed tensors, so the check
covers the graph only (not image decoding).

It must stay deterministic (fixed seeds, 2 threads) and quick (well under
3 minutes); it never calls convd itself (tests/golden/run.sh does).

Usage: tools/make_golden.py --out DIR [--only NAME ...]
       tools/make_golden.py --tiny-demo DIR   (writes models/tiny-demo)
"""

import argparse
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import convert  # noqa: E402

SIZE = 64


def calibrate_norms(m, seed, size=SIZE):
    """Gives a randomly initialised net realistic batch-norm statistics (one
    train-mode pass over random images with cumulative averaging), then
    perturbs affine parameters, so folding and scaling are really exercised
    and activations neither vanish nor explode."""
    g = torch.Generator().manual_seed(seed)
    bns = [b for b in m.modules() if isinstance(b, nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for b in bns:
            c = b.num_features
            b.weight.copy_(torch.rand(c, generator=g) * 0.8 + 0.6)
            b.bias.copy_(torch.randn(c, generator=g) * 0.2)
        if bns:
            for b in bns:
                b.reset_running_stats()
                b.momentum = None
            m.train()
            m(torch.randn(8, 3, size, size, generator=g))
        for mod in m.modules():
            if isinstance(mod, nn.LayerNorm):
                c = mod.weight.numel()
                mod.weight.copy_(torch.rand(c, generator=g).view_as(mod.weight) * 0.8 + 0.6)
                mod.bias.copy_(torch.randn(c, generator=g).view_as(mod.bias) * 0.2)
            ls = getattr(mod, "layer_scale", None)
            if isinstance(ls, torch.Tensor):
                ls.copy_(torch.rand(ls.shape, generator=g) * 0.4 + 0.1)
    return m.eval()


class OpsMix(nn.Module):
    """A small net using the ops the torchvision models do not: slice,
    upsample, pad, layernorm over the last dim, weight/scalar operands,
    hardswish, silu, leaky_relu, clamp, avgpool with padding, 1x1 conv
    with groups, softmax."""

    def __init__(self, k=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(16)
        self.dw = nn.Conv2d(16, 16, 5, padding=2, groups=16)
        self.pw = nn.Conv2d(16, 24, 1, groups=2)
        self.scale = nn.Parameter(torch.rand(24, 1, 1) + 0.5)
        self.ln = nn.LayerNorm(24)
        self.pool = nn.AvgPool2d(3, 2, 1, count_include_pad=False)
        self.mp = nn.MaxPool2d(3, 2, 1, ceil_mode=True)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.lrelu = nn.LeakyReLU(0.1)
        self.head = nn.Linear(24 + 12, k)

    def forward(self, x):
        y = F.hardswish(self.bn(self.stem(x)))              # (N,16,32,32)
        y = y + F.silu(self.dw(y))
        y = self.pw(y) * self.scale                           # (N,24,32,32)
        y = self.ln(y.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        a = self.pool(y)                                      # (N,24,16,16)
        b = self.mp(F.pad(a, (1, 0, 0, 1)))                   # (N,24,9,9)
        b = self.up(b[:, :, :8, :8])                          # (N,24,16,16)
        c = torch.cat([a[:, ::2], self.lrelu(b[:, 12:])], 1)  # (N,24,16,16)
        c = torch.clamp(c, -2.0, 3.0) * 0.5 + 0.1
        s = F.interpolate(c[:, :12], scale_factor=0.5, mode="nearest")
        z = torch.cat([c.mean((2, 3)), s.mean((2, 3))], 1)
        return self.head(torch.tanh(z) - 1.0 / (1.0 + z * z))


class TinyDemo(nn.Module):
    """About 45k parameters: four conv-bn-relu stages (the last one
    residual), global average pool, linear head."""

    def __init__(self, k=10):
        super().__init__()

        def cbr(cin, cout, stride):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                                 nn.BatchNorm2d(cout), nn.ReLU())
        self.stem = cbr(3, 16, 2)
        self.stage1 = cbr(16, 32, 2)
        self.stage2 = cbr(32, 48, 2)
        self.block = nn.Sequential(nn.Conv2d(48, 48, 3, 1, 1, bias=False),
                                   nn.BatchNorm2d(48))
        self.relu = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(48, k)

    def forward(self, x):
        y = self.stage2(self.stage1(self.stem(x)))
        y = self.relu(y + self.block(y))
        return self.fc(torch.flatten(self.pool(y), 1))


CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
           "horse", "ship", "truck"]


def tiny_demo(out):
    """models/tiny-demo: TinyDemo with seeded random weights (calibrated
    norms), a 64x64 sample.png (skimage's chelsea) and CIFAR-10 labels. The
    weights are untrained: the labels it shows are arbitrary."""
    import skimage.data
    import skimage.io
    import skimage.transform
    torch.manual_seed(11)
    m = calibrate_norms(TinyDemo(len(CIFAR10)), 11)
    pre = convert.imagenet_preprocess(SIZE, SIZE)
    pre["resize_to"] = SIZE
    convert.convert(m, torch.zeros(1, 3, SIZE, SIZE), out, name="tiny-demo",
                    labels=CIFAR10, preprocess=pre)
    img = skimage.data.chelsea()
    h, w = img.shape[:2]
    s = min(h, w)
    img = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
    img = skimage.transform.resize(img, (SIZE, SIZE), anti_aliasing=True)
    skimage.io.imsave(os.path.join(out, "sample.png"),
                      (img * 255).round().clip(0, 255).astype(np.uint8),
                      check_contrast=False)
    n = sum(p.numel() for p in m.parameters())
    print("tiny-demo: %d parameters, written to %s" % (n, out))


def images(size):
    """Network inputs from skimage sample photos: bilinear resize to size x
    size, /255, ImageNet mean/std, (1, 3, H, W) float32."""
    import skimage.data
    mean = torch.tensor(convert.IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(convert.IMAGENET_STD).view(1, 3, 1, 1)
    out = {}
    for name in ("astronaut", "chelsea", "coffee"):
        img = torch.from_numpy(getattr(skimage.data, name)()).float()
        x = img.permute(2, 0, 1).unsqueeze(0) / 255.0
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        out[name] = ((x - mean) / std).contiguous()
    return out


def inputs_for(size, seed):
    im = images(size)
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(1, 3, size, size, generator=g)
    return [im["astronaut"], im["chelsea"], torch.cat([im["coffee"], noise])]


def f16_round(m):
    with torch.no_grad():
        for t in list(m.parameters()) + list(m.buffers()):
            if t.is_floating_point():
                t.copy_(t.half().float())
    return m


def models():
    """(folder name, builder, dtype) in a fixed order."""
    def tv(arch, seed):
        return lambda: calibrate_norms(convert.torchvision_model(arch, seed), seed)

    def opsmix():
        torch.manual_seed(7)
        return calibrate_norms(OpsMix(), 7)
    return [("resnet18", tv("resnet18", 1), "F32"),
            ("mobilenet_v2", tv("mobilenet_v2", 2), "F32"),
            ("convnext_tiny", tv("convnext_tiny", 3), "F32"),
            ("densenet121", tv("densenet121", 4), "F32"),
            ("opsmix", opsmix, "F32"),
            ("mobilenet_v2_f16", tv("mobilenet_v2", 5), "F16")]


def save(path, arr):
    np.save(path, np.ascontiguousarray(arr.detach().numpy().astype("<f4")))


def main(argv=None):
    ap = argparse.ArgumentParser(description="write convd golden fixtures")
    ap.add_argument("--out")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--tiny-demo", metavar="DIR", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    if args.tiny_demo:
        tiny_demo(args.tiny_demo)
        if not args.out:
            return 0
    if not args.out:
        ap.error("--out is required")
    t0 = time.time()
    for name, build, dtype in models():
        if args.only and name not in args.only:
            continue
        m = build()
        if dtype == "F16":
            m = f16_round(m)
        d = os.path.join(args.out, name)
        try:
            convert.convert(m, torch.zeros(1, 3, SIZE, SIZE), d, name=name,
                            preprocess=convert.imagenet_preprocess(SIZE, SIZE),
                            dtype=dtype)
        except convert.ConvertError as e:
            print("make_golden.py: %s: %s" % (name, e), file=sys.stderr)
            return 1
        for k, x in enumerate(inputs_for(SIZE, 100 + len(name))):
            with torch.no_grad():
                y = m(x)
            save(os.path.join(d, "input_%d.npy" % k), x)
            save(os.path.join(d, "expected_%d.npy" % k), y)
        print("%-18s %d inputs, output %s, |max| %.3g  (%.1fs)"
              % (name, k + 1, tuple(y.shape), y.abs().max().item(), time.time() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
