"""Similarity fits, the piecewise affine warp and the cross-dissolve."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rdface_hf.generate.morph.shapes import shape_distance, target_shape
from rdface_hf.generate.morph.warp import (
    PiecewiseAffine,
    border_anchors,
    cross_dissolve,
    fit_similarity,
    to_index_coords,
)


def _points(seed: int, n: int = 40, size: float = 64.0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(8, size - 8, size=(n, 2))


@settings(max_examples=40, deadline=None)
@given(
    scale=st.floats(0.3, 3.0),
    angle=st.floats(-3.0, 3.0),
    shift=st.tuples(st.floats(-50, 50), st.floats(-50, 50)),
    seed=st.integers(0, 10_000),
)
def test_similarity_is_recovered(scale, angle, shift, seed):
    src = _points(seed)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    dst = scale * src @ rotation.T + np.array(shift)
    fit = fit_similarity(src, dst)
    assert np.allclose(fit(src), dst, atol=1e-6)
    assert np.allclose(fit.inverse()(dst), src, atol=1e-6)
    assert shape_distance(src, dst) < 1e-9  # similarity-invariant


def test_identity_warp_returns_the_image():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, size=(48, 64, 3)).astype(np.uint8)
    pts = np.concatenate([_points(1, 30, 48), border_anchors(64, 48)])
    out, weight = PiecewiseAffine(pts, 48, 64).warp(image, pts)
    assert out.shape == (48, 64, 3) and (weight == 1).all()
    assert np.abs(out - image).max() < 1e-3


def test_translation_warp_shifts_the_image():
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, size=(40, 40, 3)).astype(np.uint8)
    dst = np.concatenate([_points(3, 30, 40), border_anchors(40, 40)])
    src = dst + np.array([3.0, 0.0])  # every output pixel comes from 3 px to its right
    out, inside = PiecewiseAffine(dst, 40, 40).warp(image, src, feather=2.0)
    assert np.abs(out[:, :-3] - image[:, 3:]).max() < 1e-3
    assert (inside[:, :-3] == 1).all()  # every pixel that comes from inside the image
    assert inside[5, -3, 0] == 0.5 and inside[5, -2, 0] == 0  # 1 and 2 px outside: feathered over 2 px


def test_border_anchors_enclose_the_grid():
    anchors = border_anchors(30, 20)
    assert anchors[:, 0].min() < 0 and anchors[:, 0].max() >= 30 - 0.5
    assert anchors[:, 1].min() < 0 and anchors[:, 1].max() >= 20 - 0.5
    assert len(np.unique(anchors, axis=0)) == len(anchors)


def test_cross_dissolve_and_index_coordinates():
    a, b = np.zeros((2, 2, 3), np.uint8), np.full((2, 2, 3), 200, np.uint8)
    assert (cross_dissolve(a, b, 0.25) == 50).all()
    per_pixel = np.array([[[0.0], [0.5]], [[1.0], [0.25]]])
    assert cross_dissolve(a, b, per_pixel)[..., 0].tolist() == [[0, 100], [200, 50]]
    pts = to_index_coords(np.array([[0.5, 0.25, 0.1]]), 100, 40)
    assert np.allclose(pts, [[49.5, 9.5]])


def test_target_shape_moves_toward_the_mean_and_away_for_a_caricature():
    base = _points(4)
    mean = _points(5)
    deviation = np.random.default_rng(6).normal(size=base.shape) * 0.01
    assert np.allclose(target_shape(base, mean, deviation), base)
    full = target_shape(base, mean, deviation, toward_mean=1.0)
    assert shape_distance(full, mean) < 1e-9
    half = target_shape(base, mean, deviation, toward_mean=0.5)
    assert shape_distance(half, mean) < shape_distance(base, mean)
    caricature = target_shape(base, mean, deviation, caricature=2.0)
    assert shape_distance(caricature, base) > 0
