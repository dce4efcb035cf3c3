"""test_hostile.py — the hostile-input matrix: one daemon (serving a copy of
models/tiny-demo, small limits) receives malformed, oversized, truncated,
slow, pipelined and flooding requests. Every case checks the status code and
(where convd answers) the JSON error envelope, then that /healthz still
answers and that the next valid request gives the reference answer.
Images are generated here (PIL, numpy), not committed. Run through run.sh."""
import io
import json
import os
import resource
import shutil
import socket
import struct
import tempfile
import time
import unittest
import zlib

import numpy as np
from PIL import Image

import harness as H

MODEL = "tiny-demo"
CLASSIFY = "/v1/models/%s/classify" % MODEL
INFER = "/v2/models/%s/infer" % MODEL
SHAPE = [1, 3, 64, 64]
NUMEL = 3 * 64 * 64
MAX_BODY = 1 << 20            # the daemon's max_body_bytes here
MAX_PIXELS = 4000000          # and max_image_pixels
BODY_TIMEOUT = 3              # body_timeout_s
IDLE_TIMEOUT = 4              # connection_timeout_s
START_TIMEOUT = 240.0         # a cold OpenCL compile on a busy machine takes a while


# ---------------------------------------------------------------- images

def pil_bytes(img, fmt, **kw):
    b = io.BytesIO()
    img.save(b, fmt, **kw)
    return b.getvalue()


def rgb_array(seed=5, h=80, w=96):
    return H.random_image(seed)[:h, :w]


def png_chunk(tag, data):
    return (struct.pack(">I", len(data)) + tag + data +
            struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))


def png_raw(w, h, depth, ctype, idat, interlace=0):
    return (b"\x89PNG\r\n\x1a\n" +
            png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, interlace)) +
            png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b""))


def png_rgb16(img16):
    """(h, w, 3) uint16 -> 16-bit RGB PNG."""
    h, w, _ = img16.shape
    rows = b"".join(b"\x00" + img16[y].astype(">u2").tobytes() for y in range(h))
    return png_raw(w, h, 16, 2, zlib.compress(rows))


