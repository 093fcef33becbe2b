"""Facial measures: interpretable anthropometric distances and angles from the 478 landmarks.

The measures a dysmorphologist takes (inner canthal distance, palpebral fissure
length and slant, philtrum, mouth width, lower face height, jaw width, ...),
computed in the face frame of :mod:`rdface_hf.dataset.geometry` (the eye line levelled,
the origin midway between the eyes) with lengths in units of the **face size** (the RMS
distance of the 478 landmarks from their centroid; not the inter-ocular distance, which eye
features change). Paired
measures (both eyes, both brows) are averaged, so a turned head moves them less.

Landmarks arrive in pixel units (:func:`~rdface_hf.dataset.geometry.in_pixels`);
only ``x`` and ``y`` are used. A row without a face gives a row of NaN.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..dataset import geometry as g
from ..dataset.geometry import face_size, has_face, levelled

R_MOUTH, L_MOUTH = g.MOUTH
R_IRIS, L_IRIS = g.IRIS_CENTRES

Frame = np.ndarray  # (N, 478, 2) pose-normalised points


def _d(q: Frame, i: int, j: int) -> np.ndarray:
    return np.linalg.norm(q[:, i] - q[:, j], axis=-1)


def _down(q: Frame, i: int, j: int) -> np.ndarray:
    """How far ``j`` lies below ``i`` (y grows downwards)."""
    return q[:, j, 1] - q[:, i, 1]


def _slant(q: Frame) -> np.ndarray:
    """Mean palpebral fissure slant in radians, outer canthus up > 0."""
    right = np.arctan2(q[:, g.R_INNER, 1] - q[:, g.R_OUTER, 1], q[:, g.R_INNER, 0] - q[:, g.R_OUTER, 0])
    left = np.arctan2(q[:, g.L_INNER, 1] - q[:, g.L_OUTER, 1], q[:, g.L_OUTER, 0] - q[:, g.L_INNER, 0])
    return 0.5 * (right + left)


def _stomion(q: Frame) -> np.ndarray:
    return 0.5 * (q[:, g.STOMION_UP] + q[:, g.STOMION_LO])


MEASURES: dict[str, tuple[Callable[[Frame], np.ndarray], str]] = {
    "inner_canthal": (lambda q: _d(q, g.R_INNER, g.L_INNER), "inner canthal distance (telorism)"),
    "outer_canthal": (lambda q: _d(q, g.R_OUTER, g.L_OUTER), "outer canthal distance"),
    "interpupillary": (lambda q: _d(q, R_IRIS, L_IRIS), "iris centre distance"),
    "fissure_length": (
        lambda q: 0.5 * (_d(q, g.R_OUTER, g.R_INNER) + _d(q, g.L_OUTER, g.L_INNER)),
        "palpebral fissure length",
    ),
    "fissure_height": (
        lambda q: 0.5 * (_d(q, g.R_UPPER_LID, g.R_LOWER_LID) + _d(q, g.L_UPPER_LID, g.L_LOWER_LID)),
        "eye opening",
    ),
    "slant": (_slant, "palpebral fissure slant (radians, outer canthus up > 0)"),
    "brow_height": (
        lambda q: 0.5 * (_down(q, g.R_BROW_PEAK, g.R_UPPER_LID) + _down(q, g.L_BROW_PEAK, g.L_UPPER_LID)),
        "brow peak above the upper lid",
    ),
    "brow_gap": (lambda q: _d(q, g.R_BROW_INNER, g.L_BROW_INNER), "distance between the inner brow ends"),
    "bridge_width_upper": (lambda q: _d(q, *g.BRIDGE[0]), "nasal bridge width at the canthi"),
    "bridge_width_lower": (lambda q: _d(q, *g.BRIDGE[1]), "nasal side-wall width below the canthi"),
    "nasal_width": (lambda q: _d(q, *g.ALAR_BASE), "alar base width"),
    "alar_width": (lambda q: _d(q, *g.ALAE), "width of the nostrils' outer edges"),
    "nose_length": (lambda q: _d(q, g.NASION, g.NOSE_TIP), "nasion to nose tip"),
    "nasal_height": (lambda q: _d(q, g.NASION, g.SUBNASALE), "nasion to subnasale"),
    "midface": (lambda q: q[:, g.SUBNASALE, 1], "eye line to subnasale"),
    "philtrum": (lambda q: _d(q, g.SUBNASALE, g.UPPER_LIP_TOP), "subnasale to upper lip"),
    "upper_vermilion": (lambda q: _down(q, g.UPPER_LIP_TOP, g.STOMION_UP), "upper lip (vermilion) height"),
    "lower_vermilion": (lambda q: _down(q, g.STOMION_LO, g.LOWER_LIP_BOTTOM), "lower lip (vermilion) height"),
    "mouth_width": (lambda q: _d(q, R_MOUTH, L_MOUTH), "mouth corner distance"),
    "mouth_corners": (
        lambda q: 0.5 * (q[:, R_MOUTH, 1] + q[:, L_MOUTH, 1]) - _stomion(q)[:, 1],
        "mouth corners below the stomion (a smile lifts them)",
    ),
    "eye_to_mouth": (lambda q: _stomion(q)[:, 1], "eye line to stomion"),
    "lower_face": (lambda q: _d(q, g.SUBNASALE, g.CHIN), "subnasale to menton"),
    "stomion_chin": (lambda q: np.linalg.norm(q[:, g.CHIN] - _stomion(q), axis=-1), "stomion to menton (jaw)"),
    "chin_height": (lambda q: _down(q, g.LOWER_LIP_BOTTOM, g.CHIN), "lower lip to menton"),
    "face_height": (lambda q: _d(q, g.FOREHEAD, g.CHIN), "forehead top to menton"),
    "forehead": (lambda q: -q[:, g.FOREHEAD, 1], "forehead top above the eye line"),
    "upper_face_width": (lambda q: _d(q, *g.ZYGIA), "face width at the cheekbones"),
    "cheek_width": (lambda q: _d(q, *g.CHEEKS_MID), "face width below the cheekbones"),
    "lower_cheek_width": (
        lambda q: 0.5 * (_d(q, *g.CHEEKS_LOWER[0]) + _d(q, *g.CHEEKS_LOWER[1])),
        "face width at the cheeks",
    ),
    "jaw_width": (lambda q: _d(q, *g.JAW_LINE), "face width at the jaw"),
    "gonial_width": (lambda q: _d(q, *g.JAW_ANGLES), "face width at the jaw angles"),
    "chin_width": (lambda q: _d(q, *g.CHIN_SIDES), "chin width"),
}
MEASURE_NAMES = tuple(MEASURES)


def pose_normalised(points: np.ndarray) -> Frame:
    """(N, 478, 2) points in their face frames (:func:`~rdface_hf.dataset.geometry.levelled`),
    divided by the face size (:func:`~rdface_hf.dataset.geometry.face_size`)."""
    q = levelled(points)
    size = face_size(q)
    with np.errstate(invalid="ignore", divide="ignore"):
        return q / np.where(size > 0, size, np.nan)[:, None, None]


def facial_measures(points: np.ndarray) -> np.ndarray:
    """(N, len(MEASURE_NAMES)) measures of (N, 478, 2+) landmarks in pixels (NaN rows: no face)."""
    points = np.asarray(points, dtype=np.float64)
    out = np.full((len(points), len(MEASURES)), np.nan)
    face = has_face(points)
    if face.any():
        q = pose_normalised(points[face])
        with np.errstate(invalid="ignore"):
            out[face] = np.stack([fn(q) for fn, _ in MEASURES.values()], axis=1)
    return out
