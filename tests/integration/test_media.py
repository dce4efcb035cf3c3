"""test_media.py — integration tests of the media endpoints of build/convd:
POST /v1/models/{m}/segment (JSON run-length mask, PNG, overlay), POST
/v1/models/{m}/cam (map against convd-infer --cam, PNG, layer errors,
batching with classify) and audio classification (WAV bodies, KServe
waveforms, hostile WAV headers), plus the pixel limit on every image
endpoint. Models are small generated fixtures (no torch, no zoo); every
daemon is killed in its cleanup. Run through run.sh."""
import concurrent.futures as cf
import json
import os
import shutil
import struct
import subprocess
import tempfile
import unittest
import zlib

import numpy as np

import harness as H

PIXEL_LIMIT = 100000          # --set max_image_pixels for the media server
SEG_SIZE = 16
AUDIO_RATE, AUDIO_SECONDS = 8000, 0.5
AUDIO_MELS, AUDIO_NFFT, AUDIO_HOP = 16, 256, 128
AUDIO_L = int(round(AUDIO_RATE * AUDIO_SECONDS))
AUDIO_T = 1 + (AUDIO_L - AUDIO_NFFT) // AUDIO_HOP


# ---------------------------------------------------------------- fixtures

def _write_model(dst, meta, tensors):
    os.makedirs(dst, exist_ok=True)
    H.write_safetensors(os.path.join(dst, "weights.safetensors"), tensors)
    with open(os.path.join(dst, "model.json"), "w") as f:
        json.dump(meta, f)


def make_seg_model(dst, name="seg", resize="stretch"):
    """1x1 conv segmenter: class 0 scores 0.5, classes 1..3 score R, G, B in
    [0, 1], so saturated red/green/blue pixels are classes 1/2/3, dark ones 0."""
    w = np.zeros((4, 3, 1, 1))
    for k in range(3):
        w[k + 1, k, 0, 0] = 1.0
    b = np.array([0.5, 0.0, 0.0, 0.0])
    meta = {"format": "convd-model", "version": 1, "name": name,
            "task": "segmentation", "weights": "weights.safetensors",
            "inputs": [{"name": "input", "shape": [3, SEG_SIZE, SEG_SIZE],
                        "preprocess": {"kind": "image", "size": [SEG_SIZE, SEG_SIZE],
                                       "resize": resize, "scale": 255.0}}],
            "outputs": ["seg"], "labels": ["background", "red", "green", "blue"],
            "graph": [{"name": "seg", "op": "conv", "inputs": ["input"],
                       "weights": {"weight": "seg.weight", "bias": "seg.bias"},
                       "attrs": {"stride": [1, 1], "padding": [0, 0, 0, 0]}}]}
    _write_model(dst, meta, {"seg.weight": w, "seg.bias": b})


def make_audio_model(dst, name="kws", seed=3):
    """log-mel (16 x 30) -> flatten -> linear: an untrained keyword model."""
    rng = np.random.default_rng(seed)
    n = AUDIO_MELS * AUDIO_T
    meta = {"format": "convd-model", "version": 1, "name": name,
            "task": "classification", "weights": "weights.safetensors",
            "inputs": [{"name": "input", "shape": [AUDIO_MELS, AUDIO_T],
                        "preprocess": {"kind": "audio", "sample_rate": AUDIO_RATE,
                                       "seconds": AUDIO_SECONDS, "n_fft": AUDIO_NFFT,
                                       "hop": AUDIO_HOP, "n_mels": AUDIO_MELS}}],
            "outputs": ["fc"], "labels": ["yes", "no", "up"],
            "graph": [{"name": "flat", "op": "flatten", "inputs": ["input"]},
                      {"name": "fc", "op": "linear", "inputs": ["flat"],
                       "weights": {"weight": "fc.weight", "bias": "fc.bias"}}]}
    _write_model(dst, meta, {"fc.weight": rng.normal(0, 0.05, (3, n)),
                             "fc.bias": rng.normal(0, 0.1, (3,))})


