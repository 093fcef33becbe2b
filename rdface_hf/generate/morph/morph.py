"""One morph: two faces aligned on their 478 landmarks, warped to one shape, cross-dissolved.

:func:`morph_pair` is a plain function of arrays (it runs in worker
processes); :class:`MorphInput` carries everything it needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .shapes import target_shape
from .warp import PiecewiseAffine, border_anchors, cross_dissolve, fit_similarity

FEATHER = 0.04  # of the image side: the fade where the second parent's aligned frame ends


@dataclass(frozen=True)
class MorphInput:
    """Parent A fixes the output frame and size; B is aligned to it.

    ``points_*``: (478, 2) pixel index coordinates of each parent's landmarks.
    ``mix``: B's weight in the cross-dissolve and, unless ``own_shape_only``,
    in the interpolated shape. ``own_shape_only``: the target shape is A's own
    (B lends identity, not geometry). ``condition_mean`` / ``deviation``: the
    condition's mean shape and its deviation from the population mean
    (unit-size frame, :class:`~.shapes.ShapeStats`).
    """

    pixels_a: np.ndarray
    points_a: np.ndarray
    pixels_b: np.ndarray
    points_b: np.ndarray
    mix: float
    condition_mean: np.ndarray
    deviation: np.ndarray
    toward_mean: float = 0.0
    caricature: float = 0.0
    own_shape_only: bool = False


def morph_target(job: MorphInput) -> np.ndarray:
    """The requested shape in A's frame (pixel index coordinates, (478, 2))."""
    b_in_a = fit_similarity(job.points_b, job.points_a)(job.points_b)
    base = job.points_a if job.own_shape_only else (1.0 - job.mix) * job.points_a + job.mix * b_in_a
    return target_shape(base, job.condition_mean, job.deviation, toward_mean=job.toward_mean, caricature=job.caricature)


def morph_pair(job: MorphInput) -> np.ndarray:
    """The morph, (H, W, 3) uint8 at parent A's size."""
    height, width = job.pixels_a.shape[:2]
    target = morph_target(job)
    anchors = border_anchors(width, height)
    a_to_b = fit_similarity(job.points_a, job.points_b)  # carries A's frame (and border) into B
    grid = PiecewiseAffine(np.concatenate([target, anchors]), height, width)
    warped_a, _ = grid.warp(job.pixels_a, np.concatenate([job.points_a, anchors]))
    # Where B's aligned frame leaves B's image, A alone shows (no smeared edge of B), feathered.
    feather = FEATHER * max(height, width)
    warped_b, inside_b = grid.warp(job.pixels_b, np.concatenate([job.points_b, a_to_b(anchors)]), feather=feather)
    return cross_dissolve(warped_a, warped_b, job.mix * inside_b)
