"""Piecewise affine warping on landmark triangles, similarity fits, cross-dissolve.

Coordinates are *index* coordinates of the pixel grid: column ``x`` and row
``y`` of a pixel's centre (MediaPipe's normalised ``x * width - 0.5``). A warp
is defined by the same points in two images: the output (destination) points
are triangulated (Delaunay, plus anchors on the image border so that the
background moves smoothly), and every output pixel is fetched from the
corresponding position of the source triangle (barycentric coordinates,
bilinear sampling). It is the classic face morph, written on scipy so that it
runs in a few milliseconds per image and needs no scikit-image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import map_coordinates
from scipy.spatial import Delaunay

ANCHORS_PER_SIDE = 5  # border anchors per image side (corners included)


def to_index_coords(landmarks: np.ndarray, width: int, height: int) -> np.ndarray:
    """(478, 2+) MediaPipe landmarks (normalised) -> (478, 2) pixel index coordinates (x, y)."""
    pts = np.asarray(landmarks, dtype=np.float64)[:, :2]
    return pts * np.array([width, height], dtype=np.float64) - 0.5


@dataclass(frozen=True)
class Similarity:
    """``y = scale * x @ rotation.T + shift`` for (N, 2) row vectors."""

    scale: float
    rotation: np.ndarray  # (2, 2)
    shift: np.ndarray  # (2,)

    def __call__(self, points: np.ndarray) -> np.ndarray:
        return self.scale * np.asarray(points, dtype=np.float64) @ self.rotation.T + self.shift

    def linear(self, vectors: np.ndarray) -> np.ndarray:
        """Apply scale and rotation only (to displacements)."""
        return self.scale * np.asarray(vectors, dtype=np.float64) @ self.rotation.T

    def inverse(self) -> Similarity:
        return Similarity(1.0 / self.scale, self.rotation.T, -(self.shift @ self.rotation) / self.scale)


def fit_similarity(src: np.ndarray, dst: np.ndarray) -> Similarity:
    """Least-squares similarity (Umeyama, no reflection) taking ``src`` onto ``dst``."""
    src, dst = np.asarray(src, dtype=np.float64), np.asarray(dst, dtype=np.float64)
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    xs, xd = src - mu_s, dst - mu_d
    var = float((xs**2).sum())
    if var == 0.0:
        raise ValueError("cannot fit a similarity to a degenerate point set")
    u, s, vt = np.linalg.svd(xd.T @ xs)
    d = np.ones(2)
    d[-1] = np.sign(np.linalg.det(u @ vt)) or 1.0
    rotation = (u * d) @ vt
    scale = float((s * d).sum() / var)
    return Similarity(scale, rotation, mu_d - scale * mu_s @ rotation.T)


def border_anchors(width: int, height: int, per_side: int = ANCHORS_PER_SIDE) -> np.ndarray:
    """Points on a frame just outside the pixel grid (corners included), in index coordinates."""
    xs = np.linspace(-1.0, width, per_side)
    ys = np.linspace(-1.0, height, per_side)
    top = np.stack([xs, np.full_like(xs, -1.0)], axis=1)
    bottom = np.stack([xs, np.full_like(xs, float(height))], axis=1)
    left = np.stack([np.full_like(ys[1:-1], -1.0), ys[1:-1]], axis=1)
    right = np.stack([np.full_like(ys[1:-1], float(width)), ys[1:-1]], axis=1)
    return np.concatenate([top, bottom, left, right])


class PiecewiseAffine:
    """The output grid of ``(height, width)`` pixels, triangulated on ``dst`` points.

    Computed once per target shape; :meth:`warp` then maps any source image
    whose corresponding points are ``src`` (same order as ``dst``).
    """

    def __init__(self, dst: np.ndarray, height: int, width: int) -> None:
        self.height, self.width = int(height), int(width)
        self.dst = np.asarray(dst, dtype=np.float64)
        tri = Delaunay(self.dst)
        rows, cols = np.mgrid[0:self.height, 0:self.width]  # fmt: skip
        grid = np.stack([cols.ravel(), rows.ravel()], axis=1).astype(np.float64)
        simplex = tri.find_simplex(grid)
        outside = simplex < 0
        if outside.any():  # only when dst does not cover the grid: use the nearest triangle's plane
            simplex[outside] = tri.find_simplex(np.clip(grid[outside], self.dst.min(0), self.dst.max(0)))
            simplex[simplex < 0] = 0
        transform = tri.transform[simplex]
        b = np.einsum("nij,nj->ni", transform[:, :2, :], grid - transform[:, 2, :])
        self.weights = np.concatenate([b, 1.0 - b.sum(axis=1, keepdims=True)], axis=1)  # (N, 3)
        self.vertices = tri.simplices[simplex]  # (N, 3)

    def source_positions(self, src: np.ndarray) -> np.ndarray:
        """(N, 2) source (x, y) of every output pixel."""
        src = np.asarray(src, dtype=np.float64)
        return np.einsum("nk,nkd->nd", self.weights, src[self.vertices])

    def warp(self, image: np.ndarray, src: np.ndarray, *, feather: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """``image`` (H', W', 3) warped so that its points ``src`` land on ``dst``: float32 (H, W, 3),
        and a (H, W, 1) weight: 1 where an output pixel comes from inside ``image``, falling to 0 over
        ``feather`` pixels outside it (1 everywhere when ``feather`` is 0)."""
        pos = self.source_positions(src)
        coords = [pos[:, 1], pos[:, 0]]
        out = np.empty((self.height * self.width, image.shape[2]), dtype=np.float32)
        for c in range(image.shape[2]):
            out[:, c] = map_coordinates(image[:, :, c].astype(np.float32), coords, order=1, mode="nearest")
        weight = np.ones(len(pos), dtype=np.float32)
        if feather > 0:
            h, w = image.shape[:2]
            inside = np.minimum.reduce([pos[:, 0], w - 1 - pos[:, 0], pos[:, 1], h - 1 - pos[:, 1]])  # < 0: outside
            weight = np.clip(1.0 + inside / feather, 0.0, 1.0).astype(np.float32)
        shape = (self.height, self.width)
        return out.reshape(*shape, image.shape[2]), weight.reshape(*shape, 1)


def cross_dissolve(a: np.ndarray, b: np.ndarray, weight_b: float | np.ndarray) -> np.ndarray:
    """``(1 - w) a + w b`` as uint8; ``w`` a number or a per-pixel (H, W, 1) array."""
    mixed = (1.0 - weight_b) * a.astype(np.float32) + weight_b * b.astype(np.float32)
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)
