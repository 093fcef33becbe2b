"""Procrustes alignment: one shape onto another, and many onto their mean."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rdface_hf.dataset.procrustes import generalized_procrustes, procrustes_align


def random_rotation(rng, d):
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    q *= np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10_000), d=st.sampled_from([2, 3]), scale=st.floats(0.1, 10.0))
def test_procrustes_recovers_similarity_transform(seed, d, scale):
    rng = np.random.default_rng(seed)
    ref = rng.normal(size=(30, d))
    moved = scale * ref @ random_rotation(rng, d) + rng.normal(size=d) * 5
    np.testing.assert_allclose(procrustes_align(moved, ref), ref, atol=1e-8)
    unscaled = procrustes_align(moved, ref, scaling=False)
    assert np.isclose(np.linalg.norm(unscaled - unscaled.mean(0)), scale * np.linalg.norm(ref - ref.mean(0)))


def test_procrustes_does_not_reflect():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(20, 2))
    mirrored = ref * np.array([-1.0, 1.0])
    assert np.abs(procrustes_align(mirrored, ref) - ref).max() > 0.1


def test_generalized_procrustes_removes_pose():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 3))
    shapes = np.stack([rng.uniform(0.5, 2) * base @ random_rotation(rng, 3) + rng.normal(size=3) for _ in range(6)])
    aligned, mean = generalized_procrustes(shapes)
    assert aligned.shape == shapes.shape
    assert np.abs(aligned - aligned[0]).max() < 1e-6
    assert np.isclose(np.linalg.norm(mean), 1.0)
    with pytest.raises(ValueError):
        procrustes_align(np.zeros((5, 2)), base[:5, :2])
