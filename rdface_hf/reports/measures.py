"""Facial measurements from MediaPipe's 478 landmarks, in the anthropometric sense.

Points are first put in the face frame of :mod:`rdface_hf.dataset.geometry` (origin between
the eyes, x along the eye line, y downwards), so that head roll does not change a slant or a
height. Lengths are divided by the face width
(:func:`~rdface_hf.dataset.geometry.face_width`, bizygomatic: landmarks 234-454; the
clinical unit, where the filter and the simulator use the face's RMS size), so that they do
not depend on image size or camera distance; slants are in degrees (outer canthus above the
inner one > 0); the ratios are plain ratios. Anatomical left and right are the *patient's*: the left eye is on the
image's right.

:data:`MEASURES` lists every measure with its region of the report and a description;
:func:`measure_face` computes them for one face. :func:`head_pose` estimates how far the head
is turned (yaw) and tilted (pitch) from MediaPipe's 3-D landmarks, so that the reference can
regress the pose out of every measure (:class:`~rdface_hf.reports.landmark_report.ReferenceStats`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..dataset import geometry as g
from ..dataset.geometry import face_width, in_face_frame

# The anthropometric names of the points (indices in :mod:`rdface_hf.dataset.geometry`).
R_EXO, R_EN = g.RIGHT_EYE  # exocanthion (outer), endocanthion (inner)
L_EXO, L_EN = g.LEFT_EYE
R_PUPIL, L_PUPIL = g.IRIS_CENTRES
PRONASALE, LABRALE_SUPERIUS, MENTON = g.NOSE_TIP, g.UPPER_LIP_TOP, g.CHIN
CHEILION, CHEEK, GONION = g.MOUTH, g.CHEEKS_LOWER[0], g.CHEEKS_LOWER[1]
to_pixels = g.face_in_pixels  # the stage's name for it


@dataclass(frozen=True)
class Measure:
    name: str
    region: str  # report region: impression, left_eye, right_eye, nose, mouth
    description: str
    unit: str = "face widths"


MEASURES: dict[str, Measure] = {
    m.name: m
    for m in (
        Measure("inner_canthal_distance", "eyes", "inner canthal distance (endocanthion to endocanthion)"),
        Measure("outer_canthal_distance", "eyes", "outer canthal distance (exocanthion to exocanthion)"),
        Measure("interpupillary_distance", "eyes", "interpupillary distance"),
        Measure("palpebral_fissure_length", "eyes", "palpebral fissure length, mean of both eyes"),
        Measure("palpebral_fissure_length_left", "left_eye", "left palpebral fissure length"),
        Measure("palpebral_fissure_length_right", "right_eye", "right palpebral fissure length"),
        Measure("palpebral_fissure_slant", "eyes", "palpebral fissure slant, mean of both eyes", "degrees"),
        Measure("palpebral_fissure_slant_left", "left_eye", "left palpebral fissure slant", "degrees"),
        Measure("palpebral_fissure_slant_right", "right_eye", "right palpebral fissure slant", "degrees"),
        Measure("canthal_index", "eyes", "inner / outer canthal distance", "ratio"),
        Measure("nasal_bridge_width", "nose", "nasal bridge width"),
        Measure("nasal_width", "nose", "nasal (alar) width"),
        Measure("nose_length", "nose", "nose length (nasion to pronasale)"),
        Measure("philtrum_length", "mouth", "philtrum length (subnasale to labrale superius)"),
        Measure("mouth_width", "mouth", "mouth width (cheilion to cheilion)"),
        Measure("upper_lip_height", "mouth", "upper vermilion height (labrale superius to stomion)"),
        Measure("mouth_to_interpupillary", "mouth", "mouth width / interpupillary distance", "ratio"),
        Measure("mandible_height", "impression", "stomion to menton (chin height)"),
        Measure("jaw_width", "impression", "jaw width (bigonial)"),
        Measure("cheek_width", "impression", "lower cheek width"),
        Measure("midface_height", "impression", "eye line to subnasale"),
        Measure("forehead_height", "impression", "eye line to the top of the forehead"),
        Measure("face_height", "impression", "face height (forehead top to menton) / face width", "ratio"),
        Measure("lower_face_ratio", "impression", "subnasale to menton / face height", "ratio"),
    )
}


def _d(p: np.ndarray, i: int, j: int) -> float:
    return float(np.hypot(*(p[i] - p[j])))


def _slant(p: np.ndarray, exo: int, en: int) -> float:
    """Degrees; > 0 when the outer canthus is higher (smaller y) than the inner one."""
    return float(np.degrees(np.arctan2(p[en, 1] - p[exo, 1], abs(p[exo, 0] - p[en, 0]))))


def measure_face(points: np.ndarray) -> dict[str, float]:
    """Every measure of :data:`MEASURES` for one face: (478, 2+) landmarks in pixels
    (or any coordinates with the same scale on both axes)."""
    points = np.asarray(points, dtype=np.float64)
    if (
        points.ndim != 2
        or points.shape[0] < g.NUM_LANDMARKS
        or points.shape[1] < 2
        or not np.isfinite(points[:, :2]).all()
    ):
        raise ValueError(f"expected ({g.NUM_LANDMARKS}, 2+) finite landmarks, got shape {points.shape}")
    p = in_face_frame(points)
    width = face_width(p)
    if width <= 0:
        raise ValueError("degenerate landmarks: zero face width")
    pfl_r, pfl_l = _d(p, R_EXO, R_EN), _d(p, L_EXO, L_EN)
    slant_r, slant_l = _slant(p, R_EXO, R_EN), _slant(p, L_EXO, L_EN)
    stomion = 0.5 * (p[g.STOMION_UP] + p[g.STOMION_LO])
    icd, ocd, ipd = _d(p, R_EN, L_EN), _d(p, R_EXO, L_EXO), _d(p, R_PUPIL, L_PUPIL)
    face_height = _d(p, g.FOREHEAD, MENTON)
    out = {
        "inner_canthal_distance": icd / width,
        "outer_canthal_distance": ocd / width,
        "interpupillary_distance": ipd / width,
        "palpebral_fissure_length": 0.5 * (pfl_r + pfl_l) / width,
        "palpebral_fissure_length_left": pfl_l / width,
        "palpebral_fissure_length_right": pfl_r / width,
        "palpebral_fissure_slant": 0.5 * (slant_r + slant_l),
        "palpebral_fissure_slant_left": slant_l,
        "palpebral_fissure_slant_right": slant_r,
        "canthal_index": icd / ocd if ocd > 0 else float("nan"),
        "nasal_bridge_width": _d(p, *g.BRIDGE_SIDES) / width,
        "nasal_width": _d(p, *g.ALAE) / width,
        "nose_length": _d(p, g.NASION, PRONASALE) / width,
        "philtrum_length": _d(p, g.SUBNASALE, LABRALE_SUPERIUS) / width,
        "mouth_width": _d(p, *CHEILION) / width,
        "upper_lip_height": float(p[g.STOMION_UP, 1] - p[LABRALE_SUPERIUS, 1]) / width,
        "mouth_to_interpupillary": _d(p, *CHEILION) / ipd if ipd > 0 else float("nan"),
        "mandible_height": float(np.hypot(*(p[MENTON] - stomion))) / width,
        "jaw_width": _d(p, *GONION) / width,
        "cheek_width": _d(p, *CHEEK) / width,
        "midface_height": float(p[g.SUBNASALE, 1]) / width,
        "forehead_height": float(-p[g.FOREHEAD, 1]) / width,
        "face_height": face_height / width,
        "lower_face_ratio": float(p[MENTON, 1] - p[g.SUBNASALE, 1]) / face_height if face_height > 0 else float("nan"),
    }
    return out


def head_pose(points: np.ndarray) -> tuple[float, float]:
    """(yaw, pitch) in degrees of (478, 3) landmarks in pixels (x, y, and MediaPipe's depth z in
    the scale of x): the direction of the normal of the plane that fits the 3-D points best (least
    squares), turned towards the camera. A frontal face gives about (0, 0) up to a fixed offset
    that the reference absorbs; ``(nan, nan)`` without depth (2-D landmarks) or with a degenerate
    cloud."""
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] < 3 or not np.isfinite(pts[:, :3]).all():
        return float("nan"), float("nan")
    centred = pts[:, :3] - pts[:, :3].mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    if not s[1] > 0 or not np.ptp(centred[:, 2]) > 0:
        return float("nan"), float("nan")
    normal = vt[2] if vt[2, 2] >= 0 else -vt[2]
    return float(np.degrees(np.arctan2(normal[0], normal[2]))), float(np.degrees(np.arctan2(normal[1], normal[2])))
