"""keywords.py — spoken keywords synthesised with espeak-ng across its
English voices and voice variants, speeds and pitches, resampled to 16 kHz
mono with sox, placed at a random offset in a 1 s clip and mixed with white,
pink or brown noise at several SNRs. Voice variants are split between train
and test, so a test voice variant is never heard in training. Clean clips
are cached under build/data/keywords/ (keyed by a hash of every synthesis
parameter); noise mixing is redone from the seed. MBROLA voices are never
used (they need the mbrola package). It downloads nothing.

API: make(split, seed, words=WORDS, reps=None, copies=None) ->
(waves float32 (N,16000), labels int64 (N,)); WORDS lists the label names.
"""

import concurrent.futures
import hashlib
import json
import os
import shutil
import subprocess

import numpy as np

WORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
RATE = 16000
VOICES = ["en", "en-us", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp",
          "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
# espeak-ng's voice variants (espeak-ng --voices=variant); "Mr serious" is
# left out for the space in its name.
VARIANTS = sorted("""adam Alex Alicia Andrea Andy Annie antonio aunty belinda
benjamin boris caleb david Demonic Denis Diogo ed edward edward2 Gene Gene2
gustave announcer Henrique Hugo iven iven2 iven3 iven4 Jacky john kaukovalta
Lee linda marcelo Marco Mario max Michael michel miguel Mike Nguyen pablo paul
pedro quincy RicishayMax RicishayMax2 RicishayMax3 rob robert robosoft
robosoft2 robosoft3 robosoft4 robosoft5 robosoft6 robosoft7 robosoft8 steph
steph2 steph3 Storm Tweaky UniRobot anika anikaRobot AnxiousAndy fast f1 f2 f3
f4 f5 whisperf grandpa klatt klatt2 klatt3 klatt4 klatt5 klatt6 m1 m2 m3 m4 m5
m6 m7 m8 norbert sandro shelby travis victor whisper croak grandma""".split(),
                  key=str.lower)
SNRS_DB = [None, 30.0, 20.0, 10.0]      # None: no noise
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(ROOT, "build", "data", "keywords")
_VERSION = 1


def split_variants(split):
    """Variants of split: every fifth variant (sorted, case-insensitive) is
    held out for "test", the rest are "train"."""
    if split not in ("train", "test"):
        raise ValueError("split must be 'train' or 'test', not %r" % split)
    test = split == "test"
    return [v for i, v in enumerate(VARIANTS) if (i % 5 == 2) == test]


def available():
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def synth(word, voice, variant, speed, pitch):
    """One clean utterance: float32 samples at 16 kHz (any length)."""
    es = subprocess.Popen(["espeak-ng", "-v", "%s+%s" % (voice, variant), "-s", str(speed),
                           "-p", str(pitch), "--stdout", word],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    sx = subprocess.run(["sox", "-V1", "-t", "wav", "-", "-t", "raw", "-r", str(RATE), "-c", "1",
                         "-e", "floating-point", "-b", "32", "-"],
                        stdin=es.stdout, capture_output=True, timeout=60)
    es.stdout.close()
    es.wait(timeout=60)
    if es.returncode != 0 or sx.returncode != 0:
        raise RuntimeError("espeak-ng/sox failed for %r %s+%s: %s"
                           % (word, voice, variant, sx.stderr.decode(errors="replace")[-300:]))
    return np.frombuffer(sx.stdout, np.float32).copy()


def _trim(w, thresh=0.02):
    """The span of w between the first and last sample above thresh * peak."""
    peak = float(np.abs(w).max()) if w.size else 0.0
    if peak <= 0:
        return w[:0]
    idx = np.nonzero(np.abs(w) > thresh * peak)[0]
    return w[idx[0]:idx[-1] + 1]


def _specs(split, seed, words, reps):
    """The synthesis parameters of every clean clip of split, in order."""
    rng = np.random.default_rng([int(seed), 7 if split == "test" else 3])
    out = []
    for wi, w in enumerate(words):
        for var in split_variants(split):
            for _ in range(reps):
                out.append({"word": w, "label": wi, "voice": VOICES[rng.integers(len(VOICES))],
                            "variant": var, "speed": int(rng.integers(120, 221)),
                            "pitch": int(rng.integers(15, 86))})
    return out


def clean_clips(specs, workers=2):
    """Trimmed clean utterances for specs, cached as one .npz per spec list."""
    key = hashlib.sha1(json.dumps([_VERSION, RATE, specs], sort_keys=True)
                       .encode()).hexdigest()[:16]
    path = os.path.join(CACHE, "clean-%s.npz" % key)
    if os.path.exists(path):
        z = np.load(path)
        return np.split(z["data"], z["offsets"][1:-1])
    with concurrent.futures.ThreadPoolExecutor(workers) as ex:
        clips = list(ex.map(lambda s: _trim(synth(s["word"], s["voice"], s["variant"],
                                                  s["speed"], s["pitch"])), specs))
    os.makedirs(CACHE, exist_ok=True)
    offsets = np.cumsum([0] + [len(c) for c in clips])
    tmp = path + ".tmp.npz"
    np.savez(tmp, data=np.concatenate(clips) if clips else np.zeros(0, np.float32),
             offsets=offsets)
    os.replace(tmp, path)
    return clips


def _noise(rng, kind, n):
    """Unit-power white (0), pink (1) or brown (2) noise of n samples."""
    x = rng.standard_normal(n)
    if kind:
        f = np.fft.rfft(x)
        freqs = np.arange(f.size, dtype=np.float64)
        freqs[0] = 1.0
        f /= freqs ** (0.5 * kind)
        x = np.fft.irfft(f, n)
    return x / (np.sqrt(np.mean(x * x)) + 1e-12)


def mix(clips, rng, length=RATE):
    """Places each clip at a random offset in length samples (centre-cropped
    when longer), scales its peak to 0.3-0.9 and adds noise at a random SNR."""
    out = np.zeros((len(clips), length), np.float32)
    for i, c in enumerate(clips):
        if c.size > length:
            s = (c.size - length) // 2
            c = c[s:s + length]
        off = int(rng.integers(0, length - c.size + 1))
        peak = float(np.abs(c).max()) if c.size else 0.0
        gain = rng.uniform(0.3, 0.9) / peak if peak > 0 else 0.0
        out[i, off:off + c.size] = c * gain
        snr = SNRS_DB[rng.integers(len(SNRS_DB))]
        kind = int(rng.integers(3))
        if snr is not None and c.size:
            p_sig = float(np.mean((c * gain) ** 2))
            n = _noise(rng, kind, length) * np.sqrt(p_sig / 10 ** (snr / 10))
            out[i] += n.astype(np.float32)
    return out


def make(split, seed, words=WORDS, reps=None, copies=None):
    """(waves float32 (N,16000), labels int64 (N,)) for split "train" or
    "test": every word x every variant of the split x reps random
    (voice, speed, pitch) draws, each mixed copies times with noise.
    Defaults: reps 3 and copies 2 for train, reps 2 and copies 1 for test."""
    if not available():
        raise FileNotFoundError("keywords need espeak-ng and sox (apt install espeak-ng sox)")
    reps = reps if reps is not None else (3 if split == "train" else 2)
    copies = copies if copies is not None else (2 if split == "train" else 1)
    specs = _specs(split, seed, list(words), reps)
    clips = clean_clips(specs)
    rng = np.random.default_rng([int(seed), 11 if split == "test" else 5])
    waves = np.concatenate([mix(clips, rng) for _ in range(copies)])
    labels = np.tile(np.array([s["label"] for s in specs], np.int64), copies)
    return waves, labels
