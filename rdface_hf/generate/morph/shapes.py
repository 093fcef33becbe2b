"""Face-shape statistics of the training images, and the target shape of a morph.

All statistics come from the training split the caller passes (never the test
split): one generalised Procrustes alignment of every training face (2-D
pixel landmarks, so that non-square images keep their aspect) gives the
population mean shape; a condition's mean is the mean of its aligned faces,
and its *deviation* is that mean minus the population mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .warp import fit_similarity


@dataclass(frozen=True)
class ShapeStats:
    """Population mean (478, 2) and per-condition means (class index -> (478, 2)), unit-size frame."""

    population: np.ndarray
    conditions: dict[int, np.ndarray]

    def deviation(self, condition: int) -> np.ndarray:
        return self.conditions[condition] - self.population


def fit_shape_stats(shapes: list[np.ndarray], labels: list[int]) -> ShapeStats:
    """``shapes``: (478, 2) pixel landmarks of the training faces; ``labels``: their classes."""
    from ...dataset.procrustes import generalized_procrustes  # imports the dataset core: not in worker processes

    if not shapes:
        raise ValueError("no training face to fit shape statistics on")
    aligned, mean = generalized_procrustes(np.stack(shapes))
    labels_arr = np.asarray(labels)
    conditions = {int(c): aligned[labels_arr == c].mean(axis=0) for c in sorted(set(labels))}
    return ShapeStats(population=mean, conditions=conditions)


def target_shape(
    base: np.ndarray,
    condition_mean: np.ndarray,
    deviation: np.ndarray,
    *,
    toward_mean: float = 0.0,
    caricature: float = 0.0,
) -> np.ndarray:
    """The shape to warp to, in the frame of ``base`` (pixel index coordinates).

    ``base`` is the interpolated shape of the two parents. ``toward_mean``
    (0..1) moves it that fraction of the way to the condition's mean shape;
    ``caricature`` adds that multiple of the condition mean's deviation from
    the population mean (both from :class:`ShapeStats`, scaled and rotated into
    ``base``'s frame by the similarity that fits the condition mean onto it).
    """
    out = np.asarray(base, dtype=np.float64)
    if toward_mean == 0.0 and caricature == 0.0:
        return out.copy()
    to_base = fit_similarity(condition_mean, out)
    if toward_mean:
        out = (1.0 - toward_mean) * out + toward_mean * to_base(condition_mean)
    if caricature:
        out = out + caricature * to_base.linear(deviation)
    return out


def shape_distance(points: np.ndarray, target: np.ndarray) -> float:
    """Root-mean-square distance between two (N, 2) shapes after a similarity fit, in units of the
    target's size (its RMS radius): translation, rotation and scale do not count."""
    points, target = np.asarray(points, dtype=np.float64), np.asarray(target, dtype=np.float64)
    fitted = fit_similarity(points, target)(points)
    size = float(np.sqrt(((target - target.mean(axis=0)) ** 2).sum(axis=1).mean()))
    return float(np.sqrt(((fitted - target) ** 2).sum(axis=1).mean()) / size)
