"""Smooth landmark-driven warps: thin-plate splines on a coarse grid, fold checks.

Images are warped *backwards*: for every output pixel we compute where in the
source to sample. Maps are evaluated on a coarse grid (every ``step`` pixels),
checked for folding there (the Jacobian determinant must stay positive) and
upsampled with cubic splines, which keeps them smooth and cheap.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage

GRID_STEP = 8


def anchored_spline(src: np.ndarray, dst: np.ndarray, size: int) -> Callable[[np.ndarray], np.ndarray]:
    """Thin-plate spline (``scipy.interpolate.RBFInterpolator``) through the
    control points plus a rigid ring of far anchors.

    The anchors (a square ring well outside the face) follow the best
    similarity transform between the control points
    (``skimage.transform.SimilarityTransform``), so hair, neck and background
    move rigidly while the face deforms.
    """
    from scipy.interpolate import RBFInterpolator
    from skimage.transform import SimilarityTransform

    src, dst = np.asarray(src, dtype=np.float64), np.asarray(dst, dtype=np.float64)
    similarity = SimilarityTransform.from_estimate(src, dst)
    lin = np.linspace(-0.25 * size, 1.25 * size, 7)
    ring = np.array([(x, y) for x in lin for y in lin if x in (lin[0], lin[-1]) or y in (lin[0], lin[-1])])
    scale = float(size)  # fit in unit coordinates: a well-conditioned system
    spline = RBFInterpolator(
        np.vstack([src, ring]) / scale,
        np.vstack([dst, similarity(ring)]) / scale,
        kernel="thin_plate_spline",
        degree=1,
        smoothing=1e-4,
    )
    return lambda pts: spline(np.asarray(pts, dtype=np.float64).reshape(-1, 2) / scale) * scale


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


def upsample_map(grid_map: np.ndarray, size: int, step: float = GRID_STEP) -> np.ndarray:
    """Cubic-spline upsampling of a coarse (G, G, C) array, sampled every
    ``step`` pixels, to (size, size, C)."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / step
    planes = [
        ndimage.map_coordinates(grid_map[..., c], [yy, xx], order=3, mode="nearest") for c in range(grid_map.shape[2])
    ]
    return np.stack(planes, axis=-1)


def sample_image(image: np.ndarray, map_xy: np.ndarray) -> np.ndarray:
    """Bilinear sampling of ``image`` (H, W, C) at the (h, w, 2) map; float32 out."""
    coords = [map_xy[..., 1], map_xy[..., 0]]
    planes = [
        ndimage.map_coordinates(image[..., c].astype(np.float32), coords, order=1, mode="nearest")
        for c in range(image.shape[2])
    ]
    return np.stack(planes, axis=-1)
