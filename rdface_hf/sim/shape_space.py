"""A shape space of face proportions from scikit-image's LFW subset.

The shape space is a PCA of the Procrustes-aligned landmarks that MediaPipe
finds on the LFW subset (the first 100 of its images are 25x25 grey faces;
about 91 give landmarks after bicubic upscaling), symmetrised and smoothed, in
face-frame units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..dataset.geometry import face_frame, in_face_frame, mirror_index, symmetrise
from ..dataset.procrustes import generalized_procrustes

SHAPE_COMPONENTS = 10


@dataclass(frozen=True)
class ShapeSpace:
    """Principal modes of face-shape variation, in face-frame units."""

    components: np.ndarray  # (k, 478, 2), unit norm
    sds: np.ndarray  # (k,) standard deviation of each coefficient


def lfw_shapes(landmarker, count: int = 100, upscale: int = 200) -> np.ndarray:
    """(M, 478, 2) face-frame landmarks of the LFW subset faces MediaPipe finds."""
    from skimage import data as skimage_data  # heavy: kept out of the rendering workers

    shapes = []
    for face in skimage_data.lfw_subset()[:count]:
        im = Image.fromarray(np.clip(np.rint(face * 255), 0, 255).astype(np.uint8)).resize(
            (upscale, upscale), Image.BICUBIC
        )
        found = landmarker.detect(np.asarray(im.convert("RGB")))
        if found is not None:
            shapes.append(in_face_frame(found.pixels()))
    return np.stack(shapes)


def smooth_deviations(shapes: np.ndarray, degree: int = 4) -> np.ndarray:
    """Project each shape's deviation from the mean onto smooth polynomials.

    Landmarks found on 25-pixel faces are noisy point by point; only their
    smooth part (proportions) is kept, which also keeps every warp fold-free.
    """
    mean = shapes.mean(axis=0)
    x, y = mean[:, 0], mean[:, 1] - 0.5
    basis = np.stack([x**i * y**j for i in range(degree + 1) for j in range(degree + 1 - i)], axis=1)
    dev = (shapes - mean).transpose(1, 0, 2).reshape(len(mean), -1)
    coef, *_ = np.linalg.lstsq(basis, dev, rcond=None)
    smooth = (basis @ coef).reshape(len(mean), len(shapes), 2).transpose(1, 0, 2)
    return mean + smooth


def shape_space(shapes: np.ndarray, k: int = SHAPE_COMPONENTS) -> ShapeSpace:
    """PCA of Procrustes-aligned, symmetrised, smoothed shapes, in face-frame units.

    Symmetrising keeps identity (proportions) and drops head turn, which is
    drawn separately as pose.
    """
    aligned, mean = generalized_procrustes(shapes)
    frame = face_frame(mean)
    aligned = np.stack([frame.to_frame(a) for a in aligned])
    aligned = smooth_deviations(symmetrise(aligned, mirror_index(aligned.mean(axis=0))))
    flat = aligned.reshape(len(aligned), -1)
    centred = flat - flat.mean(axis=0)
    _, sing, vt = np.linalg.svd(centred, full_matrices=False)
    k = min(k, len(sing))
    sds = sing[:k] / np.sqrt(max(1, len(flat) - 1))
    comps = vt[:k].reshape(k, -1, 2)
    # fix each mode's sign so the space does not depend on the SVD's sign choice
    signs = np.sign(comps.reshape(k, -1)[np.arange(k), np.abs(comps.reshape(k, -1)).argmax(axis=1)])
    return ShapeSpace(components=comps * signs[:, None, None], sds=sds)
