"""Landmarks of synthetic images: from the cache when the same bytes were seen, else MediaPipe."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from .._errors import InputError
from ..dataset.geometry import NUM_LANDMARKS
from ..dataset.images import ImageRejected, open_image
from ..dataset.landmarks import Landmarker, detect_landmarks, resolve_landmarker_model
from .cache import LandmarkCache

CHUNK = 512  # images decoded at a time (bounded memory for large sets)
MAX_CHUNK_BYTES = 1 << 30  # and at most 1 GiB of decoded pixels


@dataclass
class Detected:
    points: np.ndarray  # (N, 478, 3) normalised (NaN rows: no face)
    sizes: np.ndarray  # (N, 2) width, height
    cached: int  # rows answered by the cache


def _decode(image: dict) -> np.ndarray:
    """Pixels under the builder's limits (format allow-list, 50 megapixels), one line otherwise."""
    try:
        with open_image(io.BytesIO(image["bytes"])) as im:
            return np.asarray(im.convert("RGB"))
    except ImageRejected as exc:
        raise InputError(f"synthetic image {image.get('path') or ''}: {exc}") from None
    except Exception as exc:
        raise InputError(f"unreadable synthetic image {image.get('path') or ''} ({type(exc).__name__})") from None


def decoded_bytes(image: dict) -> int:
    """What decoding ``image`` to 8-bit RGB takes, from its header (no pixel decoded)."""
    try:
        with open_image(io.BytesIO(image["bytes"])) as im:
            return im.width * im.height * 3
    except Exception:
        return 0  # _decode says why


def chunks(keys: list[str], images: list[dict], pending: dict[str, list[int]]) -> list[list[str]]:
    """``keys`` in order, cut so that a chunk holds at most CHUNK images and MAX_CHUNK_BYTES of decoded pixels."""
    out: list[list[str]] = [[]]
    total = 0
    for key in keys:
        size = decoded_bytes(images[pending[key][0]])
        if out[-1] and (len(out[-1]) >= CHUNK or total + size > MAX_CHUNK_BYTES):
            out.append([])
            total = 0
        out[-1].append(key)
        total += size
    return [c for c in out if c]


def _detect(pixels: list[np.ndarray], landmarker: Landmarker | None, model: str, workers, progress) -> list:
    if landmarker is not None:
        return [landmarker.detect(p) for p in pixels]
    return detect_landmarks(pixels, model_path=model, workers=workers, progress=progress)


def synthetic_landmarks(
    images: list[dict],
    keys: list[str],
    *,
    landmarker: Landmarker | None = None,
    model_path: str | None = None,
    cache_root: str | None = None,
    workers: int | None = None,
    progress: bool = False,
) -> Detected:
    """Landmarks of each encoded image; ``keys`` are the images' content hashes.

    A ``landmarker`` object (any :class:`~rdface_hf.dataset.landmarks.Landmarker`)
    replaces MediaPipe and bypasses the cache, whose entries belong to one model file.
    """
    n = len(images)
    points = np.full((n, NUM_LANDMARKS, 3), np.nan, dtype=np.float32)
    sizes = np.zeros((n, 2), dtype=np.float64)
    cache = None
    model = ""
    if landmarker is None:
        model = str(resolve_landmarker_model(model_path))
        cache = LandmarkCache(cache_root, model)
    todo = []
    for i, key in enumerate(keys):
        hit = cache.get(key) if cache is not None else None
        if hit is None:
            todo.append(i)
        else:
            points[i], sizes[i] = hit
    pending: dict[str, list[int]] = {}  # the same bytes twice are detected once
    for i in todo:
        pending.setdefault(keys[i], []).append(i)
    for chunk in chunks(list(pending), images, pending):
        pixels = [_decode(images[pending[k][0]]) for k in chunk]
        faces = _detect(pixels, landmarker, model, workers, progress)
        for key, px, face in zip(chunk, pixels, faces):
            size = (px.shape[1], px.shape[0])
            pts = None if face is None else np.asarray(face.points, dtype=np.float32)
            if cache is not None:
                cache.put(key, pts, size)
            for j in pending[key]:
                sizes[j] = size
                if pts is not None:
                    points[j] = pts
    return Detected(points=points, sizes=sizes, cached=n - len(todo))
