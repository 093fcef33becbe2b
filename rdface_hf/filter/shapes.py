"""Landmark geometry for the filter: face regions, Procrustes shapes, the paper's 5 points.

Landmarks arrive in pixel units (:func:`rdface_hf.dataset.geometry.in_pixels`, which undoes
the dataset's normalisation so a non-square image keeps its aspect); the index tables are
:mod:`rdface_hf.dataset.geometry`'s.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..dataset.geometry import FIVE_POINTS, JAW, NUM_LANDMARKS, has_face
from ..dataset.landmarks import landmark_groups
from ..dataset.procrustes import generalized_procrustes, procrustes_align

REGIONS = ("eyes", "nose", "mouth", "jaw")
SHAPE_DIMS = 2  # x, y: MediaPipe's z is a guess from one view


@lru_cache(maxsize=1)
def region_indices() -> dict[str, np.ndarray]:
    """Landmark indices of the scored regions (eyes with brows and irises, nose, mouth, jaw)."""
    g = landmark_groups()
    eyes = np.concatenate(
        [g[k] for k in ("left_eye", "right_eye", "left_eyebrow", "right_eyebrow", "left_iris", "right_iris")]
        + [np.array(FIVE_POINTS[:2])]
    )
    return {
        "eyes": np.unique(eyes),
        "nose": np.unique(g["nose"]),
        "mouth": np.unique(g["lips"]),
        "jaw": np.array(sorted(JAW), dtype=np.int64),
    }


def fit_template(points: np.ndarray) -> np.ndarray:
    """The Procrustes mean shape (478, SHAPE_DIMS) of the faces in ``points`` (pixel units)."""
    faces = np.asarray(points)[has_face(points)]
    if len(faces) == 0:
        raise ValueError("no face to fit a template on")
    _, template = generalized_procrustes(faces[:, :, :SHAPE_DIMS], iterations=5)
    return template


def aligned(points: np.ndarray, template: np.ndarray) -> np.ndarray:
    """(N, 478 * SHAPE_DIMS) shapes aligned to ``template`` (NaN rows stay NaN)."""
    points = np.asarray(points, dtype=np.float64)
    out = np.full((len(points), template.size), np.nan)
    for i in np.flatnonzero(has_face(points)):
        out[i] = procrustes_align(points[i, :, :SHAPE_DIMS], template).ravel()
    return out


def region_columns(region: str) -> np.ndarray:
    """Columns of an :func:`aligned` row that belong to ``region``."""
    idx = region_indices()[region]
    return (idx[:, None] * SHAPE_DIMS + np.arange(SHAPE_DIMS)[None, :]).ravel()


def five_point_vector(points: np.ndarray) -> np.ndarray:
    """The paper's descriptor: (N, 25) pairwise distances of the 5 points.

    The 5 points (eye centres, nose tip, mouth corners) are normalised by the
    face box (``(x - x_min) / box width``, ``(y - y_min) / box height``; the box
    of the 478 landmarks), and the 5x5 distance matrix, diagonal and both
    triangles included, is flattened to 25 numbers, as in the authors' code.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, NUM_LANDMARKS, 3)[:, :, :2]
    lo, hi = pts.min(axis=1), pts.max(axis=1)  # (N, 2): the face box
    span = np.where(hi - lo > 0, hi - lo, np.nan)
    five = (pts[:, list(FIVE_POINTS), :] - lo[:, None, :]) / span[:, None, :]
    diff = five[:, :, None, :] - five[:, None, :, :]
    return np.sqrt((diff**2).sum(axis=-1)).reshape(len(pts), 25)
