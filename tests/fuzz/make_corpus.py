#!/usr/bin/python3
"""make_corpus.py — writes the small seed corpora under tests/fuzz/corpus/
(one folder per harness): copies of the small image/WAV fixtures, synthetic
WAVs, multipart bodies, KServe requests, safetensors files, tiny models and
config files. Deterministic; run from anywhere. Regression inputs (files
named regress-*) found by fuzzing are committed next to these seeds and are
never rewritten by this script."""
import json
import os
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIX = os.path.join(ROOT, "tests", "fixtures")
OUT = os.path.join(HERE, "corpus")


def put(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def copy(harness, path):
    with open(path, "rb") as f:
        put(harness, os.path.basename(path), f.read())


def wav(fmt, ch, rate, bits, frames, extensible=False):
    block = ch * bits // 8
    data = bytes((i * 37) & 0xFF for i in range(frames * block))
    if extensible:
        sub = struct.pack("<HIH", bits, (1 << ch) - 1, fmt) + \
            b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmtc = struct.pack("<HHIIHHH", 0xFFFE, ch, rate, rate * block, block, bits, 22) + sub
    else:
        fmtc = struct.pack("<HHIIHH", fmt, ch, rate, rate * block, block, bits)
    if fmt == 3:   # float: finite values
        n = frames * ch
        data = struct.pack("<%d%s" % (n, "f" if bits == 32 else "d"),
                           *[((i % 17) - 8) / 9.0 for i in range(n)])
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmtc)) + fmtc + \
        b"LIST" + struct.pack("<I", 3) + b"abc\x00" + \
        b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def safetensors(tensors, meta=None):
    header, blobs, off = {}, [], 0
    if meta:
        header["__metadata__"] = meta
    for name, (dtype, shape) in tensors.items():
        n = 1
        for s in shape:
            n *= s
        size = n * (4 if dtype == "F32" else 2)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + size]}
        blobs.append(bytes((off + i) % 251 for i in range(size)) if dtype != "F32" else
                     struct.pack("<%df" % n, *[((i % 13) - 6) / 10.0 for i in range(n)]))
        off += size
    hj = json.dumps(header).encode()
    hj += b" " * ((8 - len(hj) % 8) % 8)
    return struct.pack("<Q", len(hj)) + hj + b"".join(blobs)


def tiny_model(size=8, ch=4, bn=True, extra=None):
    tensors = {"c.weight": ("F32", [ch, 3, 3, 3]), "c.bias": ("F32", [ch]),
               "fc.weight": ("F32", [3, ch]), "fc.bias": ("F32", [3])}
    graph = [{"name": "c", "op": "conv", "inputs": ["input"],
              "weights": {"weight": "c.weight", "bias": "c.bias"},
              "attrs": {"stride": [1, 1], "padding": [1, 1, 1, 1]}}]
    prev = "c"
    if bn:
        for k in ("weight", "bias", "running_mean", "running_var"):
            tensors["bn." + k] = ("F32", [ch])
        graph.append({"name": "bn", "op": "batchnorm", "inputs": [prev],
                      "weights": {k: "bn." + k for k in
                                  ("weight", "bias", "running_mean", "running_var")},
                      "attrs": {"eps": 1e-5}})
        prev = "bn"
    graph.append({"name": "r", "op": "relu", "inputs": [prev]})
    prev = "r"
    if extra:
        graph += extra
        prev = extra[-1]["name"]
    graph += [{"name": "pool", "op": "global_avgpool", "inputs": [prev]},
              {"name": "flat", "op": "flatten", "inputs": ["pool"]},
              {"name": "fc", "op": "linear", "inputs": ["flat"],
               "weights": {"weight": "fc.weight", "bias": "fc.bias"}}]
    meta = {"format": "convd-model", "version": 1, "name": "fuzz",
            "task": "classification", "weights": "weights.safetensors",
            "inputs": [{"name": "input", "shape": [3, size, size],
                        "preprocess": {"kind": "image", "size": [size, size],
                                       "resize": "stretch"}}],
            "outputs": ["fc"], "labels": ["a", "b", "c"], "graph": graph}
    mj = json.dumps(meta).encode()
    return struct.pack("<I", len(mj)) + mj + safetensors(tensors)


def kserve_json(obj):
    return b"\x00\x00" + json.dumps(obj).encode()


def kserve_binary(hdr, raw):
    hj = json.dumps(hdr).encode()
    return struct.pack("<H", len(hj)) + hj + raw


