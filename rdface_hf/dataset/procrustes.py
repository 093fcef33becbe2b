"""Procrustes alignment of landmark sets: one shape onto another, and many onto their mean."""

from __future__ import annotations

import numpy as np


def _normalise(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    pts = np.asarray(points, dtype=np.float64)
    centroid = pts.mean(axis=0)
    centred = pts - centroid
    scale = float(np.sqrt((centred**2).sum()))
    if scale == 0.0:
        raise ValueError("cannot align a degenerate landmark set (all points equal)")
    return centred / scale, centroid, scale


def procrustes_align(points: np.ndarray, reference: np.ndarray, *, scaling: bool = True) -> np.ndarray:
    """Align ``points`` (N, d) to ``reference`` (N, d) by translation, rotation
    (no reflection) and, with ``scaling``, uniform scale; returned in the
    reference's frame. Works for 2-D and 3-D landmark sets.
    """
    x, _, x_scale = _normalise(points)
    y, y_centroid, y_scale = _normalise(reference)
    if x.shape != y.shape:
        raise ValueError(f"shape mismatch: {x.shape} vs {y.shape}")
    u, s, vt = np.linalg.svd(x.T @ y)
    d = np.ones(len(s))
    d[-1] = np.sign(np.linalg.det(u @ vt)) or 1.0
    rotation = (u * d) @ vt
    aligned = x @ rotation
    if scaling:
        aligned = aligned * float((s * d).sum())  # optimal scale onto unit-norm y
        return aligned * y_scale + y_centroid
    return aligned * x_scale + y_centroid


def generalized_procrustes(
    shapes: np.ndarray, *, iterations: int = 10, tol: float = 1e-9
) -> tuple[np.ndarray, np.ndarray]:
    """Align a stack of shapes (M, N, d) to their mean; returns (aligned, mean).

    Aligned shapes live in a unit-size, centred frame, so they can be compared
    or fed to a classifier directly.
    """
    shapes = np.asarray(shapes, dtype=np.float64)
    if shapes.ndim != 3 or len(shapes) == 0:
        raise ValueError(f"expected (M, N, d) shapes, got {shapes.shape}")
    mean, _, _ = _normalise(shapes[0])
    aligned = shapes
    for _ in range(iterations):
        aligned = np.stack([procrustes_align(s, mean) for s in shapes])
        new_mean, _, _ = _normalise(aligned.mean(axis=0))
        new_mean = procrustes_align(new_mean, mean)
        new_mean, _, _ = _normalise(new_mean)
        if np.abs(new_mean - mean).max() < tol:
            mean = new_mean
            break
        mean = new_mean
    aligned = np.stack([procrustes_align(s, mean) for s in shapes])
    return aligned, mean