def png_decode(data):
    """8-bit gray/RGB/RGBA non-interlaced PNG -> uint8 array (H, W, C)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, tag = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if tag == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and ctype in (0, 2, 6), (depth, ctype)
            c = {0: 1, 2: 3, 6: 4}[ctype]
        elif tag == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * c
    out = np.zeros((h, stride), dtype=np.int32)
    prev = np.zeros(stride, dtype=np.int32)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = np.frombuffer(raw, np.uint8, stride, y * (stride + 1) + 1).astype(np.int32)
        cur = np.zeros(stride, dtype=np.int32)
        for i in range(stride):
            a = cur[i - c] if i >= c else 0
            b = prev[i]
            cc = prev[i - c] if i >= c else 0
            if f == 0:
                p = 0
            elif f == 1:
                p = a
            elif f == 2:
                p = b
            elif f == 3:
                p = (a + b) // 2
            else:
                pa, pb, pc = abs(b - cc), abs(a - cc), abs(a + b - 2 * cc)
                p = a if pa <= pb and pa <= pc else (b if pb <= pc else cc)
            cur[i] = (line[i] + p) & 255
        out[y] = cur
        prev = cur
    return out.reshape(h, w, c).astype(np.uint8)


def voc_colour(k):
    r = g = b = 0
    for j in range(8):
        r |= ((k >> 0) & 1) << (7 - j)
        g |= ((k >> 1) & 1) << (7 - j)
        b |= ((k >> 2) & 1) << (7 - j)
        k >>= 3
    return (r, g, b)


def rle_decode(runs, n):
    out = np.zeros(n, dtype=np.int32)
    pos = 0
    for i in range(0, len(runs), 2):
        out[pos:pos + runs[i + 1]] = runs[i]
        pos += runs[i + 1]
    assert pos == n, (pos, n)
    return out


def nearest_resize(cls, H_, W_):
    """F.interpolate(mode="nearest"): src = min(floor(d * in / out), in - 1)."""
    h, w = cls.shape
    ys = np.minimum((np.arange(H_) * (h / H_)).astype(np.int64), h - 1)
    xs = np.minimum((np.arange(W_) * (w / W_)).astype(np.int64), w - 1)
    return cls[ys][:, xs]


def wav_bytes(samples, rate, channels=1, fmt="int16", header_overrides=None):
    """samples (n, channels) float in [-1, 1] -> RIFF/WAVE bytes."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1, channels)
    if fmt == "int16":
        data = np.clip(np.round(x * 32767), -32768, 32767).astype("<i2").tobytes()
        code, bits = 1, 16
    else:
        data = x.astype("<f4").tobytes()
        code, bits = 3, 32
    o = dict(code=code, channels=channels, rate=rate, bits=bits,
             block=channels * bits // 8, data_size=len(data))
    o["byte_rate"] = rate * o["block"]
    o.update(header_overrides or {})
    fmt_chunk = struct.pack("<HHIIHH", o["code"], o["channels"], o["rate"],
                            o["byte_rate"], o["block"], o["bits"])
    body = (b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt_chunk +
            b"data" + struct.pack("<I", o["data_size"]) + data)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def tone(freq, rate, seconds, amp=0.5):
    t = np.arange(int(round(rate * seconds))) / rate
    return amp * np.sin(2 * np.pi * freq * t)


def err_json(tc, status, hdrs, data, want):
    tc.assertEqual(status, want, data[:300])
    tc.assertTrue(hdrs.get("content-type", "").startswith("application/json"), hdrs)
    j = json.loads(data)
    tc.assertEqual(j["error"]["code"], want)
    return j["error"]["message"]


def post(port, path, body, ctype="image/png", headers=None):
    hd = {"Content-Type": ctype}
    hd.update(headers or {})
    return H.request(port, "POST", path, body=body, headers=hd)


def softmax(x):
    e = np.exp(np.asarray(x, np.float64) - np.max(x))
    return e / e.sum()


# ---------------------------------------------------------------- tests

class MediaTests(unittest.TestCase):
    """One daemon serving tiny-demo, a tiny segmenter and a tiny KWS model."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="convd-it-media-")
        cls.models = H.models_dir(cls.tmp)
        make_seg_model(os.path.join(cls.models, "seg"))
        make_seg_model(os.path.join(cls.models, "seg-lb"), "seg-lb", "letterbox")
        make_audio_model(os.path.join(cls.models, "kws"))
        cls.srv = H.Server(cls.models, extra_args=[
            "--set", "max_image_pixels=%d" % PIXEL_LIMIT]).start()
        cls.port = cls.srv.port

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def alive(self):
        st, _, _ = H.request(self.port, "GET", "/healthz")
        self.assertEqual(st, 200)
        with open(H.SAMPLE_PNG, "rb") as f:
            st, _, data = H.classify(self.port, "tiny-demo", f.read())
        self.assertEqual(st, 200, data[:300])

    # ---- segmentation

    @staticmethod
    def blocks_image(h=SEG_SIZE, w=SEG_SIZE):
        img = np.full((h, w, 3), 20, np.uint8)
        img[: h // 2, : w // 2] = (255, 0, 0)
        img[: h // 2, w // 2:] = (0, 255, 0)
        img[h // 2:, w // 4: 3 * w // 4] = (0, 0, 255)
        return img

    def test_segment_json_exact(self):
        img = self.blocks_image()
        want = np.zeros((SEG_SIZE, SEG_SIZE), np.int32)
        want[:8, :8], want[:8, 8:], want[8:, 4:12] = 1, 2, 3
        st, hd, data = post(self.port, "/v1/models/seg/segment", H.png_encode(img))
        self.assertEqual(st, 200, data[:300])
        self.assertTrue(hd["content-type"].startswith("application/json"))
        j = json.loads(data)
        self.assertEqual((j["model"], j["width"], j["height"]), ("seg", 16, 16))
        m = j["mask"]
        self.assertEqual((m["format"], m["width"], m["height"]), ("rle", 16, 16))
        got = rle_decode(m["runs"], 256).reshape(16, 16)
        np.testing.assert_array_equal(got, want)
        runs = m["runs"]
        for i in range(2, len(runs), 2):
            self.assertNotEqual(runs[i], runs[i - 2])
        cl = {c["index"]: c for c in j["classes"]}
        for k in range(4):
            n = int((want == k).sum())
            self.assertEqual(cl[k]["pixels"], n)
            self.assertAlmostEqual(cl[k]["fraction"], n / 256, places=6)
        self.assertEqual(cl[1]["label"], "red")

    def test_segment_other_size_matches_v2(self):
        rng = np.random.default_rng(5)
        img = np.repeat(np.repeat(rng.integers(0, 2, (6, 10, 3)) * 255, 4, 0), 4, 1)
        img = img.astype(np.uint8)          # 24 x 40, blocky colours
        png = H.png_encode(img)
        st, _, data = post(self.port, "/v1/models/seg/segment", png)
        self.assertEqual(st, 200, data[:300])
        j = json.loads(data)
        self.assertEqual((j["width"], j["height"]), (40, 24))
        got = rle_decode(j["mask"]["runs"], 40 * 24).reshape(24, 40)
        # v2 BYTES in binary form: the same PNG through the same preprocessing
        hdr = json.dumps({"inputs": [{"name": "input", "datatype": "BYTES",
                                      "shape": [1], "parameters": {
                                          "binary_data_size": len(png) + 4}}]}).encode()
        st, _, out = H.request(self.port, "POST", "/v2/models/seg/infer",
                               body=hdr + struct.pack("<I", len(png)) + png,
                               headers={"Content-Type": "application/octet-stream",
                                        "Inference-Header-Content-Length": str(len(hdr))})
        self.assertEqual(st, 200, out[:300])
        logits = np.asarray(json.loads(out)["outputs"][0]["data"], np.float32)
        cls = logits.reshape(4, SEG_SIZE, SEG_SIZE).argmax(0)
        np.testing.assert_array_equal(got, nearest_resize(cls, 24, 40))
        self.assertEqual(sum(c["pixels"] for c in j["classes"]), 40 * 24)

    def test_segment_letterbox_maps_back(self):
        """A 32x16 image letterboxed into 16x16 (rows 4..11): the mask comes
        back at 32x16 with the class boundary where the image has it."""
        img = np.zeros((16, 32, 3), np.uint8)
        img[:, :16] = (255, 0, 0)
        img[:, 16:] = (0, 255, 0)
        st, _, data = post(self.port, "/v1/models/seg-lb/segment", H.png_encode(img))
        self.assertEqual(st, 200, data[:300])
        j = json.loads(data)
        got = rle_decode(j["mask"]["runs"], 32 * 16).reshape(16, 32)
        want = np.zeros((16, 32), np.int32)
        want[:, :16], want[:, 16:] = 1, 2
        np.testing.assert_array_equal(got, want)

    def test_segment_png_and_overlay(self):
        img = self.blocks_image(32, 48)
        png = H.png_encode(img)
        st, _, data = post(self.port, "/v1/models/seg/segment", png)
        self.assertEqual(st, 200)
        cls = rle_decode(json.loads(data)["mask"]["runs"], 32 * 48).reshape(32, 48)
        for path, hdr in (("/v1/models/seg/segment?format=png", {}),
                          ("/v1/models/seg/segment", {"Accept": "image/png"})):
            st, hd, data = post(self.port, path, png, headers=hdr)
            self.assertEqual(st, 200, data[:300])
            self.assertEqual(hd["content-type"], "image/png")
            pic = png_decode(data)
            self.assertEqual(pic.shape, (32, 48, 3))
            pal = np.array([voc_colour(k) for k in range(4)], np.uint8)
            np.testing.assert_array_equal(pic, pal[cls])
        st, hd, data = post(self.port, "/v1/models/seg/segment?overlay=1", png)
        self.assertEqual(st, 200, data[:300])
        pic = png_decode(data)
        self.assertEqual(pic.shape, (32, 48, 3))
        bg = cls == 0
        np.testing.assert_array_equal(pic[bg], img[bg])   # background unchanged
        self.assertFalse(np.array_equal(pic[~bg], img[~bg]))

    def test_segment_errors(self):
        with open(H.SAMPLE_PNG, "rb") as f:
            png = f.read()
        st, hd, data = post(self.port, "/v1/models/tiny-demo/segment", png)
        err_json(self, st, hd, data, 400)
        st, hd, data = post(self.port, "/v1/models/seg/classify", png)
        err_json(self, st, hd, data, 400)
        st, hd, data = post(self.port, "/v1/models/seg/segment?format=gif", png)
        err_json(self, st, hd, data, 400)
        st, hd, data = post(self.port, "/v1/models/seg/segment?overlay=maybe", png)
        err_json(self, st, hd, data, 400)
        st, hd, data = post(self.port, "/v1/models/nope/segment", png)
        err_json(self, st, hd, data, 404)
        st, hd, data = post(self.port, "/v1/models/seg/segment", b"not an image")
        err_json(self, st, hd, data, 400)
        st, hd, data = H.request(self.port, "GET", "/v1/models/seg/segment")
        err_json(self, st, hd, data, 405)
        self.alive()

    def test_pixel_limit_everywhere(self):
        big = H.png_encode(np.zeros((400, 300, 3), np.uint8))   # 120000 px
        for path in ("/v1/models/seg/segment", "/v1/models/tiny-demo/cam",
                     "/v1/models/tiny-demo/classify"):
            st, hd, data = post(self.port, path, big)
            err_json(self, st, hd, data, 400)
        self.alive()

    # ---- Eigen-CAM

    def cli_cam(self, image_path):
        out = subprocess.run([H.INFER, "--model", H.TINY, "--input", image_path,
                              "--json", "--cam", "--device", H.DEVICE],
                             capture_output=True, timeout=120, check=True)
        return json.loads(out.stdout)

    def test_cam_matches_cli_and_classify(self):
        with open(H.SAMPLE_PNG, "rb") as f:
            png = f.read()
        st, _, data = post(self.port, "/v1/models/tiny-demo/cam?top=3", png)
        self.assertEqual(st, 200, data[:300])
        j = json.loads(data)
        ref = self.cli_cam(H.SAMPLE_PNG)
        self.assertEqual((j["layer"], j["h"], j["w"]), ("relu", ref["h"], ref["w"]))
        m = np.asarray(j["map"], np.float64)
        self.assertEqual(m.size, j["h"] * j["w"])
        self.assertLessEqual(np.abs(m - np.asarray(ref["map"])).max(), 1e-4)
        self.assertAlmostEqual(m.max(), 1.0, places=5)
        self.assertGreaterEqual(m.min(), 0.0)
        self.assertEqual((j["width"], j["height"]), (64, 64))
        py, px = divmod(int(np.argmax(m)), j["w"])
        self.assertEqual((j["peak_cell"]["y"], j["peak_cell"]["x"]), (py, px))
        cell = 64 // j["w"]
        self.assertEqual(j["peak"]["x"] // cell, px)
        self.assertEqual(j["peak"]["y"] // cell, py)
        st, _, cdata = H.classify(self.port, "tiny-demo", png, top=3)
        self.assertEqual(st, 200)
        want = json.loads(cdata)["predictions"]
        self.assertEqual([p["index"] for p in j["predictions"]],
                         [p["index"] for p in want])
        for a, b in zip(j["predictions"], want):
            self.assertAlmostEqual(a["score"], b["score"], places=5)

    def test_cam_png_and_overlay_at_input_size(self):
        img = H.random_image(11)
        png = H.png_encode(img)
        for q in ("format=png", "overlay=1"):
            st, hd, data = post(self.port, "/v1/models/tiny-demo/cam?" + q, png)
            self.assertEqual(st, 200, data[:300])
            self.assertEqual(hd["content-type"], "image/png")
            pic = png_decode(data)
            self.assertEqual(pic.shape, img.shape)
        st, _, data = post(self.port, "/v1/models/tiny-demo/cam", png)
        j = json.loads(data)
        self.assertEqual((j["height"], j["width"]), img.shape[:2])
        self.assertTrue(0 <= j["peak"]["x"] < img.shape[1])
        self.assertTrue(0 <= j["peak"]["y"] < img.shape[0])

    def test_cam_layer_errors(self):
        with open(H.SAMPLE_PNG, "rb") as f:
            png = f.read()
        st, hd, data = post(self.port, "/v1/models/tiny-demo/cam?layer=no_such_node", png)
        msg = err_json(self, st, hd, data, 400)
        self.assertIn("no_such_node", msg)
        self.assertIn("relu", msg)                        # lists readable layers
        st, hd, data = post(self.port, "/v1/models/tiny-demo/cam?layer=stem_0", png)
        msg = err_json(self, st, hd, data, 400)
        self.assertIn("relu", msg)
        st, hd, data = post(self.port, "/v1/models/tiny-demo/cam?layer=fc", png)
        err_json(self, st, hd, data, 400)                 # (10,) is no (C, H, W)
        st, hd, data = post(self.port, "/v1/models/tiny-demo/cam?layer=relu", png)
        self.assertEqual(st, 200, data[:300])
        st, hd, data = post(self.port, "/v1/models/seg/cam", png)
        err_json(self, st, hd, data, 400)                 # no cam_layer
        st, hd, data = post(self.port, "/v1/models/tiny-demo/cam?top=0", png)
        err_json(self, st, hd, data, 400)
        self.alive()

    def test_cam_batches_with_classify(self):
        imgs = [H.png_encode(H.random_image(s)) for s in range(6)]
        ref = []
        for p in imgs:
            st, _, d = post(self.port, "/v1/models/tiny-demo/cam?top=2", p)
            self.assertEqual(st, 200)
            ref.append(json.loads(d))

        def one(i):
            p = imgs[i % len(imgs)]
            if i % 2:
                return i, H.classify(self.port, "tiny-demo", p, top=2)
            return i, post(self.port, "/v1/models/tiny-demo/cam?top=2", p)
        with cf.ThreadPoolExecutor(12) as ex:
            res = list(ex.map(one, range(24)))
        for i, (st, _, d) in res:
            self.assertEqual(st, 200, d[:300])
            j, r = json.loads(d), ref[i % len(imgs)]
            self.assertEqual([p["index"] for p in j["predictions"]],
                             [p["index"] for p in r["predictions"]])
            if i % 2 == 0:
                np.testing.assert_allclose(j["map"], r["map"], atol=1e-4)

    # ---- audio

    def test_audio_wav_matches_waveform_tensor(self):
        x = tone(440, AUDIO_RATE, AUDIO_SECONDS) + 0.1 * tone(1500, AUDIO_RATE,
                                                              AUDIO_SECONDS)
        wav = wav_bytes(x, AUDIO_RATE)
        st, _, data = post(self.port, "/v1/models/kws/classify?top=3", wav, "audio/wav")
        self.assertEqual(st, 200, data[:300])
        preds = json.loads(data)["predictions"]
        self.assertEqual(len(preds), 3)
        q = np.clip(np.round(x * 32767), -32768, 32767) / 32768.0
        body = json.dumps({"inputs": [{"name": "input", "datatype": "FP32",
                                       "shape": [1, AUDIO_L],
                                       "data": [float(v) for v in q]}]})
        st, _, out = H.request(self.port, "POST", "/v2/models/kws/infer", body=body,
                               headers={"Content-Type": "application/json"})
        self.assertEqual(st, 200, out[:300])
        p = softmax(json.loads(out)["outputs"][0]["data"])
        for pr in preds:
            self.assertAlmostEqual(pr["score"], p[pr["index"]], places=4)
        self.assertEqual(preds[0]["index"], int(np.argmax(p)))

    def test_audio_formats_and_rates(self):
        x = tone(300, 16000, 0.7)
        stereo = np.stack([x, 0.5 * x], 1)
        for ctype, wav in (("audio/x-wav", wav_bytes(stereo, 16000, 2, "float32")),
                           ("audio/wave", wav_bytes(tone(300, 22050, 0.3), 22050)),
                           ("application/octet-stream", wav_bytes(x, 16000))):
            st, _, data = post(self.port, "/v1/models/kws/classify", wav, ctype)
            self.assertEqual(st, 200, (ctype, data[:300]))
            self.assertEqual(json.loads(data)["model"], "kws")
        body, ct = H.multipart("file", "a.wav", "audio/wav", wav_bytes(x, 16000))
        st, _, data = post(self.port, "/v1/models/kws/classify", body, ct)
        self.assertEqual(st, 200, data[:300])
        # WAV files as KServe BYTES
        wavs = [wav_bytes(x, 16000), wav_bytes(tone(500, 8000, 0.5), 8000)]
        raw = b"".join(struct.pack("<I", len(w)) + w for w in wavs)
        hdr = json.dumps({"inputs": [{"name": "input", "datatype": "BYTES", "shape": [2],
                                      "parameters": {"binary_data_size": len(raw)}}]})
        st, _, out = H.request(self.port, "POST", "/v2/models/kws/infer",
                               body=hdr.encode() + raw,
                               headers={"Content-Type": "application/octet-stream",
                                        "Inference-Header-Content-Length":
                                        str(len(hdr))})
        self.assertEqual(st, 200, out[:300])
        self.assertEqual(json.loads(out)["outputs"][0]["shape"], [2, 3])

    def test_audio_hostile_wavs(self):
        x = tone(440, 8000, 0.25)
        good = wav_bytes(x, 8000)
        data_at = good.index(b"data")
        cases = {
            "lying data size": wav_bytes(x, 8000, header_overrides={"data_size": 10 ** 8}),
            "lying riff size": good[:4] + struct.pack("<I", 0xFFFFFFF0) + good[8:],
            "zero channels": wav_bytes(x, 8000, header_overrides={"channels": 0}),
            "zero rate": wav_bytes(x, 8000, header_overrides={"rate": 0,
                                                              "byte_rate": 0}),
            "ten hours": wav_bytes(x, 8000, header_overrides={
                "data_size": 10 * 3600 * 8000 * 2}),
            "truncated": good[:data_at + 8 + 100],
            "no data chunk": good[:data_at],
            "garbage": b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk",
            "png body": H.png_encode(np.zeros((4, 4, 3), np.uint8)),
            "empty": b"",
        }
        for name, body in cases.items():
            st, hd, data = post(self.port, "/v1/models/kws/classify", body, "audio/wav")
            self.assertIn(st, (400, 413), (name, data[:300]))
            err_json(self, st, hd, data, st)
        st, hd, data = post(self.port, "/v1/models/kws/classify", good, "image/png")
        err_json(self, st, hd, data, 415)
        st, hd, data = post(self.port, "/v1/models/tiny-demo/classify", good, "audio/wav")
        err_json(self, st, hd, data, 415)
        body = json.dumps({"inputs": [{"name": "input", "datatype": "FP32",
                                       "shape": [1, 123], "data": [0.0] * 123}]})
        st, hd, data = H.request(self.port, "POST", "/v2/models/kws/infer", body=body,
                                 headers={"Content-Type": "application/json"})
        self.assertIn(str(AUDIO_L), err_json(self, st, hd, data, 400))
        st, _, data = post(self.port, "/v1/models/kws/classify", good, "audio/wav")
        self.assertEqual(st, 200, data[:300])
        self.alive()

    # ---- clients

    def test_clients(self):
        env = dict(os.environ, CONVD_HOST="127.0.0.1:%d" % self.port, CONVD_TIMEOUT="30")
        cl = os.path.join(H.ROOT, "clients")
        d = tempfile.mkdtemp(prefix="clients-", dir=self.tmp)
        img = os.path.join(d, "in.png")
        with open(img, "wb") as f:
            f.write(H.png_encode(self.blocks_image(20, 30)))
        wav = os.path.join(d, "clip.wav")
        with open(wav, "wb") as f:
            f.write(wav_bytes(tone(440, 8000, 0.5), 8000))

        def run(*args):
            return subprocess.run(["sh"] + list(args), env=env, capture_output=True,
                                  timeout=60)
        r = run(os.path.join(cl, "segment.sh"), "seg", img)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["mask"]["format"], "rle")
        for extra in ([], ["-O"]):
            out = os.path.join(d, "seg%d.png" % len(extra))
            r = run(os.path.join(cl, "segment.sh"), "-o", out, *extra, "seg", img)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(out, "rb") as f:
                self.assertEqual(png_decode(f.read()).shape, (20, 30, 3))
        r = run(os.path.join(cl, "cam.sh"), "-k", "2", "tiny-demo", img)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(json.loads(r.stdout)["predictions"]), 2)
        out = os.path.join(d, "cam.png")
        r = run(os.path.join(cl, "cam.sh"), "-l", "relu", "-O", "-o", out, "tiny-demo", img)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, "rb") as f:
            self.assertEqual(png_decode(f.read()).shape, (20, 30, 3))
        r = run(os.path.join(cl, "cam.sh"), "-l", "nope", "tiny-demo", img)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"HTTP 400", r.stderr)
        r = run(os.path.join(cl, "audio.sh"), "-k", "2", "kws", wav)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(json.loads(r.stdout)["predictions"]), 2)
        r = run(os.path.join(cl, "audio.sh"), "kws", img)
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main()
