"""convd_safetensors.py — writes and reads the safetensors weight files of a
convd model folder (docs/model-format.md): tensors sorted by name, back to
back, data area 64-byte aligned.

It must not know about models, graphs or torch: it handles {name: ndarray}
only. The writer raises ConvertError for an unsupported dtype; the reader
raises ValueError naming the fault and never trusts header sizes or offsets.
"""

import json
import struct

import numpy as np

from convd_errors import ConvertError

_NP_DTYPE = {"F32": "<f4", "F16": "<f2"}


def write_safetensors(path, tensors, dtype="F32", metadata=None):
    """Writes {name: array} as safetensors: tensors sorted by name, stored
    back to back, data area 64-byte aligned (header padded with spaces)."""
    if dtype not in _NP_DTYPE:
        raise ConvertError("unsupported weight dtype %r (F32 or F16)" % dtype)
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(np.asarray(tensors[name], dtype=np.float32))
        raw = arr.astype(_NP_DTYPE[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": [int(d) for d in arr.shape],
                        "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    header["__metadata__"] = dict(metadata or {"format": "pt"})
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((-(8 + len(hj))) % 64)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """Reads and validates a safetensors file; returns ({name: ndarray
    float32}, metadata). Raises ValueError naming the fault."""
    sizes = {"F32": 4, "F16": 2, "BF16": 2}
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError("%s: shorter than 8 bytes" % path)
    (n,) = struct.unpack("<Q", buf[:8])
    if n == 0 or 8 + n > len(buf):
        raise ValueError("%s: bad header length %d" % (path, n))
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    data = buf[8 + n:]
    meta = header.pop("__metadata__", {})
    out, spans = {}, []
    for name, e in header.items():
        dt, shape, (b, end) = e["dtype"], e["shape"], e["data_offsets"]
        if dt not in sizes:
            raise ValueError("%s: tensor %s: unknown dtype %s" % (path, name, dt))
        if any((not isinstance(d, int)) or d < 0 for d in shape):
            raise ValueError("%s: tensor %s: bad shape" % (path, name))
        if not 0 <= b <= end <= len(data):
            raise ValueError("%s: tensor %s: bad offsets" % (path, name))
        if int(np.prod(shape, dtype=np.int64)) * sizes[dt] != end - b:
            raise ValueError("%s: tensor %s: size mismatch" % (path, name))
        spans.append((b, end, name))
        raw = data[b:end]
        if dt == "BF16":
            u = np.frombuffer(raw, "<u2").astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(raw, {"F32": "<f4", "F16": "<f2"}[dt])
        out[name] = arr.astype(np.float32).reshape(shape)
    spans.sort()
    for (b0, e0, n0), (b1, _, n1) in zip(spans, spans[1:]):
        if b1 < e0:
            raise ValueError("%s: tensors %s and %s overlap" % (path, n0, n1))
    return out, meta
