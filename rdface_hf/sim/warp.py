"""Smooth landmark-driven warps: thin-plate splines on a coarse grid, fold checks.

Images are warped *backwards*: for every output pixel we compute where in the
source to sample. Maps are evaluated on a coarse grid (every ``step`` pixels),
checked for folding there (the Jacobian determinant must stay positive) and
upsampled with cubic splines, which keeps them smooth and cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy import ndimage

GRID_STEP = 8


def _tps_kernel(d2: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        k = d2 * np.log(d2)
    return np.where(d2 > 0, k, 0.0)


@dataclass(frozen=True)
class ThinPlateSpline:
    """A 2-D thin-plate spline from control points ``src`` to ``dst``."""

    src: np.ndarray  # (N, 2), scaled coordinates
    weights: np.ndarray  # (N + 3, 2)
    scale: float

    @classmethod
    def fit(cls, src: np.ndarray, dst: np.ndarray, *, scale: float = 1.0, reg: float = 1e-4) -> "ThinPlateSpline":
        src = np.asarray(src, dtype=np.float64) / scale
        dst = np.asarray(dst, dtype=np.float64) / scale
        n = len(src)
        k = _tps_kernel(((src[:, None, :] - src[None, :, :]) ** 2).sum(-1)) + reg * np.eye(n)
        p = np.hstack([np.ones((n, 1)), src])
        a = np.zeros((n + 3, n + 3))
        a[:n, :n], a[:n, n:], a[n:, :n] = k, p, p.T
        b = np.zeros((n + 3, 2))
        b[:n] = dst
        return cls(src=src, weights=np.linalg.solve(a, b), scale=scale)

    def __call__(self, pts: np.ndarray) -> np.ndarray:
        q = np.asarray(pts, dtype=np.float64).reshape(-1, 2) / self.scale
        k = _tps_kernel(((q[:, None, :] - self.src[None, :, :]) ** 2).sum(-1))
        n = len(self.src)
        out = k @ self.weights[:n] + self.weights[n] + q @ self.weights[n + 1 :]
        return out * self.scale


def similarity_fit(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares similarity (Umeyama, no reflection): ``dst ≈ src @ m.T + t``."""
    src, dst = np.asarray(src, dtype=np.float64), np.asarray(dst, dtype=np.float64)
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - ms, dst - md
    u, sig, vt = np.linalg.svd(b.T @ a)
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rot = u @ d @ vt
    scale = float((sig * np.diag(d)).sum() / (a**2).sum())
    m = scale * rot
    return m, md - ms @ m.T


def anchored_spline(src: np.ndarray, dst: np.ndarray, size: int) -> ThinPlateSpline:
    """TPS through the control points plus a rigid ring of far anchors.

    The anchors (a square ring well outside the face) follow the best
    similarity transform between the control points, so hair, neck and
    background move rigidly while the face deforms.
    """
    m, t = similarity_fit(src, dst)
    lin = np.linspace(-0.25 * size, 1.25 * size, 7)
    ring = np.array([(x, y) for x in lin for y in lin if x in (lin[0], lin[-1]) or y in (lin[0], lin[-1])])
    return ThinPlateSpline.fit(np.vstack([src, ring]), np.vstack([dst, ring @ m.T + t]), scale=float(size))


def coarse_grid(size: int, step: int = GRID_STEP) -> np.ndarray:
    """(G, G, 2) pixel positions (x, y) of a grid covering a ``size`` square."""
    g = int(np.ceil((size - 1) / step)) + 1
    lin = np.arange(g, dtype=np.float64) * step
    xx, yy = np.meshgrid(lin, lin)
    return np.stack([xx, yy], axis=-1)


def jacobian_det(grid_map: np.ndarray, step: float = GRID_STEP) -> np.ndarray:
    """Jacobian determinants (G-1, G-1) of a map sampled on a coarse grid."""
    dx = (grid_map[:-1, 1:] - grid_map[:-1, :-1]) / step  # d map / d x
    dy = (grid_map[1:, :-1] - grid_map[:-1, :-1]) / step  # d map / d y
    return dx[..., 0] * dy[..., 1] - dx[..., 1] * dy[..., 0]


def invert_displacement(field: Callable[[np.ndarray], np.ndarray], q: np.ndarray, iterations: int = 12) -> np.ndarray:
    """Solve ``b + field(b) = q`` for b by fixed-point iteration (|grad| < 1)."""
    b = np.array(q, dtype=np.float64)
    for _ in range(iterations):
        b = q - field(b)
    return b


def cubic_weights(n_out: int, n_in: int, step: float) -> np.ndarray:
    """(n_out, n_in) Catmull-Rom interpolation weights: output i sits at input i / step."""
    t = np.arange(n_out, dtype=np.float64) / step
    i0 = np.floor(t).astype(int)
    f = t - i0
    taps = (
        (-1, -0.5 * f**3 + f**2 - 0.5 * f),
        (0, 1.5 * f**3 - 2.5 * f**2 + 1.0),
        (1, -1.5 * f**3 + 2.0 * f**2 + 0.5 * f),
        (2, 0.5 * f**3 - 0.5 * f**2),
    )
    w = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    for offset, weight in taps:
        np.add.at(w, (rows, np.clip(i0 + offset, 0, n_in - 1)), weight)
    return w


def upsample_map(grid_map: np.ndarray, size: int, step: float = GRID_STEP) -> np.ndarray:
    """Separable cubic upsampling of a coarse (G, G, C) array to (size, size, C)."""
    wy = cubic_weights(size, grid_map.shape[0], step)
    wx = cubic_weights(size, grid_map.shape[1], step)
    return np.einsum("ig,ghc,jh->ijc", wy, grid_map, wx, optimize=True)


def sample_image(image: np.ndarray, map_xy: np.ndarray) -> np.ndarray:
    """Bilinear sampling of ``image`` (H, W, C) at the (h, w, 2) map; float32 out."""
    coords = [map_xy[..., 1], map_xy[..., 0]]
    planes = [ndimage.map_coordinates(image[..., c].astype(np.float32), coords, order=1, mode="nearest") for c in range(image.shape[2])]
    return np.stack(planes, axis=-1)