def main():
    img = os.path.join(FIX, "images")
    for f in ("base.jpg", "gray.jpg", "cmyk.jpg", "prog.jpg", "trunc.jpg", "huge.jpg"):
        copy("jpeg", os.path.join(img, f))
    for f in ("rgb8.png", "gray8.png", "graya8.png", "rgba8.png", "rgb16.png",
              "pal4_trns.png", "gray2_adam7.png", "rgb8_adam7.png", "badcrc.png",
              "trunc.png", "huge.png"):
        copy("png", os.path.join(img, f))
    for f in sorted(os.listdir(os.path.join(FIX, "audio"))):
        if f.startswith("hostile_"):
            copy("wav", os.path.join(FIX, "audio", f))
    put("wav", "pcm16_mono.wav", wav(1, 1, 16000, 16, 64))
    put("wav", "pcm8_stereo.wav", wav(1, 2, 8000, 8, 40))
    put("wav", "pcm24_3ch.wav", wav(1, 3, 44100, 24, 30))
    put("wav", "pcm32.wav", wav(1, 1, 22050, 32, 30))
    put("wav", "float32.wav", wav(3, 1, 16000, 32, 50))
    put("wav", "float64_stereo.wav", wav(3, 2, 48000, 64, 20))
    put("wav", "extensible16.wav", wav(1, 2, 16000, 16, 30, extensible=True))
    put("wav", "extensible_float.wav", wav(3, 1, 16000, 32, 30, extensible=True))

    png = open(os.path.join(img, "rgb8.png"), "rb").read()
    b = "XyZbound"
    part = lambda name, fn, ct, data: (
        ("--%s\r\nContent-Disposition: form-data; name=\"%s\"%s\r\n%s\r\n" %
         (b, name, "; filename=\"%s\"" % fn if fn else "",
          "Content-Type: %s\r\n" % ct if ct else "")).encode() + data + b"\r\n")
    ct = ("multipart/form-data; boundary=%s\n" % b).encode()
    put("multipart", "one_file", ct + part("file", "a.png", "image/png", png[:64]) +
        ("--%s--\r\n" % b).encode())
    put("multipart", "two_parts", ct + part("note", None, None, b"hello") +
        part("image", "b.jpg", "image/jpeg", b"\xff\xd8\xff\xe0abc") + ("--%s--\r\n" % b).encode())
    put("multipart", "quoted_boundary",
        b'multipart/form-data; charset=utf-8; boundary="q b"\n--q b\r\n'
        b'Content-Disposition: form-data; name="file"; filename="x"\r\n\r\nDATA\r\n--q b--\r\n')
    put("multipart", "no_end", ct + part("file", "a", "image/png", b"abc"))
    put("multipart", "preamble", ct + b"preamble text\r\n" +
        part("file", "a", "audio/wav", b"RIFF") + ("--%s--" % b).encode())

    dims = [1, 3, 4, 4]
    vals = [((i % 7) - 3) / 2.0 for i in range(48)]
    put("kserve", "json_fp32", kserve_json(
        {"id": "r1", "inputs": [{"name": "input", "datatype": "FP32", "shape": dims,
                                 "data": vals}]}))
    put("kserve", "json_nested", kserve_json(
        {"inputs": [{"name": "input", "datatype": "INT32", "shape": dims,
                     "data": [[[[int(v) for v in vals[c * 16 + r * 4: c * 16 + r * 4 + 4]]
                                for r in range(4)] for c in range(3)]]}],
         "outputs": [{"name": "prob"}, {"name": "fc", "parameters": {"binary_data": True}}]}))
    put("kserve", "json_bytes", kserve_json(
        {"inputs": [{"name": "input", "datatype": "BYTES", "shape": [1],
                     "data": ["aGVsbG8="]}]}))
    raw = struct.pack("<48f", *vals)
    put("kserve", "binary_fp32", kserve_binary(
        {"inputs": [{"name": "input", "datatype": "FP32", "shape": dims,
                     "parameters": {"binary_data_size": len(raw)}}],
         "parameters": {"binary_data_output": True}}, raw))
    raw16 = struct.pack("<48e", *vals)
    put("kserve", "binary_fp16", kserve_binary(
        {"inputs": [{"name": "input", "datatype": "FP16", "shape": dims,
                     "parameters": {"binary_data_size": len(raw16)}}]}, raw16))
    el = b"\x89PNG\r\n\x1a\n"
    rawb = struct.pack("<I", len(el)) + el
    put("kserve", "binary_bytes", kserve_binary(
        {"inputs": [{"name": "input", "datatype": "BYTES", "shape": [1],
                     "parameters": {"binary_data_size": len(rawb)}}]}, rawb))
    rawu8 = bytes(range(48))
    put("kserve", "binary_uint8", kserve_binary(
        {"inputs": [{"name": "input", "datatype": "UINT8", "shape": dims,
                     "parameters": {"binary_data_size": 48}}]}, rawu8))

    put("safetensors", "f32", safetensors({"a": ("F32", [2, 3]), "b.w": ("F32", [4])}))
    put("safetensors", "f16_bf16", safetensors({"h": ("F16", [3]), "g": ("BF16", [2, 2]),
                                                "s": ("F32", [])}, meta={"k": "v"}))
    put("safetensors", "empty", safetensors({}))

    put("model", "conv_bn", tiny_model())
    put("model", "conv_only", tiny_model(size=5, ch=2, bn=False))
    put("model", "pool", tiny_model(extra=[
        {"name": "mp", "op": "maxpool", "inputs": ["r"],
         "attrs": {"kernel": [2, 2], "stride": [2, 2]}},
        {"name": "add", "op": "add", "inputs": ["mp", "mp"]}]))

    with open(os.path.join(ROOT, "config", "convd.json"), "rb") as f:
        put("config", "shipped", f.read())
    put("config", "overrides", json.dumps(
        {"port": 0, "host": "::1", "max_body_bytes": "4M", "device": "0:1",
         "models": {"tiny-demo": {"max_batch": 2, "timeout_ms": 50}}}).encode())
    put("config", "empty", b"{}")


if __name__ == "__main__":
    main()
