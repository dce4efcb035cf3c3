"""shapes.py — seeded synthetic "shapes" images: one to three filled objects
(circle, square, triangle, star, ring, cross, crescent) in random colours,
sizes, rotations and positions over solid, gradient, striped or blotchy
backgrounds with pixel noise. The label is the class covering the most
pixels in the final image; the mask holds class id + 1 per pixel (0 is
background). Everything is vectorised numpy over chunks of images; it never
touches the network or the disk.

API: make(n, seed, size=64) -> (images uint8 (N,H,W,3), labels int64 (N,),
masks uint8 (N,H,W)); CLASSES lists the class names (label index order).
"""

import numpy as np

CLASSES = ["circle", "square", "triangle", "star", "ring", "cross", "crescent"]
_CHUNK = 512


def _inside(cls, u, v):
    """Boolean (B,H,W): is (u, v) — rotated coordinates in units of the
    object's radius — inside a shape of class index cls (scalar)."""
    name = CLASSES[cls]
    if name == "circle":
        return u * u + v * v <= 1.0
    if name == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 0.78
    if name == "ring":
        r2 = u * u + v * v
        return (r2 <= 1.0) & (r2 >= 0.36)
    if name == "cross":
        au, av = np.abs(u), np.abs(v)
        return ((au <= 0.3) & (av <= 1.0)) | ((av <= 0.3) & (au <= 1.0))
    if name == "crescent":
        return (u * u + v * v <= 1.0) & ((u - 0.5) ** 2 + v * v >= 0.64)
    # regular triangle and five-point star via polar sectors
    n, inner = (3, None) if name == "triangle" else (5, 0.42)
    rho = np.sqrt(u * u + v * v)
    sector = 2 * np.pi / n
    phi = np.abs(np.mod(np.arctan2(v, u), sector) - sector / 2)  # 0 at edge mid
    if inner is None:  # polygon with circumradius 1: apothem cos(pi/n)
        return rho * np.cos(phi) <= np.cos(np.pi / n)
    # star: phi measured from the inner vertex; tip at phi = sector/2
    a = sector / 2 - phi                       # angle from the outer tip
    p1 = (1.0, 0.0)
    p2 = (inner * np.cos(sector / 2), inner * np.sin(sector / 2))
    qx, qy = rho * np.cos(a), rho * np.sin(a)
    ex, ey = p2[0] - p1[0], p2[1] - p1[1]
    side = ex * (qy - p1[1]) - ey * (qx - p1[0])
    origin = ex * (0 - p1[1]) - ey * (0 - p1[0])
    return side * origin >= 0


def _backgrounds(rng, b, s, yy, xx):
    """(B,H,W,3) float32 backgrounds of four kinds, two colours each."""
    c0 = rng.uniform(0, 255, (b, 1, 1, 3)).astype(np.float32)
    c1 = rng.uniform(0, 255, (b, 1, 1, 3)).astype(np.float32)
    kind = rng.integers(0, 4, b)
    ang = rng.uniform(0, 2 * np.pi, (b, 1, 1)).astype(np.float32)
    proj = (np.cos(ang) * (xx - s / 2) + np.sin(ang) * (yy - s / 2)) * (2.0 / s)
    freq = rng.uniform(2, 8, (b, 1, 1)).astype(np.float32)
    ph = rng.uniform(0, 2 * np.pi, (b, 1, 1)).astype(np.float32)
    t = np.zeros((b, s, s), np.float32)
    i1, i2, i3 = (np.nonzero(kind == k)[0] for k in (1, 2, 3))
    t[i1] = np.clip(proj[i1] * 0.5 + 0.5, 0, 1)
    t[i2] = 0.5 + 0.5 * np.sin(freq[i2] * np.pi * proj[i2] + ph[i2])
    # blotches: 8x8 uniform noise upsampled bilinearly
    g = rng.uniform(0, 1, (b, 9, 9)).astype(np.float32)[i3]
    pos = np.linspace(0, 8, s, dtype=np.float32)
    i0 = np.minimum(pos.astype(np.int64), 7)
    f = (pos - i0)[None, :]
    rows = g[:, i0, :] * (1 - f[..., None]) + g[:, i0 + 1, :] * f[..., None]
    t[i3] = rows[:, :, i0] * (1 - f[:, None, :]) + rows[:, :, i0 + 1] * f[:, None, :]
    contrast = np.where(kind == 0, 0.0, rng.uniform(0.2, 0.6, b))
    c1 = c0 + (c1 - c0) * contrast.astype(np.float32)[:, None, None, None]
    return c0 + (c1 - c0) * t[..., None], (c0 + c1)[:, 0, 0] / 2


