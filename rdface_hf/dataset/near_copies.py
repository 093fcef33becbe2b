"""Near copies of real faces: the distance threshold calibrated on a dataset, and the altered
copies (flip, crop, re-compression, colour jitter) that show what a copy's distance looks like.

Shared by ``rdface audit-synthetic`` (every real image, test included: privacy concerns every
child) and the filter's near-copy guard (the fold's training images only: leak-free).
A fixed rule does not fit every dataset: the simulator's patients share their two source
portraits, so dlib's 0.6 calls nearly every pair of them the same person. The default threshold
is therefore the 1st percentile of the distances from each real image to its nearest *other*
real image.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image

from .identity import nearest

DEFAULT_PERCENTILE = 1.0
ALTERATIONS = ("flip", "crop", "recompress", "colour_jitter")


def references(original: np.ndarray, mirrored: np.ndarray | None = None) -> np.ndarray:
    """Real faces as ``(N, V, 128)``: each image's embedding and, when given, its mirror image's
    (a flipped copy then lies as near as the original does)."""
    views = [original] if mirrored is None else [original, mirrored]
    return np.stack(views, axis=1)


def nearest_real(queries: np.ndarray, refs: np.ndarray, k: int = 1, exclude_self: bool = False):
    """``(indices (Q, k), distances (Q, k))`` of each query's ``k`` nearest real images, a real
    image's distance being the least over its views (-1 and inf where there is none).
    ``exclude_self``: the queries are the references' first views (real to nearest *other* real)."""
    n, views = refs.shape[:2]
    idx, dist = nearest(queries, refs.transpose(1, 0, 2).reshape(n * views, -1), k=min(n * views, (k + 1) * views))
    out_i, out_d = np.full((len(queries), k), -1), np.full((len(queries), k), np.inf)
    for q in range(len(queries)):
        seen: list[int] = []
        for j, d in zip(idx[q], dist[q]):
            real = int(j) % n if j >= 0 else -1
            if real < 0 or real in seen or (exclude_self and real == q) or not np.isfinite(d):
                continue
            out_i[q, len(seen)], out_d[q, len(seen)] = real, d
            seen.append(real)
            if len(seen) == k:
                break
    return out_i, out_d


def nearest_other(refs: np.ndarray) -> np.ndarray:
    """Each real image's distance to its nearest other real image (NaN without one)."""
    _, dist = nearest_real(refs[:, 0], refs, k=1, exclude_self=True)
    return np.where(np.isfinite(dist[:, 0]), dist[:, 0], np.nan)


def calibrated_threshold(refs: np.ndarray, percentile: float = DEFAULT_PERCENTILE) -> tuple[float, np.ndarray]:
    """``(threshold, real-to-nearest-other-real distances)``: the ``percentile`` of those distances
    (``refs`` as :func:`references` makes them, or plain ``(N, 128)`` embeddings).

    Needs at least two real faces with embeddings (``ValueError`` otherwise)."""
    refs = refs[:, None] if refs.ndim == 2 else refs
    distances = nearest_other(refs)
    finite = distances[np.isfinite(distances)]
    if len(finite) == 0:
        raise ValueError("fewer than two real faces have an identity embedding: no threshold can be calibrated")
    return float(np.percentile(finite, percentile)), distances


def alterations(image: np.ndarray, seed: int = 0) -> dict[str, np.ndarray]:
    """Altered copies of an RGB image: mirrored, re-cropped (90 %, shifted), JPEG at quality 60,
    colour-jittered (brightness, contrast, per-channel gain)."""
    rng = np.random.default_rng(seed)
    h, w = image.shape[:2]
    dy, dx = int(0.1 * h), int(0.1 * w)
    oy, ox = int(rng.integers(0, dy + 1)), int(rng.integers(0, dx + 1))
    crop = np.asarray(Image.fromarray(image[oy : oy + h - dy, ox : ox + w - dx]).resize((w, h), Image.BICUBIC))
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=60)
    buf.seek(0)
    with Image.open(buf) as im:
        jpeg = np.asarray(im.convert("RGB"))
    gain = rng.uniform(0.85, 1.15, size=3) * rng.uniform(0.9, 1.1)
    mean = image.reshape(-1, 3).mean(0)
    jitter = (image.astype(np.float64) - mean) * rng.uniform(0.85, 1.15) + mean
    jitter = np.clip(jitter * gain + rng.uniform(-12, 12), 0, 255).astype(np.uint8)
    return {"flip": np.ascontiguousarray(image[:, ::-1]), "crop": crop, "recompress": jpeg, "colour_jitter": jitter}


def quantiles(values: np.ndarray) -> dict[str, Any]:
    """Count and quantiles of the finite values (``None`` where there are none)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    keys = {"min": 0, "p01": 1, "p05": 5, "p25": 25, "median": 50, "p75": 75, "p95": 95, "max": 100}
    out: dict[str, Any] = {"n": len(v)}
    for name, q in keys.items():
        out[name] = round(float(np.percentile(v, q)), 4) if len(v) else None
    return out
