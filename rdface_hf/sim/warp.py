"""Smooth landmark-driven warps: thin-plate splines on a coarse grid, fold checks.

Images are warped *backwards*: for every output pixel we compute where in the
source to sample. Maps are evaluated on a coarse grid, checked for folding there
(the Jacobian determinant must stay positive) and upsampled with OpenCV's cubic
resize, which keeps them smooth and cheap; pixels are sampled with ``cv2.remap``.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
from scipy.interpolate import RBFInterpolator

RING_RADIUS = 6.0  # far anchors, in face-frame units (IODs)


def _similarity(src: np.ndarray, dst: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Least-squares similarity transform src -> dst (Umeyama, no reflection)."""
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - ms, dst - md
    u, sing, vt = np.linalg.svd(b.T @ a)
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ d @ vt
    scale = float((sing * np.diag(d)).sum() / (a**2).sum())
    return lambda p: md + scale * (np.asarray(p) - ms) @ rot.T


def anchored_spline(src: np.ndarray, dst: np.ndarray, smoothing: float = 1e-5) -> Callable[[np.ndarray], np.ndarray]:
    """Thin-plate spline (``scipy.interpolate.RBFInterpolator``) src -> dst through the
    control points plus a ring of far anchors that follow their best similarity, so
    that hair, neck and background move rigidly while the face deforms.
    Works in face-frame units (points of order 1)."""
    src, dst = np.asarray(src, dtype=np.float64)[:, :2], np.asarray(dst, dtype=np.float64)[:, :2]
    angles = np.linspace(0.0, 2 * np.pi, 16, endpoint=False)
    ring = src.mean(axis=0) + RING_RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    spline = RBFInterpolator(
        np.vstack([src, ring]),
        np.vstack([dst, _similarity(src, dst)(ring)]),
        kernel="thin_plate_spline",
        degree=1,
        smoothing=smoothing,
    )
    return lambda pts: spline(np.asarray(pts, dtype=np.float64).reshape(-1, 2))


def coarse_points(size: tuple[int, int], cells: tuple[int, int]) -> np.ndarray:
    """(gh, gw, 2) pixel positions (x, y) whose values ``cv2.resize`` interpolates
    exactly onto every pixel of an image of ``size`` (h, w)."""
    (h, w), (gh, gw) = size, cells
    xs = (np.arange(gw) + 0.5) * w / gw - 0.5
    ys = (np.arange(gh) + 0.5) * h / gh - 0.5
    xx, yy = np.meshgrid(xs, ys)
    return np.stack([xx, yy], axis=-1)


def grid_cells(size: tuple[int, int], step: int) -> tuple[int, int]:
    return max(4, int(np.ceil(size[0] / step))), max(4, int(np.ceil(size[1] / step)))


def upsample(coarse: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Cubic upsampling of a coarse (gh, gw, C) map made on :func:`coarse_points`."""
    return cv2.resize(coarse.astype(np.float32), (size[1], size[0]), interpolation=cv2.INTER_CUBIC)


def jacobian_det(grid_map: np.ndarray, step: float | tuple[float, float]) -> np.ndarray:
    """Jacobian determinants (gh-1, gw-1) of a map sampled on a regular grid."""
    sx, sy = (step, step) if np.isscalar(step) else step
    dx = (grid_map[:-1, 1:] - grid_map[:-1, :-1]) / sx  # d map / d x
    dy = (grid_map[1:, :-1] - grid_map[:-1, :-1]) / sy  # d map / d y
    return dx[..., 0] * dy[..., 1] - dx[..., 1] * dy[..., 0]


def invert_displacement(field: Callable[[np.ndarray], np.ndarray], q: np.ndarray, iterations: int = 12) -> np.ndarray:
    """Solve ``b + field(b) = q`` for b by fixed-point iteration (|grad| < 1)."""
    b = np.array(q, dtype=np.float64)
    for _ in range(iterations):
        b = q - field(b)
    return b


def remap(image: np.ndarray, map_xy: np.ndarray) -> np.ndarray:
    """Bilinear sampling of ``image`` at the (h, w, 2) float map (x, y), edges replicated."""
    m = np.ascontiguousarray(map_xy, dtype=np.float32)
    out = cv2.remap(image, m[..., 0], m[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out if out.ndim == 3 else out[..., None]
