"""wavemix.py — PyTorch reference layers of WaveMix (Jeevan & Sethi,
"WaveMix: a resource-efficient neural network for image analysis"): the 2-D
Haar discrete wavelet transform, its inverse, and the WaveMix block whose
decoder is a stride-2 transposed convolution; their converter lowerings and
GOLDEN cases.

HaarDWT reproduces what WaveMix computes with pytorch_wavelets'
DWTForward(J=1, wave='db1', mode='zero') on even sizes followed by
cat([yl, yh[0].reshape(b, 3c, h/2, w/2)], 1). For each 2x2 block
(a b / c d) of channel c (orthonormal Haar, 1/2 factors in 2-D):
    LL = (a+b+c+d)/2                  -> output channel c
    B1 = (a+b-c-d)/2   (lo_w, hi_h)   -> output channel C + 3c
    B2 = (a-b+c-d)/2   (hi_w, lo_h)   -> output channel C + 3c + 1
    B3 = (a-b-c+d)/2   (hi_w, hi_h)   -> output channel C + 3c + 2
(the reshape puts the three bands of one channel next to each other).
Odd heights or widths are refused (WaveMix's reshape needs even sizes).
HaarIDWT is the exact inverse (4C -> C channels, size x2).

Also registered: nn.ConvTranspose1d/2d/3d -> convd "conv_transpose" (weight
(Cin, Cout/groups, k...), stride, padding, output_padding, dilation, groups).
Writes nothing; tools/make_family_golden.py uses GOLDEN.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from convd_fx_custom import register_module


class HaarDWT(nn.Module):
    """(N, C, H, W) -> (N, 4C, H/2, W/2) in WaveMix's channel order."""

    def forward(self, x):
        if x.shape[-2] % 2 or x.shape[-1] % 2:
            raise ValueError("HaarDWT needs even height and width")
        a, b = x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2]
        c, d = x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2]
        ll = 0.5 * ((a + b) + (c + d))
        b1 = 0.5 * ((a + b) - (c + d))
        b2 = 0.5 * ((a - b) + (c - d))
        b3 = 0.5 * ((a - b) - (c - d))
        n, ch, h, w = ll.shape
        bands = torch.stack([b1, b2, b3], dim=2).reshape(n, 3 * ch, h, w)
        return torch.cat([ll, bands], dim=1)


class HaarIDWT(nn.Module):
    """(N, 4C, H, W) in HaarDWT's order -> (N, C, 2H, 2W)."""

    def forward(self, y):
        n, c4, h, w = y.shape
        if c4 % 4:
            raise ValueError("HaarIDWT needs a multiple of 4 channels")
        c = c4 // 4
        ll = y[:, :c]
        bands = y[:, c:].reshape(n, c, 3, h, w)
        b1, b2, b3 = bands[:, :, 0], bands[:, :, 1], bands[:, :, 2]
        a = 0.5 * ((ll + b1) + (b2 + b3))
        b = 0.5 * ((ll + b1) - (b2 + b3))
        cc = 0.5 * ((ll - b1) + (b2 - b3))
        d = 0.5 * ((ll - b1) - (b2 - b3))
        top = torch.stack([a, b], dim=-1).reshape(n, c, h, 2 * w)
        bot = torch.stack([cc, d], dim=-1).reshape(n, c, h, 2 * w)
        return torch.stack([top, bot], dim=3).reshape(n, c, 2 * h, 2 * w)


@register_module(HaarDWT)
def _lower_dwt(cv, n, m):
    x = cv.tensor(n.args[0])
    if len(x.shape) != 4 or x.shape[2] % 2 or x.shape[3] % 2:
        cv.fail("haar_dwt needs a 4-D input with even height and width")
    return cv.emit("haar_dwt", [x])


@register_module(HaarIDWT)
def _lower_idwt(cv, n, m):
    x = cv.tensor(n.args[0])
    if len(x.shape) != 4 or x.shape[1] % 4:
        cv.fail("haar_idwt needs a 4-D input with 4C channels")
    return cv.emit("haar_idwt", [x])


