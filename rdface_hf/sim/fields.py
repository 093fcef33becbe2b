"""Displacement fields of the shape features, in the face frame.

Each takes the face-frame anchors ``a`` (the patient's undeformed landmarks),
the signed severity ``s`` and points ``p`` (M, 2), and returns displacements
(M, 2). Fields are built from Gaussian windows, sigmoids and smooth ramps whose
slopes stay well below 1 at the severities the simulator uses (up to 1.7), so
the map ``p -> p + D(p)`` does not fold. Each is confined to its own structure
so that one feature does not move another feature's landmarks (no cross-talk):
the nasal bridge widens between the inner canthi without moving them, a short
fissure keeps its inner canthus, a thin upper lip moves the mouth line up
instead of the vermilion border down, and a longer or shorter philtrum carries
the chin along.
"""

from __future__ import annotations

import numpy as np

from ..dataset.geometry import CHIN, LEFT_EYE, NASION, NOSE_TIP, RIGHT_EYE, STOMION_UP, SUBNASALE, UPPER_LIP_TOP


def gauss(p: np.ndarray, c, sx: float, sy: float) -> np.ndarray:
    d = (p - np.asarray(c, dtype=np.float64)) / np.array([sx, sy])
    return np.exp(-0.5 * (d**2).sum(axis=-1))


def sigmoid(t: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def vec(dx, dy, n: int) -> np.ndarray:
    out = np.zeros((n, 2))
    out[:, 0], out[:, 1] = dx, dy
    return out


def eyes(a: np.ndarray):
    """((centre, inner canthus), side) of each eye: side -1 = subject's right (image left)."""
    return (
        ((a[list(RIGHT_EYE), :2].mean(axis=0), a[RIGHT_EYE[1], :2]), -1.0),
        ((a[list(LEFT_EYE), :2].mean(axis=0), a[LEFT_EYE[1], :2]), 1.0),
    )


def _lower_face_fade(a: np.ndarray, p: np.ndarray) -> np.ndarray:
    """1 down to just below the chin, then fading into the neck."""
    return sigmoid((a[CHIN, 1] + 0.3 - p[:, 1]) / 0.1)


def telorism(a, s, p):
    """Move the eyes apart (s > 0) or together; the nasal bridge between them stays."""
    bridge = smoothstep((np.abs(p[:, 0] - a[NASION, 0]) - 0.02) / 0.3)
    dx = sum(0.09 * s * side * gauss(p, e, 0.32, 0.32) for (e, _), side in eyes(a))
    return vec(dx * bridge, 0.0, len(p))


def slant(a, s, p):
    """Rotate each eye about its centre; the midline (nasion, nose) stays."""
    t = np.tan(np.radians(10.0)) * s
    lateral = smoothstep((np.abs(p[:, 0] - a[NASION, 0]) - 0.08) / 0.2)
    dy = sum(-t * side * (p[:, 0] - e[0]) * gauss(p, e, 0.35, 0.28) for (e, _), side in eyes(a))
    return vec(0.0, dy * lateral, len(p))


def fissure(a, s, p):
    """Scale each eye about its inner canthus: only the outer part moves."""
    dx = 0.0
    for (e, inner), side in eyes(a):
        lateral = sigmoid(side * (p[:, 0] - inner[0]) / 0.04)
        dx = dx + 0.30 * s * (p[:, 0] - inner[0]) * gauss(p, e, 0.3, 0.2) * lateral
    return vec(dx, 0.0, len(p))


def philtrum(a, s, p):
    mid = 0.5 * (a[SUBNASALE, 1] + a[UPPER_LIP_TOP, 1])
    dy = 0.10 * s * gauss(p, (a[SUBNASALE, 0], 0.0), 0.7, 1e9) * sigmoid((p[:, 1] - mid) / 0.07)
    return vec(0.0, dy * _lower_face_fade(a, p), len(p))


def mouth_width(a, s, p):
    m = a[[61, 291, 13, 14], :2].mean(axis=0)
    dx = 0.28 * s * (p[:, 0] - m[0]) * gauss(p, m, 0.5, 0.22)
    return vec(dx, 0.0, len(p))


def upper_lip(a, s, p):
    """Thin (s < 0) upper vermilion: the mouth line and everything below move up, the border stays."""
    top, stomion = a[UPPER_LIP_TOP, 1], a[STOMION_UP, 1]
    height = max(stomion - top, 0.03)
    ramp = smoothstep((p[:, 1] - top) / height)
    dy = 0.5 * height * np.tanh(s) * ramp * gauss(p, (a[UPPER_LIP_TOP, 0], 0.0), 0.7, 1e9)
    return vec(0.0, dy * _lower_face_fade(a, p), len(p))


def jaw(a, s, p):
    c = a[CHIN, :2]
    g = gauss(p, c, 0.6, 0.45)
    return vec(0.10 * s * (p[:, 0] - c[0]) * g, 0.14 * s * g, len(p))


def midface(a, s, p):
    top = 0.5 * (a[NASION, 1] + a[NOSE_TIP, 1])
    dy = 0.10 * s * gauss(p, (a[NOSE_TIP, 0], 0.0), 0.8, 1e9) * sigmoid((p[:, 1] - top) / 0.12)
    return vec(0.0, dy * _lower_face_fade(a, p), len(p))


def bridge_width(a, s, p):
    """Widen the bridge between the inner canthi, which stay where they are."""
    half = 0.8 * min(abs(inner[0] - a[NASION, 0]) for (_, inner), _ in eyes(a))
    u = np.clip(((p[:, 0] - a[NASION, 0]) / half) ** 2, 0.0, 1.0)
    dx = 0.45 * s * (p[:, 0] - a[NASION, 0]) * (1.0 - u) ** 2
    return vec(dx * gauss(p, (a[NASION, 0], 0.5 * (a[NASION, 1] + a[NOSE_TIP, 1])), 1e9, 0.25), 0.0, len(p))


def nose_length(a, s, p):
    return vec(0.0, 0.08 * s * gauss(p, a[NOSE_TIP, :2], 0.32, 0.2), len(p))


def cheeks(a, s, p):
    """Fuller cheeks: the lower face contour out; the mouth corners stay."""
    lateral = smoothstep((np.abs(p[:, 0]) - 0.55) / 0.25)
    dx = sum(0.12 * s * side * gauss(p, (0.95 * side, 0.85), 0.35, 0.45) for side in (-1.0, 1.0))
    return vec(dx * lateral, 0.0, len(p))


def forehead(a, s, p):
    return vec(0.0, -0.12 * s * gauss(p, (0.0, -0.9), 0.9, 0.45), len(p))


def face_length(a, s, p):
    dy = 0.12 * s * sigmoid((p[:, 1] - 0.9) / 0.35) * gauss(p, (0.0, 0.0), 1.3, 1e9)
    return vec(0.0, dy, len(p))


def ear_position(a, s, p):
    """Low-set ears (s > 0): the sides of the head beyond the face oval move down."""
    oval_x = 0.5 * (abs(a[234, 0]) + abs(a[454, 0]))
    dy = sum(0.16 * s * gauss(p, (side * (oval_x + 0.22), 0.35), 0.13, 0.45) for side in (-1.0, 1.0))
    return vec(0.0, dy, len(p))
