"""A patient's landmarks: composite shape, shape-space proportions, age, expression, pose.

All shapes are (N, 3) arrays in the face frame (IOD units; the third column is
MediaPipe's depth, larger is further from the camera). The **control points**
that drive every warp are a subset of the 478 landmarks plus **virtual head
points**: the face oval pushed outwards, so that hair, ears and neck follow the
face (a larger cranium moves the hair with it).
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf

from ..dataset.geometry import FACE_OVAL, MOUTH, UPPER_LIP_TOP

VIRTUAL_RINGS = (1.35, 1.75)  # virtual points: the oval scaled about its centroid
LIP_INDICES = np.array(
    sorted({61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
            78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191})
)  # fmt: skip


def _sigmoid(t):
    return 0.5 * (1.0 + np.tanh(0.5 * t))


def _gauss(p: np.ndarray, c, sx: float, sy: float) -> np.ndarray:
    d = (p[:, :2] - np.asarray(c, dtype=np.float64)) / np.array([sx, sy])
    return np.exp(-0.5 * (d**2).sum(axis=-1))


def with_virtual_points(shape: np.ndarray) -> np.ndarray:
    """(478 + 2 * 36, 3): the landmarks, then the oval scaled by each ring factor (depth kept)."""
    oval = shape[list(FACE_OVAL)]
    centre = oval[:, :2].mean(axis=0)
    rings = []
    for k in VIRTUAL_RINGS:
        ring = oval.copy()
        ring[:, :2] = centre + k * (oval[:, :2] - centre)
        rings.append(ring)
    return np.concatenate([shape, *rings])


def style_hair(shape: np.ndarray, volume: float, length: float) -> np.ndarray:
    """Move the outer virtual ring (where the hair is): ``volume`` scales its distance from
    the inner ring above the ears (fuller > 1, close-cropped < 1); ``length`` (IODs) pulls
    its lower side points down (longer hair)."""
    out = shape.copy()
    n = len(FACE_OVAL)
    inner, outer = out[478 : 478 + n, :2], out[478 + n : 478 + 2 * n, :2]
    upper = _sigmoid((0.3 - outer[:, 1]) / 0.15)[:, None]
    outer[:] = inner + (outer - inner) * (1.0 + (volume - 1.0) * upper)
    side = _sigmoid((np.abs(outer[:, 0]) - 0.6) / 0.1) * _sigmoid((outer[:, 1] - 0.2) / 0.15)
    outer[:, 1] += length * side
    return out


def _mouth_centre(s: np.ndarray) -> np.ndarray:
    return s[[MOUTH[0], MOUTH[1], UPPER_LIP_TOP, 17], :2].mean(axis=0)


def _mouth_width(s: np.ndarray) -> float:
    return abs(s[MOUTH[1], 0] - s[MOUTH[0], 0])


def composite_shape(shapes: list[np.ndarray], weights, mirror: np.ndarray, mouth_shape: np.ndarray) -> np.ndarray:
    """Weighted mean of member shapes, symmetrised, with the lips of the mouth donor.

    The donor's lips (open or closed) are scaled to the composite's mouth width
    and centred on its mouth, so the expression is the donor's, not a blend.
    """
    w = np.asarray(weights, dtype=np.float64) / np.sum(weights)
    mean = np.tensordot(w, np.stack(shapes), axes=1)
    flip = np.array([-1.0, 1.0, 1.0])
    mean = 0.5 * (mean + mean[mirror] * flip)
    donor = 0.5 * (mouth_shape + mouth_shape[mirror] * flip)
    lips = donor[LIP_INDICES].copy()
    lips[:, :2] = _mouth_centre(mean) + (lips[:, :2] - _mouth_centre(donor)) * (
        _mouth_width(mean) / _mouth_width(donor)
    )
    mean[LIP_INDICES, :2] = lips[:, :2]
    return mean


def child_field(p: np.ndarray, t: float) -> np.ndarray:
    """Displacements (N, 2) that turn adult proportions into a child's (``t``: 0 adult .. 1 toddler).

    A larger cranium, larger eyes, a shorter and narrower nose, a shorter lower
    face and rounder cheeks; every term is smooth with slopes well below 1.
    """
    x, y = p[:, 0], p[:, 1]
    d = np.zeros((len(p), 2))
    up = _sigmoid((-0.25 - y) / 0.12)  # above the brows
    d[:, 0] += 0.06 * t * x * up
    d[:, 1] += 0.12 * t * (y - 0.1) * up
    for ex in (-0.5, 0.5):
        g = _gauss(p, (ex, 0.0), 0.24, 0.17)
        d[:, 0] += 0.2 * t * (x - ex) * g
        d[:, 1] += 0.2 * t * y * g
    d[:, 0] -= 0.14 * t * x * _gauss(p, (0.0, 0.55), 0.3, 0.25)
    mu, sigma, amp = 0.95, 0.45, 0.32
    d[:, 1] -= t * amp * sigma * np.sqrt(np.pi / 2) * (1.0 + erf((y - mu) / (sigma * np.sqrt(2))))
    d[:, 0] += 0.09 * t * x * _gauss(p, (0.0, 0.95), 1e6, 0.38)
    return d


def smile_field(p: np.ndarray, shape: np.ndarray, amount: float) -> np.ndarray:
    """Mouth corners up and out (``amount`` about 0..1)."""
    d = np.zeros((len(p), 2))
    for idx, side in ((MOUTH[0], -1.0), (MOUTH[1], 1.0)):
        g = _gauss(p, shape[idx, :2], 0.16, 0.12)
        d[:, 0] += 0.04 * amount * side * g
        d[:, 1] -= 0.05 * amount * g
    return d


def pose_points(points: np.ndarray, yaw: float, pitch: float) -> np.ndarray:
    """(N, 2) orthographic projection after turning the head by ``yaw`` and ``pitch`` (degrees)."""
    a, b = np.radians(yaw), np.radians(pitch)
    pivot = np.array([0.0, 0.25, 1.1])  # the middle of the head, behind the face
    q = points[:, :3] - pivot
    ry = np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0, np.cos(a)]])
    rx = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(b), -np.sin(b)], [0.0, np.sin(b), np.cos(b)]])
    return (q @ (rx @ ry).T + pivot)[:, :2]
