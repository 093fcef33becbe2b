"""Condition landmark prototypes: how a pooled (unconditional) FastGAN labels its samples.

At training time, the training faces' 2-D landmarks (in pixels, so that the
aspect is kept) are Procrustes-aligned to their mean (the *template*); a
condition's prototype is the mean of its aligned faces. A sample is labelled
with the condition whose prototype is nearest to its own aligned landmarks
(the paper's authors used class landmark means the same way, but over every
image, test included; here only the training split's).
"""

from __future__ import annotations

import numpy as np

from ...dataset.geometry import NUM_LANDMARKS
from ...dataset.procrustes import generalized_procrustes, procrustes_align


def fit_prototypes(points: list[np.ndarray | None], labels: list[int], num_classes: int):
    """``(template (478, 2), prototypes (num_classes, 478, 2))``, NaN for a class without a face."""
    faces = [i for i, p in enumerate(points) if p is not None]
    prototypes = np.full((num_classes, NUM_LANDMARKS, 2), np.nan)
    if not faces:
        return np.zeros((NUM_LANDMARKS, 2)), prototypes
    aligned, template = generalized_procrustes(np.stack([points[i] for i in faces]))
    faced = np.asarray([labels[i] for i in faces])
    for c in sorted(set(faced.tolist())):
        prototypes[c] = aligned[faced == c].mean(axis=0)
    return template, prototypes


def nearest_prototype(points: np.ndarray, template: np.ndarray, prototypes: np.ndarray, allowed) -> tuple[int, float]:
    """The class in ``allowed`` whose prototype is nearest (RMS over landmarks) to ``points``
    (478, 2) once aligned to ``template``; ``(-1, inf)`` when no allowed class has a prototype."""
    aligned = procrustes_align(np.asarray(points, dtype=np.float64)[:, :2], template)
    best, best_d = -1, float("inf")
    for c in allowed:
        if np.isnan(prototypes[c]).any():
            continue
        d = float(np.sqrt(((aligned - prototypes[c]) ** 2).sum(axis=1).mean()))
        if d < best_d:
            best, best_d = int(c), d
    return best, best_d