def _chunk(rng, b, s):
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32) + 0.5
    img, bg_mean = _backgrounds(rng, b, s, yy, xx)
    mask = np.zeros((b, s, s), np.uint8)
    n_obj = rng.integers(1, 4, b)
    n_slot = 3
    dominant = rng.integers(0, n_obj)       # which drawn slot is the big one
    for k in range(n_slot):
        cls = rng.integers(0, len(CLASSES), b)
        big = dominant == k
        r = np.where(big, rng.uniform(0.17, 0.34, b), rng.uniform(0.06, 0.13, b)) * s
        cx = rng.uniform(0, 1, b) * (s - 2 * r) + r
        cy = rng.uniform(0, 1, b) * (s - 2 * r) + r
        th = rng.uniform(0, 2 * np.pi, b)
        col = rng.uniform(0, 255, (b, 3))
        far = np.linalg.norm(col - bg_mean, axis=1) < 110
        col[far] = np.mod(col[far] + 128, 256)
        active = k < n_obj
        hit = np.zeros((b, s, s), bool)
        for c in range(len(CLASSES)):
            idx = np.nonzero(active & (cls == c))[0]
            if idx.size == 0:
                continue
            dx = (xx[None] - cx[idx, None, None]) / r[idx, None, None]
            dy = (yy[None] - cy[idx, None, None]) / r[idx, None, None]
            ct, st = np.cos(th[idx])[:, None, None], np.sin(th[idx])[:, None, None]
            u = (dx * ct + dy * st).astype(np.float32)
            v = (-dx * st + dy * ct).astype(np.float32)
            hit[idx] = _inside(c, u, v)
        np.copyto(img, col.astype(np.float32)[:, None, None, :], where=hit[..., None])
        np.copyto(mask, (cls + 1).astype(np.uint8)[:, None, None], where=hit)
    sigma = rng.uniform(0, 14, (b, 1, 1, 1)).astype(np.float32)
    img = img + rng.standard_normal(img.shape, dtype=np.float32) * sigma
    img = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    k = len(CLASSES) + 1
    flat = mask.reshape(b, -1).astype(np.int64) + (np.arange(b) * k)[:, None]
    counts = np.bincount(flat.ravel(), minlength=b * k).reshape(b, k)[:, 1:]
    labels = counts.argmax(axis=1).astype(np.int64)
    return img, labels, mask


def make(n, seed, size=64):
    """n images of size x size from seed: (images uint8 (N,H,W,3), labels
    int64 (N,), masks uint8 (N,H,W) with 0 = background, c+1 = CLASSES[c]).
    The same (n, seed, size) always gives the same arrays."""
    if n < 0 or size < 16:
        raise ValueError("make: need n >= 0 and size >= 16")
    images = np.empty((n, size, size, 3), np.uint8)
    labels = np.empty((n,), np.int64)
    masks = np.empty((n, size, size), np.uint8)
    for i, start in enumerate(range(0, n, _CHUNK)):
        b = min(_CHUNK, n - start)
        rng = np.random.default_rng([int(seed), i])
        images[start:start + b], labels[start:start + b], masks[start:start + b] = \
            _chunk(rng, b, size)
    return images, labels, masks


def to_nchw(images):
    """uint8 (N,H,W,3) numpy -> contiguous uint8 torch tensor (N,3,H,W)."""
    import torch
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()


def normalise(x, mean=0.5, std=0.25):
    """uint8 torch (N,3,H,W) -> float32 (x/255 - mean)/std: the normalisation
    the shapes models declare in their preprocess spec (scale 255, mean, std)."""
    return x.float().div_(255.0).sub_(mean).div_(std)
