"""The catalogue of dysmorphic features: smooth displacement fields in a face frame.

Everything here works in the **face frame**: origin midway between the two eye
centres (each the mean of its two canthi), x along the eye line towards the
subject's left eye (image right), y downwards, and the inter-ocular distance
(IOD) as the unit. A severity therefore means the same on every face,
whatever its size, position or roll.

A feature (``"hypertelorism"``) is one signed direction of an **axis**
(``"telorism"``). An axis owns

- ``field(anchors, s)``: a smooth displacement field (a function of position,
  defined everywhere, not just on landmarks) for the signed severity ``s``;
  severity 1 is a clearly visible but plausible change;
- ``measure(points)``: the scalar the axis changes, measured from 478
  MediaPipe landmarks in a scale-free way, so the change can be recovered from
  re-detected landmarks on the warped image.

Fields are built from Gaussian windows and sigmoids whose slopes stay well
below 1 at the severities the simulator uses, so the forward map
``p -> p + D(p)`` does not fold (:mod:`rdface_hf.sim.warp` checks it anyway).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

# MediaPipe landmark indices used here (checked on skimage's astronaut face).
RIGHT_EYE = (33, 133)  # subject's right eye (image left): outer, inner canthus
LEFT_EYE = (263, 362)  # subject's left eye (image right): outer, inner canthus
NOSE_TIP, SUBNASALE, UPPER_LIP_TOP, STOMION_UP, STOMION_LO = 1, 2, 0, 13, 14
LOWER_LIP_BOTTOM, CHIN, FOREHEAD, NASION = 17, 152, 10, 168
MOUTH = (61, 291)
CHEEKS_UPPER = (234, 454)
CHEEKS_LOWER = ((132, 361), (172, 397))
BRIDGE = (122, 351)

Field = Callable[[np.ndarray], np.ndarray]


# --- face frame ----------------------------------------------------------------


@dataclass(frozen=True)
class FaceFrame:
    """Similarity frame of a face: ``pixel = centre + iod * R(angle) @ p``."""

    centre: np.ndarray  # (2,) pixels
    iod: float  # pixels
    angle: float  # radians, roll of the eye line

    def rotation(self) -> np.ndarray:
        c, s = np.cos(self.angle), np.sin(self.angle)
        return np.array([[c, -s], [s, c]])

    def to_frame(self, xy: np.ndarray) -> np.ndarray:
        return (np.asarray(xy, dtype=np.float64)[..., :2] - self.centre) @ self.rotation() / self.iod

    def to_pixels(self, p: np.ndarray) -> np.ndarray:
        return self.centre + self.iod * (np.asarray(p, dtype=np.float64) @ self.rotation().T)


def face_frame(xy: np.ndarray) -> FaceFrame:
    """The face frame of (478, 2+) landmarks (pixels or any uniform scale)."""
    xy = np.asarray(xy, dtype=np.float64)[:, :2]
    right, left = xy[list(RIGHT_EYE)].mean(axis=0), xy[list(LEFT_EYE)].mean(axis=0)
    v = left - right
    iod = float(np.hypot(*v))
    if iod <= 0:
        raise ValueError("degenerate landmarks: the two eyes coincide")
    return FaceFrame(centre=(left + right) / 2.0, iod=iod, angle=float(np.arctan2(v[1], v[0])))


def in_face_frame(xy: np.ndarray) -> np.ndarray:
    """(478, 2) landmarks expressed in their own face frame."""
    return face_frame(xy).to_frame(xy)


# --- building blocks ---------------------------------------------------------------


def _gauss(p: np.ndarray, c, sx: float, sy: float) -> np.ndarray:
    d = (p - np.asarray(c, dtype=np.float64)) / np.array([sx, sy])
    return np.exp(-0.5 * (d**2).sum(axis=-1))


def _sigmoid(t: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def _dist(p: np.ndarray, i: int, j: int) -> float:
    return float(np.hypot(*(p[i, :2] - p[j, :2])))


def _vec(dx: np.ndarray | float, dy: np.ndarray | float, n: int) -> np.ndarray:
    out = np.zeros((n, 2))
    out[:, 0], out[:, 1] = dx, dy
    return out


def _eyes(a: np.ndarray):
    return ((a[list(RIGHT_EYE)].mean(axis=0), -1.0), (a[list(LEFT_EYE)].mean(axis=0), 1.0))


# --- axes: displacement fields ----------------------------------------------------
# Each takes the face-frame anchors ``a`` (the undeformed landmarks), the signed
# severity ``s`` and points ``p`` (M, 2); returns displacements (M, 2).


def _telorism(a, s, p):
    dx = sum(0.09 * s * side * _gauss(p, e, 0.32, 0.32) for e, side in _eyes(a))
    return _vec(dx, 0.0, len(p))


def _slant(a, s, p):
    t = np.tan(np.radians(10.0)) * s
    dy = sum(-t * side * (p[:, 0] - e[0]) * _gauss(p, e, 0.35, 0.28) for e, side in _eyes(a))
    return _vec(0.0, dy, len(p))


def _fissure(a, s, p):
    dx = sum(0.28 * s * (p[:, 0] - e[0]) * _gauss(p, e, 0.3, 0.22) for e, _ in _eyes(a))
    return _vec(dx, 0.0, len(p))


def _philtrum(a, s, p):
    mid = 0.5 * (a[SUBNASALE, 1] + a[UPPER_LIP_TOP, 1])
    fade = 0.5 * (a[LOWER_LIP_BOTTOM, 1] + a[CHIN, 1])
    dy = (
        0.10
        * s
        * _gauss(p, (a[SUBNASALE, 0], 0.0), 0.55, 1e9)
        * _sigmoid((p[:, 1] - mid) / 0.06)
        * _sigmoid((fade - p[:, 1]) / 0.09)
    )
    return _vec(0.0, dy, len(p))


def _mouth_width(a, s, p):
    m = a[[*MOUTH, STOMION_UP, STOMION_LO]].mean(axis=0)
    dx = 0.28 * s * (p[:, 0] - m[0]) * _gauss(p, m, 0.5, 0.22)
    return _vec(dx, 0.0, len(p))


def _upper_lip(a, s, p):
    c = a[UPPER_LIP_TOP]
    return _vec(0.0, -0.045 * s * _gauss(p, c, 0.35, 0.06), len(p))


def _jaw(a, s, p):
    c = a[CHIN]
    g = _gauss(p, c, 0.6, 0.45)
    return _vec(0.10 * s * (p[:, 0] - c[0]) * g, 0.14 * s * g, len(p))


def _midface(a, s, p):
    top = 0.5 * (a[NASION, 1] + a[NOSE_TIP, 1])
    fade = 0.5 * (a[LOWER_LIP_BOTTOM, 1] + a[CHIN, 1])
    dy = (
        0.10
        * s
        * _gauss(p, (a[NOSE_TIP, 0], 0.0), 0.8, 1e9)
        * _sigmoid((p[:, 1] - top) / 0.12)
        * _sigmoid((fade - p[:, 1]) / 0.1)
    )
    return _vec(0.0, dy, len(p))


def _bridge_width(a, s, p):
    c = 0.5 * (a[NASION] + a[6])
    return _vec(0.30 * s * (p[:, 0] - c[0]) * _gauss(p, c, 0.22, 0.3), 0.0, len(p))


def _nasion_depth(a, s, p):
    return _vec(0.0, 0.07 * s * _gauss(p, a[NASION], 0.25, 0.18), len(p))


def _nose_length(a, s, p):
    return _vec(0.0, 0.08 * s * _gauss(p, a[NOSE_TIP], 0.32, 0.2), len(p))


def _cheeks(a, s, p):
    dx = sum(0.10 * s * side * _gauss(p, (0.9 * side, 0.85), 0.35, 0.45) for side in (-1.0, 1.0))
    return _vec(dx, 0.0, len(p))


def _forehead(a, s, p):
    return _vec(0.0, -0.12 * s * _gauss(p, (0.0, -0.9), 0.9, 0.45), len(p))


def _face_length(a, s, p):
    dy = 0.12 * s * _sigmoid((p[:, 1] - 0.9) / 0.35) * _gauss(p, (0.0, 0.0), 1.3, 1e9)
    return _vec(0.0, dy, len(p))


# --- axes: measurements -------------------------------------------------------------
# Each takes (478, 2) landmarks in their own face frame and returns one scalar.


def _m_telorism(f):
    return _dist(f, RIGHT_EYE[1], LEFT_EYE[1]) / _dist(f, *CHEEKS_UPPER)


def _m_slant(f):
    r = np.arctan2(f[RIGHT_EYE[1], 1] - f[RIGHT_EYE[0], 1], f[RIGHT_EYE[1], 0] - f[RIGHT_EYE[0], 0])
    left = np.arctan2(f[LEFT_EYE[1], 1] - f[LEFT_EYE[0], 1], f[LEFT_EYE[0], 0] - f[LEFT_EYE[1], 0])
    return float(np.degrees(0.5 * (r + left)))


def _m_fissure(f):
    return 0.5 * (_dist(f, *RIGHT_EYE) + _dist(f, *LEFT_EYE))


def _m_philtrum(f):
    return _dist(f, SUBNASALE, UPPER_LIP_TOP)


def _m_mouth(f):
    return _dist(f, *MOUTH)


def _m_upper_lip(f):
    return float(f[STOMION_UP, 1] - f[UPPER_LIP_TOP, 1])


def _m_jaw(f):
    return float(np.hypot(*(f[CHIN] - 0.5 * (f[STOMION_UP] + f[STOMION_LO]))))


def _m_midface(f):
    return float(f[SUBNASALE, 1])


def _m_bridge(f):
    return _dist(f, *BRIDGE)


def _m_nasion(f):
    return float(f[NASION, 1])


def _m_nose(f):
    return _dist(f, NASION, NOSE_TIP)


def _m_cheeks(f):
    return float(np.mean([_dist(f, i, j) for i, j in CHEEKS_LOWER]))


def _m_forehead(f):
    return float(-f[FOREHEAD, 1])


def _m_face_length(f):
    return _dist(f, FOREHEAD, CHIN) / _dist(f, *CHEEKS_UPPER)


@dataclass(frozen=True)
class Axis:
    """A measurable facial dimension and the smooth field that changes it."""

    name: str
    field: Callable[[np.ndarray, float, np.ndarray], np.ndarray]
    measure: Callable[[np.ndarray], float]
    description: str


AXES: dict[str, Axis] = {
    a.name: a
    for a in (
        Axis("telorism", _telorism, _m_telorism, "inner canthal distance / upper face width"),
        Axis("slant", _slant, _m_slant, "palpebral fissure slant, degrees, outer canthus up > 0"),
        Axis("fissure_length", _fissure, _m_fissure, "palpebral fissure length / IOD"),
        Axis("philtrum", _philtrum, _m_philtrum, "subnasale to upper lip / IOD"),
        Axis("mouth_width", _mouth_width, _m_mouth, "mouth corner distance / IOD"),
        Axis("upper_lip", _upper_lip, _m_upper_lip, "upper vermilion height / IOD"),
        Axis("jaw", _jaw, _m_jaw, "stomion to chin / IOD"),
        Axis("midface", _midface, _m_midface, "eye line to subnasale / IOD"),
        Axis("bridge_width", _bridge_width, _m_bridge, "nasal bridge width / IOD"),
        Axis("nasion_depth", _nasion_depth, _m_nasion, "nasion below the eye line / IOD"),
        Axis("nose_length", _nose_length, _m_nose, "nasion to nose tip / IOD"),
        Axis("cheeks", _cheeks, _m_cheeks, "lower face width / IOD"),
        Axis("forehead", _forehead, _m_forehead, "forehead top above the eye line / IOD"),
        Axis("face_length", _face_length, _m_face_length, "face height / upper face width"),
    )
}


@dataclass(frozen=True)
class Feature:
    """A named dysmorphic feature: one signed direction of an axis."""

    name: str
    axis: str
    sign: float


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        Feature("hypertelorism", "telorism", 1.0),
        Feature("hypotelorism", "telorism", -1.0),
        Feature("upslanting palpebral fissures", "slant", 1.0),
        Feature("downslanting palpebral fissures", "slant", -1.0),
        Feature("short palpebral fissures", "fissure_length", -1.0),
        Feature("long philtrum", "philtrum", 1.0),
        Feature("short philtrum", "philtrum", -1.0),
        Feature("wide mouth", "mouth_width", 1.0),
        Feature("small mouth", "mouth_width", -1.0),
        Feature("thin upper lip", "upper_lip", -1.0),
        Feature("micrognathia", "jaw", -1.0),
        Feature("midface hypoplasia", "midface", -1.0),
        Feature("broad nasal bridge", "bridge_width", 1.0),
        Feature("depressed nasal bridge", "nasion_depth", 1.0),
        Feature("short nose", "nose_length", -1.0),
        Feature("full cheeks", "cheeks", 1.0),
        Feature("prominent forehead", "forehead", 1.0),
        Feature("long face", "face_length", 1.0),
    )
}


def axis_severities(severities: Mapping[str, float]) -> dict[str, float]:
    """Named feature severities -> signed severity per axis."""
    out: dict[str, float] = {}
    for name, sev in severities.items():
        if name not in FEATURES:
            raise KeyError(f"unknown feature {name!r}; known: {sorted(FEATURES)}")
        f = FEATURES[name]
        out[f.axis] = out.get(f.axis, 0.0) + f.sign * float(sev)
    return out


def displacement_field(anchors: np.ndarray, severities: Mapping[str, float]) -> Field:
    """The combined displacement field of named features on one face.

    ``anchors``: the undeformed (478, 2) landmarks in face-frame coordinates.
    The returned function maps face-frame points (M, 2) to displacements (M, 2).
    """
    anchors = np.asarray(anchors, dtype=np.float64)[:, :2]
    terms = [(AXES[name], s) for name, s in axis_severities(severities).items() if s != 0.0]

    def field(p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=np.float64).reshape(-1, 2)
        total = np.zeros_like(p)
        for axis, s in terms:
            total += axis.field(anchors, s, p)
        return total

    return field


def measure_features(points: np.ndarray) -> dict[str, float]:
    """Every axis measurement of (478, 2+) landmarks (pixels or normalised)."""
    f = in_face_frame(np.asarray(points, dtype=np.float64)[:, :2])
    return {name: float(axis.measure(f)) for name, axis in AXES.items()}


def apply_features(points: np.ndarray, severities: Mapping[str, float]) -> np.ndarray:
    """Landmarks (478, 2) after the features, in the same coordinates as given."""
    xy = np.asarray(points, dtype=np.float64)[:, :2]
    frame = face_frame(xy)
    f = frame.to_frame(xy)
    return frame.to_pixels(f + displacement_field(f, severities)(f))
