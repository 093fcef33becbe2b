"""Landmark geometry for the filter: face regions, Procrustes shapes, the paper's 5 points.

Landmarks arrive as the dataset stores them (MediaPipe's 478x3 points, ``x`` and
``y`` normalised by the image width and height, ``z`` in the scale of ``x``).
:func:`in_pixels` undoes the normalisation (so a non-square image keeps its
aspect) before any alignment.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..dataset.landmarks import NUM_LANDMARKS, landmark_groups
from ..dataset.procrustes import generalized_procrustes, procrustes_align

REGIONS = ("eyes", "nose", "mouth", "jaw")
# The lower face oval, ear to ear under the cheeks (MediaPipe indices; all in FACE_OVAL).
JAW = (132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288, 361)
# The RetinaFace-style 5 points taken from the 478: iris centres (subject's right, left),
# nose tip, mouth corners (subject's right, left).
FIVE_POINTS = (468, 473, 1, 61, 291)
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


def has_face(points: np.ndarray) -> np.ndarray:
    """(N,) bool: rows of an (N, 478, 3) stack that hold a face (no NaN)."""
    points = np.asarray(points)
    return ~np.isnan(points.reshape(len(points), -1)).any(axis=1)


def in_pixels(points: np.ndarray, sizes: np.ndarray | None = None) -> np.ndarray:
    """(N, 478, 3) normalised landmarks -> pixel units (``x * W``, ``y * H``, ``z * W``).

    ``sizes`` is (N, 2) of (width, height); ``None`` treats every image as square.
    """
    pts = np.asarray(points, dtype=np.float64).reshape(-1, NUM_LANDMARKS, 3)
    if sizes is None:
        return pts.copy()
    sizes = np.asarray(sizes, dtype=np.float64).reshape(-1, 2)
    scale = np.stack([sizes[:, 0], sizes[:, 1], sizes[:, 0]], axis=1)[:, None, :]
    return pts * scale


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
