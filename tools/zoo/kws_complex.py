"""kws_complex.py — zoo entry "kws-complex": keyword spotting (10 words,
tools/data/keywords.py, held-out espeak-ng voice variants) with a
complex-valued, multi-dilated conv net over the complex STFT.

Input: the STFT of a 1 s 16 kHz clip (n_fft 256 = win, hop 128, periodic
Hann, no padding; tools/data/audio_features.py) as a 1-D signal over its 124
frames with the 129 bins' real parts then imaginary parts as 258 channels.
Net: input batchnorm; a stride-2 ComplexConv1d (48 complex channels) z,
ComplexReLU(z) + ComplexReLU(-z) (= |Re z|, |Im z|) and an average pool
(rectify-and-average demodulates the phase, leaving 31 frames); batchnorm, ComplexConv1d + batchnorm + ComplexReLU; two
residual MultiDilatedConv (dilations 1, 2, 4, 8) blocks; global average
pooling; linear.

It also holds the helpers both keyword entries share (waveform data sets,
feature-level augmentation, writing test.wav); kws_dcls.py imports them.
It defines the model, data and recipe only; tools/train.py ships it.
"""

import json
import os
import wave

import numpy as np
import torch
import torch.nn as nn

from data import audio_features as af
from data import keywords
from families.hypercomplex import ComplexConv1d, ComplexReLU
from families.multidilated import MultiDilatedConv
from zoo import common

NAME = "kws-complex"
FAMILY = "complex-valued + multi-dilated conv"
TASK = "classification"
LABELS = list(keywords.WORDS)
N_FFT, HOP = 256, 128
PREPROCESS = {"kind": "audio", "sample_rate": keywords.RATE, "n_fft": N_FFT,
              "hop": HOP, "win": N_FFT, "seconds": 1.0}
EPOCHS, EPOCHS_QUICK = 14, 4
TRAIN_COPIES = 3          # noise mixes of every clean training clip


# -- shared keyword helpers (kws_dcls.py uses them too) -------------------------

def keyword_data(seed, quick, features, precompute=False, copies=2):
    """Waveforms of the train and held-out voice variants; features (a
    function waves -> network input) is applied once to the held-out set
    and, for training, per batch (or once up front with precompute)."""
    tr_w, tr_y = keywords.make("train", seed, copies=copies)
    te_w, te_y = keywords.make("test", seed)
    if quick:
        tr_w, tr_y = tr_w[::3], tr_y[::3]
    tr_x = af.batched(features, tr_w) if precompute else torch.from_numpy(tr_w)
    te_x = af.batched(features, te_w)
    return {"train": (tr_x, torch.from_numpy(tr_y)), "precomputed": precompute,
            "test": (te_x, torch.from_numpy(te_y)), "test_waves": te_w,
            "test_labels": te_y}


def shift_gain_augment(log_domain, max_shift=12, max_gain_db=6.0):
    """Batch augmentation over (N, C, T) features: a per-example circular
    shift of up to max_shift frames and a gain of up to +-max_gain_db
    (added as log power in the log domain, a scale on a linear spectrum)."""
    def aug(xb, gen):
        n, _, t = xb.shape
        s = torch.randint(-max_shift, max_shift + 1, (n,), generator=gen)
        idx = (torch.arange(t)[None, :] - s[:, None]) % t
        xb = xb.gather(2, idx[:, None, :].expand_as(xb))
        db = (torch.rand(n, generator=gen) * 2 - 1) * max_gain_db
        if log_domain:
            return xb + (db * (np.log(10.0) / 10.0))[:, None, None]
        return xb * (10.0 ** (db / 20.0))[:, None, None]
    return aug


def to_pcm16(w):
    return np.clip(np.round(np.asarray(w, np.float64) * 32767.0), -32768, 32767).astype("<i2")