def png_adam7(img):
    """(h, w, 3) uint8 -> interlaced (Adam7) RGB PNG, filter 0 on every row."""
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
              (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    raw = b""
    for x0, y0, dx, dy in passes:
        sub = img[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        raw += b"".join(b"\x00" + sub[y].tobytes() for y in range(sub.shape[0]))
    h, w, _ = img.shape
    return png_raw(w, h, 8, 2, zlib.compress(raw), interlace=1)


def jpeg_with_size(jpg, w, h):
    """Rewrites the SOF0/SOF2 frame size of a baseline/progressive JPEG."""
    b = bytearray(jpg)
    i = 2
    while i + 9 < len(b):
        if b[i] != 0xFF:
            break
        marker = b[i + 1]
        seg = struct.unpack(">H", bytes(b[i + 2:i + 4]))[0]
        if marker in (0xC0, 0xC1, 0xC2):
            b[i + 5:i + 9] = struct.pack(">HH", h, w)
            return bytes(b)
        i += 2 + seg
    raise ValueError("no SOF marker")


def err_json(tc, status, hdrs, data, want):
    tc.assertEqual(status, want, data[:300])
    tc.assertTrue(hdrs.get("content-type", "").startswith("application/json"), hdrs)
    j = json.loads(data)
    tc.assertEqual(set(j), {"error"})
    tc.assertEqual(j["error"]["code"], want)
    tc.assertIsInstance(j["error"]["message"], str)
    tc.assertTrue(j["error"]["message"])
    return j["error"]["message"]


def parse_raw_responses(blob):
    """Raw bytes of one or more HTTP/1.x responses -> [(status, headers, body)]."""
    out = []
    while blob:
        head, sep, rest = blob.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        hdrs = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        n = int(hdrs.get("content-length", "0"))
        out.append((status, hdrs, rest[:n]))
        blob = rest[n:]
    return out


def raise_nofile(want):
    """Raises the soft fd limit towards want (children inherit it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Hostile(unittest.TestCase):
    """One daemon; after every case it must be alive and still correct."""

    @classmethod
    def setUpClass(cls):
        cls.nofile = raise_nofile(4096)
        cls.tmp = tempfile.mkdtemp(prefix="convd-hostile-")
        cls.models = H.models_dir(cls.tmp)
        cls.srv = H.Server(cls.models, config={
            "max_body_bytes": MAX_BODY, "max_image_pixels": MAX_PIXELS,
            "connection_timeout_s": IDLE_TIMEOUT, "body_timeout_s": BODY_TIMEOUT,
            "max_connections": 4000, "max_connections_per_ip": 0, "threads": 4,
            "max_queue": 64, "timeout_ms": 20000})
        try:
            cls.srv.start(timeout=START_TIMEOUT)
        except Exception:
            cls.srv.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise
        cls.port = cls.srv.port
        with open(H.SAMPLE_PNG, "rb") as f:
            cls.sample = f.read()
        st, _, data = H.classify(cls.port, MODEL, cls.sample, top=3)
        assert st == 200, data
        cls.reference = json.loads(data)["predictions"]

    @classmethod
    def tearDownClass(cls):
        cls.srv.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def tearDown(self):
        self.assert_alive()

    def assert_alive(self):
        self.assertIsNone(self.srv.proc.poll(), "convd died:\n" + self.srv.stderr())
        st, _, data = H.request(self.port, "GET", "/healthz", timeout=10)
        self.assertEqual(st, 200, data)
        st, _, data = H.classify(self.port, MODEL, self.sample, top=3, timeout=30)
        self.assertEqual(st, 200, data[:300])
        got = json.loads(data)["predictions"]
        self.assertEqual([p["index"] for p in got], [p["index"] for p in self.reference])
        for g, r in zip(got, self.reference):
            self.assertAlmostEqual(g["score"], r["score"], delta=1e-5)

    # ------------------------------------------------------------ helpers

    def classify_err(self, body, want, ctype="image/png", path=CLASSIFY):
        st, hd, data = H.request(self.port, "POST", path, body=body,
                                 headers={"Content-Type": ctype})
        return err_json(self, st, hd, data, want)

    def classify_ok(self, body, ctype):
        st, _, data = H.classify(self.port, MODEL, body, top=3, ctype=ctype)
        self.assertEqual(st, 200, data[:300])
        preds = json.loads(data)["predictions"]
        self.assertEqual(len(preds), 3)
        return preds

    def infer_err(self, body, want=400, headers=None):
        h = {"Content-Type": "application/json"} if headers is None else headers
        st, hd, data = H.request(self.port, "POST", INFER, body=body, headers=h)
        return err_json(self, st, hd, data, want)

    def infer_json(self, inp, outputs=None):
        d = {"inputs": [inp]}
        if outputs is not None:
            d["outputs"] = outputs
        return json.dumps(d).encode()

    def binary(self, hdr, raw, header_len=None):
        hj = json.dumps(hdr).encode()
        return hj + raw, {"Content-Type": "application/octet-stream",
                          "Inference-Header-Content-Length":
                              str(len(hj) if header_len is None else header_len)}

    # ------------------------------------------------------------ images: broken

    def test_zero_byte_png(self):
        self.classify_err(b"", 400)

    def test_zero_byte_jpeg(self):
        self.classify_err(b"", 400, ctype="image/jpeg")

    def test_truncated_png(self):
        png = H.png_encode(rgb_array())
        for cut in (8, 33, len(png) // 2, len(png) - 13):
            self.classify_err(png[:cut], 400)

    def test_truncated_jpeg(self):
        jpg = pil_bytes(Image.fromarray(rgb_array()), "JPEG", quality=90)
        for cut in (2, 20, len(jpg) // 2, len(jpg) - 2):
            self.classify_err(jpg[:cut], 400, ctype="image/jpeg")

    def test_png_bad_crc(self):
        png = bytearray(H.png_encode(rgb_array()))
        png[29] ^= 0xFF     # inside the IHDR CRC
        self.classify_err(bytes(png), 400)

    def test_png_header_100000x100000(self):
        png = png_raw(100000, 100000, 8, 2, zlib.compress(b"\0" * 64))
        msg = self.classify_err(png, 400)
        self.assertIn("100000x100000", msg)

    def test_jpeg_header_65000x65000(self):
        # JPEG sizes are 16-bit: 65000x65000 is the largest a header can claim
        jpg = pil_bytes(Image.fromarray(rgb_array()), "JPEG")
        self.classify_err(jpeg_with_size(jpg, 65000, 65000), 400, ctype="image/jpeg")

    def test_png_decompression_bomb(self):
        # 8000x8000 gray zeros: 64 MB of pixels in ~60 KB of zlib, over the limit
        w = h = 8000
        raw = zlib.compress(b"".join(b"\x00" + bytes(w) for _ in range(h)), 9)
        png = png_raw(w, h, 8, 0, raw)
        self.assertLess(len(png), MAX_BODY)
        self.classify_err(png, 400)

    def test_png_bomb_just_under_limit_decodes(self):
        w = h = 1900     # 3.6 Mpx < 4 Mpx: legitimate, decoded and resized
        raw = zlib.compress(b"".join(b"\x00" + bytes(w) for _ in range(h)), 9)
        self.classify_ok(png_raw(w, h, 8, 0, raw), "image/png")

    def test_png_idat_shorter_than_declared(self):
        raw = zlib.compress(b"".join(b"\x00" + bytes(3 * 64) for _ in range(10)))
        self.classify_err(png_raw(64, 64, 8, 2, raw), 400)

    def test_png_zero_width(self):
        self.classify_err(png_raw(0, 64, 8, 2, zlib.compress(b"")), 400)

    def test_png_bad_bit_depth(self):
        self.classify_err(png_raw(8, 8, 7, 2, zlib.compress(bytes(8 * 25))), 400)

    def test_jpeg_garbage_after_soi(self):
        self.classify_err(b"\xff\xd8\xff" + os.urandom(2000), 400, ctype="image/jpeg")

    def test_not_an_image(self):
        self.classify_err(b"GIF89a" + bytes(100), 400)
        self.classify_err(b"hello, world", 400, ctype="application/octet-stream")

    # ------------------------------------------------------------ images: valid oddities

    def test_cmyk_jpeg_works(self):
        img = Image.fromarray(rgb_array(7)).convert("CMYK")
        self.classify_ok(pil_bytes(img, "JPEG", quality=92), "image/jpeg")

    def test_progressive_jpeg_works(self):
        img = Image.fromarray(rgb_array(8))
        prog = self.classify_ok(pil_bytes(img, "JPEG", quality=95, progressive=True),
                                "image/jpeg")
        base = self.classify_ok(pil_bytes(img, "JPEG", quality=95), "image/jpeg")
        self.assertEqual([p["index"] for p in prog][:1], [p["index"] for p in base][:1])

    def test_grayscale_jpeg_works(self):
        img = Image.fromarray(rgb_array(9)).convert("L")
        self.classify_ok(pil_bytes(img, "JPEG"), "image/jpeg")

    def test_png_16bit_works(self):
        a8 = rgb_array(10)
        p16 = self.classify_ok(png_rgb16(a8.astype(np.uint16) * 257), "image/png")
        p8 = self.classify_ok(H.png_encode(a8), "image/png")
        self.assertEqual([p["index"] for p in p16], [p["index"] for p in p8])
        for a, b in zip(p16, p8):
            self.assertAlmostEqual(a["score"], b["score"], delta=1e-5)

    def test_png_16bit_gray_works(self):
        img = Image.fromarray((rgb_array(11)[..., 0].astype(np.uint16) * 257), "I;16")
        self.classify_ok(pil_bytes(img, "PNG"), "image/png")

    def test_png_interlaced_works(self):
        a = rgb_array(12)
        inter = self.classify_ok(png_adam7(a), "image/png")
        plain = self.classify_ok(H.png_encode(a), "image/png")
        self.assertEqual(inter, plain)

    def test_png_palette_trns_works(self):
        img = Image.fromarray(rgb_array(13)).convert("P", palette=Image.ADAPTIVE, colors=16)
        self.classify_ok(pil_bytes(img, "PNG", transparency=0), "image/png")

    def test_png_gray_alpha_and_rgba_work(self):
        a = rgb_array(14)
        self.classify_ok(pil_bytes(Image.fromarray(a).convert("LA"), "PNG"), "image/png")
        self.classify_ok(pil_bytes(Image.fromarray(a).convert("RGBA"), "PNG"), "image/png")

    def test_png_1bit_works(self):
        img = Image.fromarray(rgb_array(15)).convert("1")
        self.classify_ok(pil_bytes(img, "PNG"), "image/png")

    def test_tiny_1x1_png_works(self):
        self.classify_ok(H.png_encode(np.zeros((1, 1, 3), np.uint8)), "image/png")

    # ------------------------------------------------------------ content types

    def test_wrong_content_type(self):
        for ct in ("text/plain", "application/json", "application/x-www-form-urlencoded"):
            self.classify_err(self.sample, 415, ctype=ct)

    def test_missing_content_type_is_sniffed(self):
        # no Content-Type: the body is taken as application/octet-stream and
        # the format sniffed from its magic bytes
        st, _, data = H.request(self.port, "POST", CLASSIFY + "?top=3", body=self.sample)
        self.assertEqual(st, 200, data[:200])
        self.assertEqual(json.loads(data)["predictions"], self.reference)
        st, hd, data = H.request(self.port, "POST", CLASSIFY, body=b"not an image")
        err_json(self, st, hd, data, 400)

    def test_multipart_without_boundary(self):
        self.classify_err(b"--x\r\n\r\n", 400, ctype="multipart/form-data")

    def test_multipart_unterminated(self):
        body, ct = H.multipart("file", "a.png", "image/png", self.sample)
        self.classify_err(body[:len(body) // 2], 400, ctype=ct)

    def test_multipart_no_parts(self):
        self.classify_err(b"--b--\r\n", 400, ctype="multipart/form-data; boundary=b")

    def test_multipart_huge_part_headers(self):
        body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\nX-Pad: " +
                b"p" * 20000 + b"\r\n\r\n" + self.sample + b"\r\n--b--\r\n")
        self.classify_err(body, 400, ctype="multipart/form-data; boundary=b")

    # ------------------------------------------------------------ sizes and bodies

    def test_content_length_over_limit(self):
        got = H.raw_exchange(self.port, (
            "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
            "Content-Length: %d\r\n\r\n" % (CLASSIFY, 50 * MAX_BODY)).encode(), timeout=10)
        (st, hd, data), = parse_raw_responses(got)
        err_json(self, st, hd, data, 413)

    def test_content_length_invalid(self):
        for cl in ("abc", "-5", "99999999999999999999999"):
            got = H.raw_exchange(self.port, (
                "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                "Content-Length: %s\r\nConnection: close\r\n\r\n" % (CLASSIFY, cl)).encode(),
                timeout=10)
            resp = parse_raw_responses(got)
            # MHD refuses some outright (no JSON), convd the rest
            if resp:
                self.assertIn(resp[0][0], (400, 413), (cl, got[:200]))
            else:
                self.assertEqual(got, b"", cl)

    def chunked_upload(self, total):
        """Sends total bytes chunked; -> (raw answer, True if cut off)."""
        s = socket.create_connection(("127.0.0.1", self.port), timeout=20)
        try:
            s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n" % CLASSIFY).encode())
            chunk = b"%x\r\n" % 65536 + b"\0" * 65536 + b"\r\n"
            sent = 0
            try:
                while sent < total:
                    s.sendall(chunk)
                    sent += 65536
                s.sendall(b"0\r\n\r\n")
            except OSError:
                return b"", True
            got = b""
            while True:
                try:
                    c = s.recv(65536)
                except OSError:
                    break
                if not c:
                    break
                got += c
                if parse_raw_responses(got):
                    break
        finally:
            s.close()
        return got, False

    def test_chunked_body_over_limit(self):
        got, cut = self.chunked_upload(MAX_BODY + MAX_BODY // 2)
        self.assertFalse(cut)
        (st, hd, data), = parse_raw_responses(got)[:1]
        err_json(self, st, hd, data, 413)

    def test_chunked_body_endless_is_cut_off(self):
        # past the discard allowance (max(limit, 1 MiB)) the sender is cut off
        t0 = time.monotonic()
        got, cut = self.chunked_upload(64 * MAX_BODY)
        self.assertTrue(cut or got == b"", got[:200])
        self.assertLess(time.monotonic() - t0, 30)

    def test_body_shorter_than_content_length_hangup(self):
        for _ in range(5):
            s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
            s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                       "Content-Length: 100000\r\n\r\n" % CLASSIFY).encode() + self.sample[:500])
            s.close()

    def test_body_shorter_than_content_length_stalls(self):
        # the client keeps the connection open but sends nothing more: cut
        # off by the idle timeout, never answered with a partial image
        s = socket.create_connection(("127.0.0.1", self.port), timeout=IDLE_TIMEOUT + 15)
        t0 = time.monotonic()
        try:
            s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                       "Content-Length: 100000\r\n\r\n" % CLASSIFY).encode() + self.sample[:500])
            got = s.recv(65536)
        except OSError:
            got = b""
        finally:
            s.close()
        self.assertLess(time.monotonic() - t0, IDLE_TIMEOUT + 10)
        self.assertNotIn(b"200 OK", got)

    def test_slow_drip_body_is_cut_off(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        t0 = time.monotonic()
        closed_after = None
        try:
            s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
                       "Content-Length: %d\r\n\r\n" % (CLASSIFY, len(self.sample))).encode())
            s.settimeout(0.2)
            for i in range(len(self.sample)):
                try:
                    s.sendall(self.sample[i:i + 1])
                    if s.recv(4096) == b"":
                        closed_after = time.monotonic() - t0
                        break
                except socket.timeout:
                    pass
                except OSError:
                    closed_after = time.monotonic() - t0
                    break
                if time.monotonic() - t0 > BODY_TIMEOUT + 15:
                    break
        finally:
            s.close()
        self.assertIsNotNone(closed_after, "a slow drip was never cut off")
        self.assertLess(closed_after, BODY_TIMEOUT + 5)

    # ------------------------------------------------------------ JSON

    def test_malformed_json(self):
        for body in (b"{", b'{"inputs": [}', b'{"inputs": [{"name": "input"}]} trailing',
                     b"\xef\xbb\xbf{}", b'{"inputs": NaN}', b"null", b"12"):
            self.infer_err(body)

    def test_deeply_nested_arrays(self):
        self.infer_err(b"[" * 200000 + b"]" * 200000)

    def test_deeply_nested_objects(self):
        self.infer_err(b'{"a":' * 100000 + b"1" + b"}" * 100000)

    def test_deeply_nested_data(self):
        data = [0.0]
        for _ in range(40):
            data = [data]
        self.infer_err(self.infer_json({"name": "input", "datatype": "FP32",
                                        "shape": SHAPE, "data": data}))

    def test_invalid_utf8_json(self):
        self.infer_err(b'{"inputs": [{"name": "\xff\xfe", "datatype": "FP32"}]}')
        self.infer_err(b'{"id": "\xc3\x28", "inputs": []}')

    def test_huge_numbers(self):
        self.infer_err(self.infer_json({"name": "input", "datatype": "FP32",
                                        "shape": SHAPE, "data": [1e39] * NUMEL}))
        body = (b'{"inputs": [{"name": "input", "datatype": "FP32", "shape": [1,3,64,64],'
                b' "data": [' + b",".join([b"1e999"] * NUMEL) + b"]}]}")
        self.infer_err(body)

    def test_id_too_long(self):
        d = {"id": "x" * 5000, "inputs": [{"name": "input", "datatype": "FP32",
                                           "shape": SHAPE, "data": [0.0] * NUMEL}]}
        self.infer_err(json.dumps(d).encode())

    # ------------------------------------------------------------ KServe shapes and types

    def test_negative_dims(self):
        for shape in ([-1, 3, 64, 64], [1, -3, 64, 64], [1, 3, -64, -64]):
            self.infer_err(self.infer_json({"name": "input", "datatype": "FP32",
                                            "shape": shape, "data": [0.0] * NUMEL}))

    def test_overflowing_dims(self):
        for shape in ([2 ** 62, 3, 64, 64], [2 ** 31, 2 ** 31, 2 ** 31, 2 ** 31],
                      [1, 3, 64, 2 ** 63 - 1], [1, 3, 64, 1e30]):
            self.infer_err(self.infer_json({"name": "input", "datatype": "FP32",
                                            "shape": shape, "data": [0.0] * NUMEL}))

    def test_too_many_dims(self):
        self.infer_err(self.infer_json({"name": "input", "datatype": "FP32",
                                        "shape": [1] * 12, "data": [0.0]}))

    def test_zero_batch(self):
        self.infer_err(self.infer_json({"name": "input", "datatype": "FP32",
                                        "shape": [0, 3, 64, 64], "data": []}))

    def test_datatype_shape_data_mismatch(self):
        cases = [("FP32", SHAPE, [0.0] * (NUMEL - 1)),
                 ("FP32", SHAPE, [0.0] * (NUMEL + 1)),
                 ("INT8", SHAPE, [300] * NUMEL),
                 ("UINT8", SHAPE, [-1] * NUMEL),
                 ("FP32", SHAPE, [True] * NUMEL),
                 ("FP32", SHAPE, [None] * NUMEL),
                 ("BOOL", SHAPE, [0] * NUMEL),
                 ("FP32", [1, 3, 64, 32], [0.0] * (NUMEL // 2))]
        for dt, shape, data in cases:
            self.infer_err(self.infer_json({"name": "input", "datatype": dt,
                                            "shape": shape, "data": data}))

    def test_binary_size_mismatch(self):
        raw = np.zeros(NUMEL, "<f4").tobytes()
        for size in (len(raw) - 4, len(raw) + 4, 3):
            body, hd = self.binary({"inputs": [{"name": "input", "datatype": "FP32",
                                                "shape": SHAPE,
                                                "parameters": {"binary_data_size": size}}]}, raw)
            self.infer_err(body, headers=hd)

    def test_binary_data_size_beyond_body(self):
        raw = np.zeros(NUMEL, "<f4").tobytes()
        for size in (len(raw) * 2, 2 ** 40, 2 ** 64 - 1, -1):
            body, hd = self.binary({"inputs": [{"name": "input", "datatype": "FP32",
                                                "shape": SHAPE,
                                                "parameters": {"binary_data_size": size}}]},
                                   raw[:1000])
            self.infer_err(body, headers=hd)

    def test_header_length_beyond_body(self):
        body, hd = self.binary({"inputs": []}, b"", header_len=10 ** 6)
        self.infer_err(body, headers=hd)
        body, hd = self.binary({"inputs": []}, b"", header_len="12abc")
        self.infer_err(body, headers=hd)

    def test_bytes_element_length_beyond_data(self):
        raw = struct.pack("<I", 10 ** 6) + self.sample[:100]
        body, hd = self.binary({"inputs": [{"name": "input", "datatype": "BYTES", "shape": [1],
                                            "parameters": {"binary_data_size": len(raw)}}]},
                               raw)
        self.infer_err(body, headers=hd)

    def test_unknown_output_names(self):
        for outs in ([{"name": "nope"}], [{"name": ""}], [{"name": "fc"}, {"name": "x" * 300}],
                     [{"nom": "fc"}], "fc"):
            self.infer_err(self.infer_json({"name": "input", "datatype": "FP32",
                                            "shape": SHAPE, "data": [0.0] * NUMEL}, outs))

    def test_unknown_input_name_and_two_inputs(self):
        inp = {"name": "input", "datatype": "FP32", "shape": SHAPE, "data": [0.0] * NUMEL}
        self.infer_err(json.dumps({"inputs": [dict(inp, name="other")]}).encode())
        self.infer_err(json.dumps({"inputs": [inp, inp]}).encode())

    def test_batch_over_limit(self):
        pngs = struct.pack("<I", len(self.sample)) + self.sample
        raw = pngs * 65
        body, hd = self.binary({"inputs": [{"name": "input", "datatype": "BYTES", "shape": [65],
                                            "parameters": {"binary_data_size": len(raw)}}]},
                               raw)
        st, h2, data = H.request(self.port, "POST", INFER, body=body, headers=hd)
        self.assertIn(st, (400, 413), data[:200])
        err_json(self, st, h2, data, st)

    # ------------------------------------------------------------ paths and names

    def test_model_name_traversal(self):
        for path, want in (("/v2/models/%2e%2e/infer", 400), ("/v2/models/%2E%2E", 400),
                           ("/v2/models/..%2fetc", 400), ("/v1/models/%2e/classify", 400),
                           ("/v2/models/../models/tiny-demo", 404),
                           ("/v1/models/..%2F..%2Fetc%2Fpasswd/classify", 400)):
            st, hd, data = H.request(self.port, "POST" if "classify" in path or
                                     path.endswith("infer") else "GET", path,
                                     body=self.sample, headers={"Content-Type": "image/png"})
            err_json(self, st, hd, data, want)

    def test_model_name_nul(self):
        for path in ("/v2/models/tiny-demo%00", "/v2/models/%00", "/v1/models/a%00b/classify"):
            st, hd, data = H.request(self.port, "GET" if "classify" not in path else "POST",
                                     path, body=b"x", headers={"Content-Type": "image/png"})
            err_json(self, st, hd, data, 400)

    def test_model_name_bad_escape_and_utf8(self):
        for path, want in (("/v2/models/%zz", 400), ("/v2/models/%", 400),
                           ("/v2/models/%ff%fe", 404), ("/v2/models/" + "m" * 200, 400)):
            st, hd, data = H.request(self.port, "GET", path)
            err_json(self, st, hd, data, want)

    def test_unknown_model_and_route(self):
        st, hd, data = H.classify(self.port, "no-such-model", self.sample)
        err_json(self, st, hd, data, 404)
        st, hd, data = H.request(self.port, "GET", "/v3/whatever")
        err_json(self, st, hd, data, 404)

    def test_wrong_method(self):
        st, hd, data = H.request(self.port, "DELETE", CLASSIFY)
        err_json(self, st, hd, data, 405)
        self.assertIn("POST", hd.get("allow", ""))
        st, hd, data = H.request(self.port, "GET", CLASSIFY)
        err_json(self, st, hd, data, 405)

    def test_bad_top(self):
        for q in ("top=-1", "top=abc", "top=0", "top=99999999999999999999", "top=1e3"):
            st, hd, data = H.request(self.port, "POST", CLASSIFY + "?" + q, body=self.sample,
                                     headers={"Content-Type": "image/png"})
            err_json(self, st, hd, data, 400)

    # ------------------------------------------------------------ HTTP framing

    def test_8kb_url(self):
        st, hd, data = H.request(self.port, "GET", "/v1/models/" + "a" * 8192)
        err_json(self, st, hd, data, 404)
        st, _, data = H.request(self.port, "GET", "/healthz?pad=" + "a" * 8192)
        self.assertEqual(st, 200, data)

    def test_8kb_headers(self):
        st, _, data = H.classify(self.port, MODEL, self.sample, top=3)
        hdrs = {"Content-Type": "image/png", "X-Pad": "p" * 8192,
                "User-Agent": "u" * 8192, "Cookie": "c=" + "k" * 8192}
        st, _, data = H.request(self.port, "POST", CLASSIFY + "?top=3", body=self.sample,
                                headers=hdrs)
        self.assertEqual(st, 200, data[:200])
        self.assertEqual(json.loads(data)["predictions"], self.reference)

    def test_headers_over_memory_limit(self):
        got = H.raw_exchange(self.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " +
                             b"p" * 2000000 + b"\r\n\r\n", timeout=10)
        resp = parse_raw_responses(got)
        if resp:   # MHD's own answer, not JSON
            self.assertIn(resp[0][0], (400, 413, 414, 431), got[:200])

    def test_10000_query_parameters(self):
        for q in ("&".join("p%d=1" % i for i in range(10000)), "&".join(["a"] * 10000)):
            st, hd, data = H.request(self.port, "POST", CLASSIFY + "?" + q, body=self.sample,
                                     headers={"Content-Type": "image/png"})
            msg = err_json(self, st, hd, data, 400)
            self.assertIn("query parameters", msg)

    def test_1100_headers(self):
        req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"".join(
            b"X-H%d: v\r\n" % i for i in range(1100)) + b"Connection: close\r\n\r\n"
        (st, hd, data), = parse_raw_responses(H.raw_exchange(self.port, req, timeout=10))
        err_json(self, st, hd, data, 400)

    def test_http_1_0(self):
        got = H.raw_exchange(self.port, b"GET /healthz HTTP/1.0\r\n\r\n", timeout=10)
        (st, hd, data), = parse_raw_responses(got)
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(data)["status"], "alive")
        req = ("POST %s?top=3 HTTP/1.0\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n"
               % (CLASSIFY, len(self.sample))).encode() + self.sample
        (st, hd, data), = parse_raw_responses(H.raw_exchange(self.port, req, timeout=30))
        self.assertEqual(st, 200, data[:200])
        self.assertEqual(json.loads(data)["predictions"], self.reference)

    def test_pipelined_requests(self):
        one = ("POST %s?top=3 HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\n"
               "Content-Length: %d\r\n\r\n" % (CLASSIFY, len(self.sample))).encode() + self.sample
        req = (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + one + one +
               b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        resp = parse_raw_responses(H.raw_exchange(self.port, req, timeout=30))
        self.assertEqual([r[0] for r in resp], [200, 200, 200, 200])
        for st, _, data in resp[1:3]:
            self.assertEqual(json.loads(data)["predictions"], self.reference)

    def test_garbage_request_line(self):
        for req in (b"GARBAGE\r\n\r\n", b"GET\r\n\r\n", b"\x00\x01\x02\r\n\r\n",
                    b"GET /healthz HTTP/9.9\r\n\r\n", b"GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n"):
            got = H.raw_exchange(self.port, req, timeout=5)
            resp = parse_raw_responses(got)
            if resp:   # refused by MHD before convd sees it
                self.assertGreaterEqual(resp[0][0], 400, (req, got[:200]))

    def test_expect_100_continue_over_limit(self):
        got = H.raw_exchange(self.port, (
            "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nExpect: 100-continue\r\n"
            "Content-Length: %d\r\n\r\n" % (CLASSIFY, 4 * MAX_BODY)).encode(), timeout=10)
        resp = [r for r in parse_raw_responses(got) if r[0] != 100]
        err_json(self, resp[0][0], resp[0][1], resp[0][2], 413)

    # ------------------------------------------------------------ logs

    def test_no_request_data_in_logs(self):
        secret = "s3cr3t-%d" % os.getpid()
        body, ct = H.multipart("file", secret + ".png", "image/png", self.sample)
        st, _, _ = H.request(self.port, "POST", CLASSIFY + "?top=3&tag=" + secret,
                             body=body + secret.encode(),
                             headers={"Content-Type": ct, "X-Secret": secret,
                                      "Authorization": "Bearer " + secret,
                                      "Cookie": "session=" + secret})
        self.assertIn(st, (200, 400))
        bad = self.infer_json({"name": secret, "datatype": "FP32", "shape": SHAPE,
                               "data": [secret]})
        self.infer_err(bad)
        self.infer_err(b'{"inputs": [' + secret.encode())
        H.request(self.port, "GET", "/healthz")   # the log line is written at completion
        time.sleep(0.3)
        log = self.srv.stderr()
        self.assertIn("event=request", log)
        self.assertNotIn(secret, log)

    # ------------------------------------------------------------ connection floods

    def rss_kib(self):
        with open("/proc/%d/status" % self.srv.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def test_1000_idle_connections(self):
        n = min(1000, max(100, (self.nofile - 200) // 2))
        socks = []
        rss0 = self.rss_kib()
        try:
            for _ in range(n):
                socks.append(socket.create_connection(("127.0.0.1", self.port), timeout=10))
            # half of them send a partial request line, the rest nothing
            for s in socks[::2]:
                s.sendall(b"GET /healthz HT")
            t0 = time.monotonic()
            st, _, data = H.classify(self.port, MODEL, self.sample, top=3, timeout=20)
            self.assertEqual(st, 200, data[:200])
            self.assertLess(time.monotonic() - t0, 10)
            self.assertEqual(json.loads(data)["predictions"], self.reference)
            grown = self.rss_kib() - rss0
            # each idle connection costs the daemon a few KiB, not its pool
            self.assertLess(grown, 64 * n, "RSS grew %d KiB for %d connections" % (grown, n))
        finally:
            for s in socks:
                s.close()
        self.assertGreaterEqual(n, 1000 if self.nofile >= 2200 else 100)


def wav_bytes(seconds, rate=16000):
    import wave
    n = int(seconds * rate)
    t = np.arange(n) / rate
    pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2").tobytes()
    b = io.BytesIO()
    with wave.open(b, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return b.getvalue()


class AudioLimit(unittest.TestCase):
    """max_audio_seconds: a WAV longer than it is refused from its header."""

    def test_max_audio_seconds(self):
        tmp = tempfile.mkdtemp(prefix="convd-audio-")
        models = H.models_dir(tmp, with_tiny=False)
        shutil.copytree(os.path.join(H.ROOT, "models", "kws-dcls"),
                        os.path.join(models, "kws-dcls"))
        srv = H.Server(models, config={"max_audio_seconds": 2})
        try:
            srv.start(timeout=START_TIMEOUT)
            path = "/v1/models/kws-dcls/classify?top=1"
            st, _, data = H.request(srv.port, "POST", path, body=wav_bytes(1.5),
                                    headers={"Content-Type": "audio/wav"})
            self.assertEqual(st, 200, data[:200])
            for secs in (2.5, 400):   # 400 s: 12.8 MB, under max_body_bytes
                st, hd, data = H.request(srv.port, "POST", path, body=wav_bytes(secs),
                                         headers={"Content-Type": "audio/wav"})
                msg = err_json(self, st, hd, data, 400)
                self.assertIn("exceeds", msg)
            st, _, data = H.request(srv.port, "POST", path, body=wav_bytes(1.0),
                                    headers={"Content-Type": "audio/wav"})
            self.assertEqual(st, 200, data[:200])
        finally:
            srv.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)


class PerIpLimit(unittest.TestCase):
    """max_connections_per_ip: one address cannot take every slot."""

    def test_per_ip_limit_leaves_room_for_others(self):
        raise_nofile(4096)
        tmp = tempfile.mkdtemp(prefix="convd-perip-")
        srv = H.Server(H.models_dir(tmp), config={"max_connections_per_ip": 16,
                                                  "connection_timeout_s": 30})
        socks = []
        try:
            srv.start(timeout=START_TIMEOUT)
            for _ in range(40):
                socks.append(socket.create_connection(("127.0.0.1", srv.port), timeout=5))
            time.sleep(0.5)
            refused = 0
            for s in socks:   # connections over the limit are closed at accept
                s.settimeout(0.05)
                try:
                    if s.recv(1) == b"":
                        refused += 1
                except socket.timeout:
                    pass
                except OSError:
                    refused += 1
            self.assertGreaterEqual(refused, 40 - 16)
            # another client address (all of 127/8 is loopback) is still served
            c = socket.create_connection(("127.0.0.1", srv.port), timeout=10,
                                         source_address=("127.0.0.2", 0))
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            got = b""
            while True:
                b = c.recv(4096)
                if not b:
                    break
                got += b
            c.close()
            self.assertTrue(got.startswith(b"HTTP/1.1 200"), got[:200])
        finally:
            for s in socks:
                s.close()
            srv.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
