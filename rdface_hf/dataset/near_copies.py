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


def nearest_other(embeddings: np.ndarray) -> np.ndarray:
    """Each row's distance to its nearest other row (NaN without an embedding or a neighbour)."""
    idx, dist = nearest(embeddings, embeddings, k=2)
    out = np.full(len(embeddings), np.nan)
    for i in range(len(embeddings)):
        others = [d for j, d in zip(idx[i], dist[i]) if j not in (-1, i) and np.isfinite(d)]
        if others:
            out[i] = others[0]
    return out


def calibrated_threshold(embeddings: np.ndarray, percentile: float = DEFAULT_PERCENTILE) -> tuple[float, np.ndarray]:
    """``(threshold, real-to-nearest-other-real distances)``: the ``percentile`` of those distances.

    Needs at least two real faces with embeddings (``ValueError`` otherwise)."""
    distances = nearest_other(embeddings)
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