def write_wav(path, w, rate=keywords.RATE):
    """16-bit PCM mono WAV of float samples w (clipped to [-1, 1])."""
    with wave.open(path, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(to_pcm16(w).tobytes())


def write_audio_sample(model, d, features, out_dir, labels=LABELS):
    """Writes test.wav: the first held-out clip that the model classifies
    right after 16-bit quantisation, its features as test.npy (1, C, T)
    and test.json {"file": "test.wav", "label", "index", "features"}.
    Returns the same dict but with "file" test.npy (and "wav" test.wav):
    tools/train.py runs convd-infer on info["file"], and convd-infer reads
    .npy features, not WAV, until the audio front-end exists."""
    waves, ys = d["test_waves"], d["test_labels"]
    pcm = to_pcm16(waves[:64]).astype(np.float32) / 32767.0
    x = features(pcm)
    pred = common.predict(model, x).argmax(1).numpy()
    ok = np.nonzero(pred == ys[:64])[0]
    i = int(ok[0]) if ok.size else 0
    write_wav(os.path.join(out_dir, "test.wav"), waves[i])
    np.save(os.path.join(out_dir, "test.npy"),
            np.ascontiguousarray(x[i:i + 1].numpy().astype("<f4")))
    info = {"file": "test.wav", "label": labels[int(ys[i])], "index": int(ys[i]),
            "features": "test.npy"}
    with open(os.path.join(out_dir, "test.json"), "w") as f:
        json.dump(info, f)
        f.write("\n")
    return dict(info, file="test.npy", wav="test.wav")


# -- the model ---------------------------------------------------------------------

def features(waves):
    return af.complex_stft(waves, N_FFT, HOP)


class MDBlock(nn.Module):
    """multi-dilated conv - batchnorm - relu with a residual connection."""

    def __init__(self, c, dilations=(1, 2, 4, 8)):
        super().__init__()
        self.conv = MultiDilatedConv(1, c, c, 3, list(dilations), bias=False)
        self.bn = nn.BatchNorm1d(c)
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.relu(x + self.bn(self.conv(x)))


class KwsComplex(nn.Module):
    def __init__(self, n_classes=len(LABELS), bins=N_FFT // 2 + 1, c=48):
        super().__init__()
        self.norm = nn.BatchNorm1d(2 * bins)
        self.c1 = ComplexConv1d(2 * bins, 2 * c, 3, stride=2, padding=1)
        self.act1 = ComplexReLU()                                  # T/2
        self.demod = nn.AvgPool1d(2)                               # T/4
        self.bn1 = nn.BatchNorm1d(2 * c)
        self.c2 = ComplexConv1d(2 * c, 2 * c, 3, padding=1)
        self.bn2 = nn.BatchNorm1d(2 * c)
        self.act2 = ComplexReLU()
        self.md1 = MDBlock(2 * c)
        self.md2 = MDBlock(2 * c)
        self.gap = nn.AdaptiveAvgPool1d(1)
        self.fc = nn.Linear(2 * c, n_classes)

    def forward(self, x):
        z = self.c1(self.norm(x))
        x = self.bn1(self.demod(self.act1(z) + self.act1(z * -1.0)))
        x = self.act2(self.bn2(self.c2(x)))
        x = self.md2(self.md1(x))
        return self.fc(torch.flatten(self.gap(x), 1))


def build_model():
    return KwsComplex()


def data(seed, quick=False):
    return keyword_data(seed, quick, features, copies=TRAIN_COPIES)


def train(model, d, seed, quick=False, log=print):
    x, y = d["train"]
    common.fit_classifier(model, x, y, epochs=EPOCHS_QUICK if quick else EPOCHS,
                          batch=64, lr=4e-3, seed=seed, transform=features,
                          augment=shift_gain_augment(False), log=log)
    return model


def evaluate(model, d):
    x, y = d["test"]
    return {"metric": "accuracy", "value": common.accuracy(model, x, y)}


def held_out(d):
    return d["test"]


def write_sample(model, d, out_dir):
    return write_audio_sample(model, d, features, out_dir)
