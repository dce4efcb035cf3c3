"""inceptionnext.py — PyTorch reference layer of InceptionNeXt (Yu et al.,
"InceptionNeXt: When Inception Meets ConvNeXt", CVPR 2024), written from the
paper's formulas: InceptionDWConv2d splits the channels into an identity part
and three groups of gc = int(C * branch_ratio) channels, running a square
k_s x k_s depthwise conv, a 1 x k_b and a k_b x 1 band depthwise conv on
them, and concatenates the four parts. It is traced as existing ops (slice,
conv, concat); no lowering is registered. GOLDEN: a small MetaNeXt-style net
(token mixer -> BN -> 1x1 MLP -> layer scale -> residual), odd sizes.
"""
import torch
import torch.nn as nn

from families.unireplknet import randomize


class InceptionDWConv2d(nn.Module):
    def __init__(self, in_channels, square_kernel_size=3, band_kernel_size=11,
                 branch_ratio=0.125):
        super().__init__()
        gc = int(in_channels * branch_ratio)
        sk, bk = square_kernel_size, band_kernel_size
        self.dwconv_hw = nn.Conv2d(gc, gc, sk, padding=sk // 2, groups=gc)
        self.dwconv_w = nn.Conv2d(gc, gc, (1, bk), padding=(0, bk // 2), groups=gc)
        self.dwconv_h = nn.Conv2d(gc, gc, (bk, 1), padding=(bk // 2, 0), groups=gc)
        self.split_indexes = (in_channels - 3 * gc, gc, gc, gc)

    def forward(self, x):
        # indexed, not unpacked: torch.fx cannot iterate a traced split
        xs = torch.split(x, self.split_indexes, dim=1)
        return torch.cat((xs[0], self.dwconv_hw(xs[1]), self.dwconv_w(xs[2]),
                          self.dwconv_h(xs[3])), dim=1)


class MetaNeXtBlock(nn.Module):
    def __init__(self, dim, band_kernel_size=11, branch_ratio=0.125, mlp_ratio=4):
        super().__init__()
        self.token_mixer = InceptionDWConv2d(dim, band_kernel_size=band_kernel_size,
                                             branch_ratio=branch_ratio)
        self.norm = nn.BatchNorm2d(dim)
        h = mlp_ratio * dim
        self.fc1 = nn.Conv2d(dim, h, 1)
        self.act = nn.GELU()
        self.fc2 = nn.Conv2d(h, dim, 1)
        self.gamma = nn.Parameter(torch.rand(1, dim, 1, 1) + 0.5)

    def forward(self, x):
        y = self.fc2(self.act(self.fc1(self.norm(self.token_mixer(x)))))
        return x + self.gamma * y


class TinyInceptionNeXt(nn.Module):
    def __init__(self, dim=32, band_kernel_size=11, branch_ratio=0.125, depth=2):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dim, 3, 2, 1), nn.BatchNorm2d(dim))
        self.blocks = nn.Sequential(*[MetaNeXtBlock(dim, band_kernel_size,
                                                    branch_ratio)
                                      for _ in range(depth)])

    def forward(self, x):
        return self.blocks(self.stem(x))


GOLDEN = [
    ("inceptionnext_k11", lambda: randomize(TinyInceptionNeXt()), (2, 3, 31, 29)),
    ("inceptionnext_k7_r25", lambda: randomize(TinyInceptionNeXt(
        dim=24, band_kernel_size=7, branch_ratio=0.25, depth=1)), (3, 3, 19, 23)),
]