@register_module(nn.ConvTranspose1d)
@register_module(nn.ConvTranspose2d)
@register_module(nn.ConvTranspose3d)
def _lower_conv_transpose(cv, n, m):
    p = n.target
    x = cv.tensor(n.args[0])
    if len(n.args) > 1 or n.kwargs:
        cv.fail("conv_transpose with an explicit output_size")
    if m.padding_mode != "zeros":
        cv.fail("conv_transpose padding_mode %r (zeros only)" % m.padding_mode)
    d = m.weight.dim() - 2
    pad = [int(v) for v in m.padding]
    ws = {"weight": cv.weight(p + ".weight", m.weight)}
    if m.bias is not None:
        ws["bias"] = cv.weight(p + ".bias", m.bias)
    attrs = {"stride": [int(v) for v in m.stride], "padding": pad + pad,
             "output_padding": [int(v) for v in m.output_padding],
             "dilation": [int(v) for v in m.dilation], "groups": int(m.groups)}
    if len(attrs["stride"]) != d:
        cv.fail("conv_transpose attribute ranks")
    return cv.emit("conv_transpose", [x], ws, attrs)


class WaveMixBlock(nn.Module):
    """WaveMix level-1 block with its residual: 1x1 reduction (C -> C/4),
    Haar DWT (-> C channels at half size), 1x1 conv MLP with GELU, transposed
    conv (k4, stride 2, padding 1) back to full size and C channels,
    BatchNorm, + input."""

    def __init__(self, dim=16, mult=2, ff_channel=16):
        super().__init__()
        self.reduction = nn.Conv2d(dim, dim // 4, 1)
        self.dwt = HaarDWT()
        self.feedforward = nn.Sequential(
            nn.Conv2d(dim, dim * mult, 1), nn.GELU(), nn.Dropout(0.0),
            nn.Conv2d(dim * mult, ff_channel, 1),
            nn.ConvTranspose2d(ff_channel, dim, 4, stride=2, padding=1),
            nn.BatchNorm2d(dim))

    def forward(self, x):
        return x + self.feedforward(self.dwt(self.reduction(x)))


def _random_bn(model):
    for mod in model.modules():
        if isinstance(mod, nn.BatchNorm2d):
            with torch.no_grad():
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)
    return model


class WaveMixNet(nn.Module):
    """Two WaveMix blocks, then a DWT -> IDWT round trip (identity)."""

    def __init__(self, dim=16):
        super().__init__()
        self.b1 = WaveMixBlock(dim)
        self.b2 = WaveMixBlock(dim, mult=1, ff_channel=8)
        self.dwt = HaarDWT()
        self.idwt = HaarIDWT()

    def forward(self, x):
        return self.idwt(self.dwt(self.b2(self.b1(x))))


class ConvTransposeMix(nn.Module):
    """Transposed convs beyond WaveMix's: stride 3 with output_padding,
    groups, dilation, no bias; then a ReLU."""

    def __init__(self):
        super().__init__()
        self.a = nn.ConvTranspose2d(6, 8, 3, stride=3, padding=1,
                                    output_padding=2)
        self.b = nn.ConvTranspose2d(8, 4, (3, 2), stride=(2, 1), padding=(1, 0),
                                    output_padding=(1, 0), groups=2,
                                    dilation=(1, 2), bias=False)

    def forward(self, x):
        return F.relu(self.b(self.a(x)))


GOLDEN = [
    ("wavemix_block", lambda: _random_bn(nn.Sequential(WaveMixBlock(16))),
     (2, 16, 18, 22)),
    ("wavemix_net", lambda: _random_bn(WaveMixNet(16)), (2, 16, 14, 26)),
    ("wavemix_dwt", lambda: nn.Sequential(HaarDWT()), (3, 5, 10, 34)),
    ("conv_transpose2d_mix", ConvTransposeMix, (2, 6, 7, 9)),
    ("conv_transpose1d",
     lambda: nn.Sequential(nn.ConvTranspose1d(5, 6, 4, stride=2, padding=1,
                                              dilation=2, output_padding=1)),
     (2, 5, 23)),
]
