"""kws_dcls.py — zoo entry "kws-dcls": keyword spotting (10 words,
tools/data/keywords.py, held-out espeak-ng voice variants) with DCLS
depthwise convolutions over log-mel frames.

Input: 40 log-mel bands (HTK mel, n_fft 512 = win, hop 160, periodic Hann,
no padding; tools/data/audio_features.py) as a 1-D signal over its 97 frames
with the mel bands as channels. Net: input batchnorm, a stride-2 conv stem
(49 frames), four residual blocks of DCLS depthwise conv (4 learned taps
spread over 15 frames, Gaussian interpolation) + pointwise conv (a max-pool
halves the frames after the second), global average pooling, linear. DCLS
positions are clamped to their range before every training step and once
at the end (convd refuses positions outside it).
It defines the model, data and recipe only; tools/train.py ships it.
"""

import torch
import torch.nn as nn

from data import audio_features as af
from data import keywords
from families.dcls import Dcls
from zoo import common
from zoo import kws_complex as kws

NAME = "kws-dcls"
FAMILY = "DCLS (learned-spacing depthwise conv)"
TASK = "classification"
LABELS = list(keywords.WORDS)
N_FFT, HOP, N_MELS = 512, 160, 40
PREPROCESS = {"kind": "audio", "sample_rate": keywords.RATE, "n_fft": N_FFT,
              "hop": HOP, "win": N_FFT, "n_mels": N_MELS, "seconds": 1.0}
EPOCHS, EPOCHS_QUICK = 16, 4


def features(waves):
    return af.log_mel(waves, N_FFT, HOP, N_MELS)


class DclsBlock(nn.Module):
    """DCLS depthwise conv - bn - pointwise conv - bn - relu, residual."""

    def __init__(self, c, taps=4, span=15):
        super().__init__()
        self.dw = Dcls(1, c, c, taps, span, padding=span // 2, groups=c,
                       bias=False, version="gauss")
        self.bn1 = nn.BatchNorm1d(c)
        self.pw = nn.Conv1d(c, c, 1, bias=False)
        self.bn2 = nn.BatchNorm1d(c)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(x + self.bn2(self.pw(self.bn1(self.dw(x)))))


class KwsDcls(nn.Module):
    def __init__(self, n_classes=len(LABELS), c=64):
        super().__init__()
        self.norm = nn.BatchNorm1d(N_MELS)
        self.stem = nn.Sequential(nn.Conv1d(N_MELS, c, 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm1d(c), nn.ReLU())
        self.b1 = DclsBlock(c)
        self.b2 = DclsBlock(c)
        self.pool = nn.MaxPool1d(2)
        self.b3 = DclsBlock(c)
        self.b4 = DclsBlock(c)
        self.gap = nn.AdaptiveAvgPool1d(1)
        self.fc = nn.Linear(c, n_classes)

    def forward(self, x):
        x = self.b2(self.b1(self.stem(self.norm(x))))
        x = self.b4(self.b3(self.pool(x)))
        return self.fc(torch.flatten(self.gap(x), 1))


def build_model():
    return KwsDcls()


def data(seed, quick=False):
    return kws.keyword_data(seed, quick, features, precompute=True)


def _clamp_all(model):
    for m in model.modules():
        if isinstance(m, Dcls):
            m.clamp_parameters()


def train(model, d, seed, quick=False, log=print):
    x, y = d["train"]
    hooks = [m.register_forward_pre_hook(lambda m, inp: m.clamp_parameters()
                                         if m.training else None)
             for m in model.modules() if isinstance(m, Dcls)]
    try:
        common.fit_classifier(model, x, y, epochs=EPOCHS_QUICK if quick else EPOCHS,
                              batch=128, lr=6e-3, seed=seed,
                              augment=kws.shift_gain_augment(True), log=log)
    finally:
        for h in hooks:
            h.remove()
    _clamp_all(model)
    return model


def evaluate(model, d):
    x, y = d["test"]
    return {"metric": "accuracy", "value": common.accuracy(model, x, y)}


def held_out(d):
    return d["test"]


def write_sample(model, d, out_dir):
    return kws.write_audio_sample(model, d, features, out_dir)
