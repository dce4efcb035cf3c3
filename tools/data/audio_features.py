"""audio_features.py — the audio front-ends of convd's keyword models, in
torch ops only, written so a C front-end can reproduce them exactly. It only
computes features from float waveforms; it reads and writes no files.

Both front-ends frame the waveform WITHOUT padding (torch.stft center=False):
frame t covers samples [t*hop, t*hop + n_fft), so a clip of L samples gives
T = 1 + (L - n_fft) // hop frames (16000 samples, n_fft 256, hop 128 -> 124;
n_fft 512, hop 160 -> 97). The window is a periodic Hann window of win =
n_fft samples, w[n] = 0.5 - 0.5 cos(2 pi n / n_fft), and the DFT is
unnormalised: X[t, k] = sum_n w[n] x[t*hop + n] exp(-2 pi i k n / n_fft),
k = 0 .. n_fft/2.

* complex_stft(waves, n_fft, hop) -> (N, 2F, T), F = n_fft/2 + 1: channels
  [Re X[., 0..F-1], Im X[., 0..F-1]] (the [real..., imag...] layout of
  ComplexConv in tools/families/hypercomplex.py). PREPROCESS has no n_mels.
* log_mel(waves, n_fft, hop, n_mels) -> (N, n_mels, T):
  log(M @ |X|^2 + 1e-6) with M = mel_filterbank(...): HTK mel scale
  mel(f) = 2595 log10(1 + f / 700), n_mels + 2 points equally spaced in mel
  from 0 Hz to sample_rate / 2, triangular filters (peak 1, no area
  normalisation) evaluated at the FFT bin frequencies k * sample_rate / n_fft
  (as torchaudio's melscale_fbanks with mel_scale="htk", norm=None).
  Natural log; 1e-6 is added to the mel power before the log.
"""

import math

import numpy as np
import torch

SAMPLE_RATE = 16000
LOG_EPS = 1e-6


def _as_tensor(waves):
    x = torch.as_tensor(np.asarray(waves, np.float32) if not torch.is_tensor(waves)
                        else waves, dtype=torch.float32)
    return x.unsqueeze(0) if x.dim() == 1 else x


def n_frames(n_samples, n_fft, hop):
    """Frames of a clip of n_samples (no padding)."""
    return 1 + (n_samples - n_fft) // hop


def stft(waves, n_fft, hop):
    """Complex STFT (N, n_fft/2 + 1, T) of waves (N, L) or (L,)."""
    x = _as_tensor(waves)
    win = torch.hann_window(n_fft, periodic=True, dtype=torch.float32)
    return torch.stft(x, n_fft, hop_length=hop, win_length=n_fft, window=win,
                      center=False, normalized=False, onesided=True,
                      return_complex=True)


def complex_stft(waves, n_fft=256, hop=128):
    """(N, 2F, T) float32: real parts of the F bins, then imaginary parts."""
    X = stft(waves, n_fft, hop)
    return torch.cat([X.real, X.imag], dim=1).contiguous()


def hz_to_mel(f):
    return 2595.0 * math.log10(1.0 + f / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def mel_filterbank(n_fft, n_mels, sample_rate=SAMPLE_RATE, f_min=0.0, f_max=None):
    """(n_mels, n_fft/2 + 1) float32 triangular HTK-mel filters (peak 1)."""
    f_max = sample_rate / 2.0 if f_max is None else f_max
    m_lo, m_hi = hz_to_mel(f_min), hz_to_mel(f_max)
    pts = torch.tensor([mel_to_hz(m_lo + (m_hi - m_lo) * i / (n_mels + 1))
                        for i in range(n_mels + 2)], dtype=torch.float64)
    freqs = torch.arange(n_fft // 2 + 1, dtype=torch.float64) * sample_rate / n_fft
    lo, ce, hi = pts[:-2, None], pts[1:-1, None], pts[2:, None]
    up = (freqs[None, :] - lo) / (ce - lo)
    down = (hi - freqs[None, :]) / (hi - ce)
    return torch.clamp(torch.minimum(up, down), min=0.0).to(torch.float32)


def log_mel(waves, n_fft=512, hop=160, n_mels=40, sample_rate=SAMPLE_RATE):
    """(N, n_mels, T) float32 log mel power: log(M |X|^2 + 1e-6)."""
    X = stft(waves, n_fft, hop)
    power = X.real ** 2 + X.imag ** 2                       # (N, F, T)
    fb = mel_filterbank(n_fft, n_mels, sample_rate)          # (M, F)
    return torch.log(torch.matmul(fb, power) + LOG_EPS).contiguous()


def batched(fn, waves, batch=1000, **kw):
    """fn over waves in batches (bounded memory), concatenated."""
    x = _as_tensor(waves)
    return torch.cat([fn(x[i:i + batch], **kw) for i in range(0, x.shape[0], batch)])
