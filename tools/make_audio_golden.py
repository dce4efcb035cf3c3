#!/usr/bin/python3
"""make_audio_golden.py — writes the audio front-end fixtures under
tests/fixtures/audio/: a few short WAVs (tones + noise, an espeak-ng word when
espeak-ng and sox exist, a 24-bit stereo clip, a float clip), the features
tools/data/audio_features.py (torch) computes from them as .npy, and tiny
hostile WAVs (lying sizes, zero channels, 0 Hz, a 10-hour header, truncated
data, bad format codes) that tests/test_wav.c must refuse. Seeded; it
downloads nothing and keeps the fixtures small (< 300 KB in all).

The CASES table must match the one in tests/test_audio_features.c.
Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/make_audio_golden.py
"""

import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import audio_features as af  # noqa: E402
from data import keywords  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "audio")
RATE = 16000

# name: (n_fft, hop, win, n_mels (0: stft), seconds, center, fmin, fmax)
SPECS = {
    "logmel512": (512, 160, 512, 40, 1.0, False, 0.0, None),   # log_mel defaults
    "stft256": (256, 128, 256, 0, 0.25, False, 0.0, None),     # complex_stft defaults
    "logmel400c": (400, 160, 320, 32, 1.0, True, 20.0, 7600.0),  # non-pow2, center
}
CASES = [("tone", "logmel512"), ("word", "logmel512"), ("tone", "logmel400c"),
         ("word", "logmel400c"), ("stereo24", "stft256"), ("float32", "stft256")]


