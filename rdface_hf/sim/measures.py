"""Landmark measures: one scalar per shape axis, from 478 MediaPipe landmarks.

Measures are scale-free: lengths are divided by the **face size**
(:func:`rdface_hf.dataset.geometry.face_size`, the RMS distance of the 478 landmarks from
their centroid; not the inter-ocular distance, which eye features change), in the face frame
(:mod:`rdface_hf.dataset.geometry`) with pixel units kept.
"""

from __future__ import annotations

import numpy as np

from ..dataset.geometry import (
    BRIDGE,
    CHEEKS_LOWER,
    CHEEKS_UPPER,
    CHIN,
    FOREHEAD,
    LEFT_EYE,
    MOUTH,
    NASION,
    NOSE_TIP,
    RIGHT_EYE,
    STOMION_LO,
    STOMION_UP,
    SUBNASALE,
    UPPER_LIP_TOP,
    face_frame,
    face_size,
)


def normalised(points: np.ndarray) -> np.ndarray:
    """(478, 2) landmarks levelled on the eye line, centred between the eyes, divided by the face size."""
    xy = np.asarray(points, dtype=np.float64)[:, :2]
    f = face_frame(xy)
    levelled = f.to_frame(xy) * f.iod
    return levelled / face_size(levelled)


def _dist(f: np.ndarray, i: int, j: int) -> float:
    return float(np.hypot(*(f[i] - f[j])))


def telorism(f):
    return _dist(f, RIGHT_EYE[1], LEFT_EYE[1]) / _dist(f, *CHEEKS_UPPER)


def slant(f):
    r = np.arctan2(f[RIGHT_EYE[1], 1] - f[RIGHT_EYE[0], 1], f[RIGHT_EYE[1], 0] - f[RIGHT_EYE[0], 0])
    left = np.arctan2(f[LEFT_EYE[1], 1] - f[LEFT_EYE[0], 1], f[LEFT_EYE[0], 0] - f[LEFT_EYE[1], 0])
    return float(np.degrees(0.5 * (r + left)))


def fissure_length(f):
    return 0.5 * (_dist(f, *RIGHT_EYE) + _dist(f, *LEFT_EYE))


def philtrum(f):
    return _dist(f, SUBNASALE, UPPER_LIP_TOP)


def mouth_width(f):
    return _dist(f, *MOUTH)


def upper_lip(f):
    return float(f[STOMION_UP, 1] - f[UPPER_LIP_TOP, 1])


def jaw(f):
    return float(np.hypot(*(f[CHIN] - 0.5 * (f[STOMION_UP] + f[STOMION_LO]))))


def midface(f):
    return float(f[SUBNASALE, 1])


def bridge_width(f):
    return 0.5 * sum(_dist(f, i, j) for i, j in BRIDGE)


def nose_length(f):
    return _dist(f, NASION, NOSE_TIP)


def cheeks(f):
    return float(np.mean([_dist(f, i, j) for i, j in CHEEKS_LOWER]))


def forehead(f):
    return float(-f[FOREHEAD, 1])


def face_length(f):
    return _dist(f, FOREHEAD, CHIN) / _dist(f, *CHEEKS_UPPER)


MEASURES = {
    "telorism": (telorism, "inner canthal distance / upper face width"),
    "slant": (slant, "palpebral fissure slant, degrees, outer canthus up > 0"),
    "fissure_length": (fissure_length, "palpebral fissure length / face size"),
    "philtrum": (philtrum, "subnasale to upper lip / face size"),
    "mouth_width": (mouth_width, "mouth corner distance / face size"),
    "upper_lip": (upper_lip, "upper vermilion height / face size"),
    "jaw": (jaw, "stomion to chin / face size"),
    "midface": (midface, "eye line to subnasale / face size"),
    "bridge_width": (bridge_width, "nasal bridge width (side walls, below the canthi) / face size"),
    "nose_length": (nose_length, "nasion to nose tip / face size"),
    "cheeks": (cheeks, "lower face width / face size"),
    "forehead": (forehead, "forehead top above the eye line / face size"),
    "face_length": (face_length, "face height / upper face width"),
}


def measure_all(points: np.ndarray) -> dict[str, float]:
    """Every landmark measure of (478, 2+) landmarks (pixels or normalised)."""
    f = normalised(points)
    return {name: float(fn(f)) for name, (fn, _) in MEASURES.items()}
