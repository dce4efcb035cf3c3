"""test_audio_features.py — tests the keyword models' front-ends in
tools/data/audio_features.py: feature shapes (no padding: 1 + (L - n_fft) //
hop frames), determinism, the [real..., imag...] layout against a direct DFT,
a sine's energy landing in its STFT bin and in the mel band whose filter
peaks nearest it, and the HTK mel filterbank's shape.

Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 -m unittest tests/tools/test_audio_features.py
Fast (well under a second); writes nothing.
"""

import math
import os
import sys
import unittest

import numpy as np
import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from data import audio_features as af  # noqa: E402

SR = 16000


def sine(freq, n=SR, amp=0.5):
    return (amp * np.sin(2 * np.pi * freq * np.arange(n) / SR)).astype(np.float32)


class TestAudioFeatures(unittest.TestCase):
    def test_shapes(self):
        w = np.random.default_rng(0).standard_normal((3, SR)).astype(np.float32) * 0.1
        self.assertEqual(tuple(af.complex_stft(w, 256, 128).shape), (3, 258, 124))
        self.assertEqual(tuple(af.log_mel(w, 512, 160, 40).shape), (3, 40, 97))
        self.assertEqual(af.n_frames(SR, 256, 128), 124)
        self.assertEqual(af.n_frames(SR, 512, 160), 97)
        self.assertEqual(tuple(af.complex_stft(w[0]).shape), (1, 258, 124))
        self.assertEqual(af.complex_stft(w).dtype, torch.float32)

    def test_deterministic(self):
        w = np.random.default_rng(1).standard_normal((2, SR)).astype(np.float32)
        for fn in (af.complex_stft, af.log_mel):
            a, b = fn(w), fn(w.copy())
            self.assertTrue(torch.equal(a, b))
        b = af.batched(af.log_mel, w, batch=1)
        self.assertTrue(torch.allclose(af.log_mel(w), b, atol=1e-5))

    def test_direct_dft(self):
        """Frame t, bin k equals sum_n w[n] x[t hop + n] e^{-2 pi i k n / N}."""
        x = np.random.default_rng(2).standard_normal(2000)
        n_fft, hop, t = 256, 128, 5
        n = np.arange(n_fft)
        win = 0.5 - 0.5 * np.cos(2 * np.pi * n / n_fft)
        seg = win * x[t * hop:t * hop + n_fft]
        f = af.complex_stft(x.astype(np.float32), n_fft, hop)[0].double().numpy()
        for k in (0, 3, 64, 128):
            want = np.sum(seg * np.exp(-2j * np.pi * k * n / n_fft))
            self.assertAlmostEqual(f[k, t], want.real, places=3)
            self.assertAlmostEqual(f[129 + k, t], want.imag, places=3)

    def test_sine_lands_in_its_bin(self):
        for freq in (1000.0, 3000.0, 5500.0):
            X = af.complex_stft(sine(freq), 256, 128)[0]
            power = (X[:129] ** 2 + X[129:] ** 2).mean(1)
            self.assertEqual(int(power.argmax()), round(freq * 256 / SR))

    def test_sine_lands_in_its_mel_band(self):
        fb = af.mel_filterbank(512, 40, SR)
        centres = [af.mel_to_hz(af.hz_to_mel(SR / 2) * (i + 1) / 41) for i in range(40)]
        for freq in (440.0, 1500.0, 4000.0):
            m = af.log_mel(sine(freq), 512, 160, 40)[0].mean(1)
            band = int(m.argmax())
            nearest = int(np.argmin([abs(c - freq) for c in centres]))
            self.assertLessEqual(abs(band - nearest), 1, (freq, band, nearest))
            self.assertGreater(float(fb[band, round(freq * 512 / SR)]), 0.0)
        silent = af.log_mel(np.zeros(SR, np.float32))
        self.assertTrue(torch.allclose(silent, torch.full_like(silent, math.log(1e-6))))

    def test_filterbank(self):
        fb = af.mel_filterbank(512, 40, SR)
        self.assertEqual(tuple(fb.shape), (40, 257))
        self.assertTrue(bool((fb >= 0).all()) and bool((fb <= 1).all()))
        self.assertTrue(bool((fb.sum(1) > 0).all()))        # no empty band
        peaks = fb.argmax(1)
        self.assertTrue(bool((peaks[1:] >= peaks[:-1]).all()))
        self.assertAlmostEqual(af.mel_to_hz(af.hz_to_mel(1234.0)), 1234.0, places=6)
        self.assertAlmostEqual(af.hz_to_mel(700.0), 2595 * math.log10(2), places=9)


if __name__ == "__main__":
    unittest.main()