def riff(chunks):
    body = b"WAVE" + b"".join(cid + struct.pack("<I", len(d)) + d + (b"\0" if len(d) % 2 else b"")
                              for cid, d in chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def raw_riff(body):
    """RIFF header with a size consistent with body (chunks written by hand)."""
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WAVE" + body


def fmt_chunk(code, ch, rate, bits):
    return struct.pack("<HHIIHH", code, ch, rate, rate * ch * bits // 8, ch * bits // 8, bits)


def pcm(x, bits):
    """x (frames, ch) float -> little-endian integer PCM bytes."""
    q = np.clip(np.round(x * 2.0 ** (bits - 1)), -2 ** (bits - 1), 2 ** (bits - 1) - 1).astype(np.int64)
    if bits == 16:
        return q.astype("<i2").tobytes()
    b = q.astype("<i4").view(np.uint8).reshape(-1, 4)
    return b[:, :3].tobytes()                       # 24-bit: low three bytes


def decode(x_int, bits):
    """The C decoder's float value of integer samples, mixed to mono."""
    return np.mean(x_int.astype(np.float64) / 2.0 ** (bits - 1), axis=1).astype(np.float32)


def make_signals(rng):
    t = np.arange(int(1.2 * RATE)) / RATE
    tone = 0.4 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 2500 * t + 1.0)
    tone += 0.01 * rng.standard_normal(t.size)
    if keywords.available():
        w = keywords.synth("stop", "en", "m3", 160, 50)
        w = 0.7 * w / np.abs(w).max()
    else:                                           # a chirp stands in
        tt = np.arange(int(0.8 * RATE)) / RATE
        w = 0.5 * np.sin(2 * np.pi * (300 * tt + 2000 * tt * tt)) * np.hanning(tt.size)
    w = w[:int(0.8 * RATE)] + 0.003 * rng.standard_normal(min(w.size, int(0.8 * RATE)))
    t4 = np.arange(int(0.25 * RATE)) / RATE
    st = np.stack([0.5 * np.sin(2 * np.pi * 1000 * t4), 0.3 * np.sin(2 * np.pi * 3100 * t4)], 1)
    st += 0.02 * rng.standard_normal(st.shape)
    fl = (0.25 * rng.standard_normal(int(0.3 * RATE))).astype(np.float32)
    return tone, w, st, fl


def fit(x, n):
    """Centre-crop or centre-pad to n samples (fit "center")."""
    if x.size >= n:
        s = (x.size - n) // 2
        return x[s:s + n]
    out = np.zeros(n, np.float32)
    o = (n - x.size) // 2
    out[o:o + x.size] = x
    return out


def features(x, spec):
    n_fft, hop, win, n_mels, sec, center, fmin, fmax = SPECS[spec]
    x = fit(x, int(round(sec * RATE)))
    if not center and win == n_fft and fmin == 0.0 and fmax is None:
        if n_mels:
            return af.log_mel(x, n_fft, hop, n_mels, RATE)[0].numpy()
        return af.complex_stft(x, n_fft, hop)[0].numpy()
    # options audio_features.py does not expose: torch.stft itself
    X = torch.stft(torch.from_numpy(x)[None], n_fft, hop_length=hop, win_length=win,
                   window=torch.hann_window(win, periodic=True), center=center,
                   pad_mode="reflect", normalized=False, onesided=True, return_complex=True)
    power = X.real ** 2 + X.imag ** 2
    fb = af.mel_filterbank(n_fft, n_mels, RATE, fmin, fmax)
    return torch.log(torch.matmul(fb, power) + af.LOG_EPS)[0].numpy()


def hostile():
    f16 = fmt_chunk(1, 1, RATE, 16)
    d = b"\0\0" * 64
    h = {
        "lying_chunk": raw_riff(b"fmt " + struct.pack("<I", 16) + f16 + b"LIST" +
                                struct.pack("<I", 1 << 20) + d),
        "zero_channels": riff([(b"fmt ", struct.pack("<HHIIHH", 1, 0, RATE, 0, 0, 16)), (b"data", d)]),
        "zero_rate": riff([(b"fmt ", struct.pack("<HHIIHH", 1, 1, 0, 0, 2, 16)), (b"data", d)]),
        "absurd_rate": riff([(b"fmt ", fmt_chunk(1, 1, 10 ** 7, 16)), (b"data", d)]),
        "bad_format": riff([(b"fmt ", fmt_chunk(2, 1, RATE, 16)), (b"data", d)]),
        "bad_bits": riff([(b"fmt ", fmt_chunk(1, 1, RATE, 12)), (b"data", d)]),
        "block_align": riff([(b"fmt ", struct.pack("<HHIIHH", 1, 2, RATE, 0, 2, 16)), (b"data", d)]),
        "no_fmt": riff([(b"data", d)]),
        "no_data": riff([(b"fmt ", f16)]),
        "empty_data": riff([(b"fmt ", f16), (b"data", b"")]),
        "lying_riff": riff([(b"fmt ", f16), (b"data", d)])[:-10],
        "lying_fmt": raw_riff(b"fmt " + struct.pack("<I", 999) + f16),
    }
    # RIFF size consistent, data chunk claims 10 h of 16 kHz mono 16-bit
    ten_h = 10 * 3600 * RATE * 2
    hdr = riff([(b"fmt ", f16)])[12:]
    h["ten_hours"] = raw_riff(hdr + b"data" + struct.pack("<I", ten_h) + d)
    # 100 kB claimed, 128 bytes present, RIFF size consistent with the buffer
    h["truncated"] = raw_riff(hdr + b"data" + struct.pack("<I", 100000) + d)
    return h


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20240611)
    tone, word, st, fl = make_signals(rng)
    waves = {}
    q = np.clip(np.round(tone * 32768), -32768, 32767)[:, None]
    open(os.path.join(OUT, "tone.wav"), "wb").write(
        riff([(b"fmt ", fmt_chunk(1, 1, RATE, 16)), (b"data", pcm(tone[:, None], 16))]))
    waves["tone"] = decode(q, 16)
    q = np.clip(np.round(word * 32768), -32768, 32767)[:, None]
    # LIST chunk (odd size) before fmt, data before nothing: order and padding
    open(os.path.join(OUT, "word.wav"), "wb").write(
        riff([(b"LIST", b"INFOjunk!"), (b"fmt ", fmt_chunk(1, 1, RATE, 16)),
              (b"data", pcm(word[:, None], 16))]))
    waves["word"] = decode(q, 16)
    q = np.clip(np.round(st * 2 ** 23), -2 ** 23, 2 ** 23 - 1)
    ext = struct.pack("<HHIIHHHHI", 0xFFFE, 2, RATE, RATE * 6, 6, 24, 22, 24, 3) + \
        struct.pack("<H", 1) + bytes([0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71])
    open(os.path.join(OUT, "stereo24.wav"), "wb").write(
        riff([(b"data", pcm(st, 24)), (b"fmt ", ext)]))     # data before fmt
    waves["stereo24"] = decode(q, 24)
    open(os.path.join(OUT, "float32.wav"), "wb").write(
        riff([(b"fmt ", fmt_chunk(3, 1, RATE, 32)), (b"data", fl.astype("<f4").tobytes())]))
    waves["float32"] = np.clip(fl, -1, 1)
    for wav, spec in CASES:
        y = np.ascontiguousarray(features(waves[wav], spec).astype("<f4"))
        np.save(os.path.join(OUT, "%s.%s.npy" % (wav, spec)), y)
        print("%s.%s.npy" % (wav, spec), y.shape)
    for name, b in hostile().items():
        open(os.path.join(OUT, "hostile_%s.wav" % name), "wb").write(b)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print("fixtures: %d files, %d bytes" % (len(os.listdir(OUT)), total))


if __name__ == "__main__":
    torch.set_num_threads(1)
    main()
