"""Facial measures: interpretable anthropometric distances and angles from the 478 landmarks.

The measures a dysmorphologist takes (inner canthal distance, palpebral fissure
length and slant, philtrum, mouth width, lower face height, jaw width, ...),
computed in a pose-normalised frame: the eye line levelled (roll), the origin
midway between the eyes (each eye the mean of its two canthi), and lengths in
units of the **face size** (the RMS distance of the 478 landmarks from their
centroid; not the inter-ocular distance, which eye features change). Paired
measures (both eyes, both brows) are averaged, so a turned head moves them less.

Landmarks arrive in pixel units (:func:`~rdface_hf.filter.shapes.in_pixels`);
only ``x`` and ``y`` are used. A row without a face gives a row of NaN.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .shapes import has_face

# MediaPipe Face Mesh indices. "Right"/"left" are the subject's (right: image left).
R_OUTER, R_INNER, L_OUTER, L_INNER = 33, 133, 263, 362  # canthi
R_UPPER_LID, R_LOWER_LID, L_UPPER_LID, L_LOWER_LID = 159, 145, 386, 374
R_IRIS, L_IRIS = 468, 473
R_BROW_PEAK, L_BROW_PEAK, R_BROW_INNER, L_BROW_INNER = 105, 334, 107, 336
NASION, NOSE_TIP, SUBNASALE = 168, 1, 2
LABRALE_SUP, STOMION_UP, STOMION_LO, LABRALE_INF = 0, 13, 14, 17
R_MOUTH, L_MOUTH = 61, 291
FOREHEAD_TOP, MENTON = 10, 152

Frame = np.ndarray  # (N, 478, 2) pose-normalised points


def _d(q: Frame, i: int, j: int) -> np.ndarray:
    return np.linalg.norm(q[:, i] - q[:, j], axis=-1)


def _down(q: Frame, i: int, j: int) -> np.ndarray:
    """How far ``j`` lies below ``i`` (y grows downwards)."""
    return q[:, j, 1] - q[:, i, 1]


def _slant(q: Frame) -> np.ndarray:
    """Mean palpebral fissure slant in radians, outer canthus up > 0."""
    right = np.arctan2(q[:, R_INNER, 1] - q[:, R_OUTER, 1], q[:, R_INNER, 0] - q[:, R_OUTER, 0])
    left = np.arctan2(q[:, L_INNER, 1] - q[:, L_OUTER, 1], q[:, L_OUTER, 0] - q[:, L_INNER, 0])
    return 0.5 * (right + left)


def _stomion(q: Frame) -> np.ndarray:
    return 0.5 * (q[:, STOMION_UP] + q[:, STOMION_LO])


MEASURES: dict[str, tuple[Callable[[Frame], np.ndarray], str]] = {
    "inner_canthal": (lambda q: _d(q, R_INNER, L_INNER), "inner canthal distance (telorism)"),
    "outer_canthal": (lambda q: _d(q, R_OUTER, L_OUTER), "outer canthal distance"),
    "interpupillary": (lambda q: _d(q, R_IRIS, L_IRIS), "iris centre distance"),
    "fissure_length": (
        lambda q: 0.5 * (_d(q, R_OUTER, R_INNER) + _d(q, L_OUTER, L_INNER)),
        "palpebral fissure length",
    ),
    "fissure_height": (
        lambda q: 0.5 * (_d(q, R_UPPER_LID, R_LOWER_LID) + _d(q, L_UPPER_LID, L_LOWER_LID)),
        "eye opening",
    ),
    "slant": (_slant, "palpebral fissure slant (radians, outer canthus up > 0)"),
    "brow_height": (
        lambda q: 0.5 * (_down(q, R_BROW_PEAK, R_UPPER_LID) + _down(q, L_BROW_PEAK, L_UPPER_LID)),
        "brow peak above the upper lid",
    ),
    "brow_gap": (lambda q: _d(q, R_BROW_INNER, L_BROW_INNER), "distance between the inner brow ends"),
    "bridge_width_upper": (lambda q: _d(q, 196, 419), "nasal bridge width at the canthi"),
    "bridge_width_lower": (lambda q: _d(q, 3, 248), "nasal side-wall width below the canthi"),
    "nasal_width": (lambda q: _d(q, 64, 294), "alar base width"),
    "alar_width": (lambda q: _d(q, 98, 327), "width of the nostrils' outer edges"),
    "nose_length": (lambda q: _d(q, NASION, NOSE_TIP), "nasion to nose tip"),
    "nasal_height": (lambda q: _d(q, NASION, SUBNASALE), "nasion to subnasale"),
    "midface": (lambda q: q[:, SUBNASALE, 1], "eye line to subnasale"),
    "philtrum": (lambda q: _d(q, SUBNASALE, LABRALE_SUP), "subnasale to upper lip"),
    "upper_vermilion": (lambda q: _down(q, LABRALE_SUP, STOMION_UP), "upper lip (vermilion) height"),
    "lower_vermilion": (lambda q: _down(q, STOMION_LO, LABRALE_INF), "lower lip (vermilion) height"),
    "mouth_width": (lambda q: _d(q, R_MOUTH, L_MOUTH), "mouth corner distance"),
    "mouth_corners": (
        lambda q: 0.5 * (q[:, R_MOUTH, 1] + q[:, L_MOUTH, 1]) - _stomion(q)[:, 1],
        "mouth corners below the stomion (a smile lifts them)",
    ),
    "eye_to_mouth": (lambda q: _stomion(q)[:, 1], "eye line to stomion"),
    "lower_face": (lambda q: _d(q, SUBNASALE, MENTON), "subnasale to menton"),
    "stomion_chin": (lambda q: np.linalg.norm(q[:, MENTON] - _stomion(q), axis=-1), "stomion to menton (jaw)"),
    "chin_height": (lambda q: _down(q, LABRALE_INF, MENTON), "lower lip to menton"),
    "face_height": (lambda q: _d(q, FOREHEAD_TOP, MENTON), "forehead top to menton"),
    "forehead": (lambda q: -q[:, FOREHEAD_TOP, 1], "forehead top above the eye line"),
    "upper_face_width": (lambda q: _d(q, 234, 454), "face width at the cheekbones"),
    "cheek_width": (lambda q: _d(q, 93, 323), "face width below the cheekbones"),
    "lower_cheek_width": (lambda q: 0.5 * (_d(q, 132, 361) + _d(q, 172, 397)), "face width at the cheeks"),
    "jaw_width": (lambda q: _d(q, 58, 288), "face width at the jaw"),
    "gonial_width": (lambda q: _d(q, 136, 365), "face width at the jaw angles"),
    "chin_width": (lambda q: _d(q, 148, 377), "chin width"),
}
MEASURE_NAMES = tuple(MEASURES)


def pose_normalised(points: np.ndarray) -> Frame:
    """(N, 478, 2) points levelled on the eye line, centred between the eyes, unit face size."""
    p = np.asarray(points, dtype=np.float64)[:, :, :2]
    right, left = p[:, [R_OUTER, R_INNER]].mean(axis=1), p[:, [L_OUTER, L_INNER]].mean(axis=1)
    eye_line = left - right
    angle = np.arctan2(eye_line[:, 1], eye_line[:, 0])
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x, y = p[..., 0] - (0.5 * (right + left))[:, :1], p[..., 1] - (0.5 * (right + left))[:, 1:]
    q = np.stack([c * x + s * y, -s * x + c * y], axis=-1)  # rotate by -angle: the eye line is horizontal
    size = np.sqrt(((q - q.mean(axis=1, keepdims=True)) ** 2).sum(axis=-1).mean(axis=1))
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
