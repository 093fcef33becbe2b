"""Landmarks of synthetic images, cached by image content hash.

A cache entry is one small ``.npy`` file named by the sha256 of the stored PNG
bytes (a synthetic set's ``image_id``), under a folder named by the landmark
model's sha256, so another model never reads these entries::

    <cache>/<model sha256[:16]>/<id[:2]>/<id>.npy     (479, 3) float32

Rows 0..477 hold the points (NaN without a face); row 478 holds the image's
width, height and 1.0 if a face was found. Entries are written atomically, so
runs sharing a cache never read half a file; a corrupt entry is detected again.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._io import atomic_write_bytes, file_sha256
from ..dataset.geometry import NUM_LANDMARKS
from ..dataset.landmarks import cache_dir

CACHE_SUBDIR = "filter_landmarks"


def default_cache_root() -> Path:
    """``$RDFACE_CACHE/filter_landmarks`` (or ``~/.cache/rdface_hf/filter_landmarks``)."""
    return cache_dir() / CACHE_SUBDIR


class LandmarkCache:
    """Landmarks by content hash, for one landmark model (``model_path``)."""

    def __init__(self, root: str | os.PathLike | None, model_path: str | os.PathLike) -> None:
        self.root = Path(root) if root else default_cache_root()
        self.folder = self.root / file_sha256(model_path)[:16]

    def _path(self, key: str) -> Path:
        if len(key) < 8 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"cache keys are sha256 hex digests, got {key!r}")
        return self.folder / key[:2] / f"{key}.npy"

    def get(self, key: str) -> tuple[np.ndarray, tuple[int, int]] | None:
        """``(points (478, 3) with NaN without a face, (width, height))``, or ``None`` if not cached."""
        path = self._path(key)
        try:
            entry = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            return None
        if entry.shape != (NUM_LANDMARKS + 1, 3) or entry.dtype != np.float32:
            return None
        width, height, found = entry[NUM_LANDMARKS]
        points = entry[:NUM_LANDMARKS] if found == 1.0 else np.full((NUM_LANDMARKS, 3), np.nan, np.float32)
        return points, (int(width), int(height))

    def put(self, key: str, points: np.ndarray | None, size: tuple[int, int]) -> None:
        entry = np.full((NUM_LANDMARKS + 1, 3), np.nan, dtype=np.float32)
        found = points is not None and not np.isnan(points).any()
        if found:
            entry[:NUM_LANDMARKS] = np.asarray(points, dtype=np.float32).reshape(NUM_LANDMARKS, 3)
        entry[NUM_LANDMARKS] = (size[0], size[1], 1.0 if found else 0.0)
        buf = io.BytesIO()
        np.save(buf, entry, allow_pickle=False)
        atomic_write_bytes(self._path(key), buf.getvalue())

    def get_many(self, keys: Sequence[str]) -> list[tuple[np.ndarray, tuple[int, int]] | None]:
        return [self.get(k) for k in keys]
