"""The phenotype model (two-level Gaussian, PLDA) of the ``landmarks`` score, by hand and by property."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rdface_hf.filter.plda import PhenotypeModel


def test_log_ratio_by_hand():
    """One feature; condition 0 = {1, 3}, condition 1 = {-1, -3}.

    Means +-2, population mean 0, pooled within variance (1 + 1 + 1 + 1) / (4 - 2) = 2, so the
    whitened means are +-sqrt(2); their scatter (2 * 2 + 2 * 2) / 4 = 2 minus the noise it would
    have anyway, (2 - 1) / 4, gives the between variance lam = 1.75. For a face x = 2 of
    condition 0 (u = sqrt(2), n = 2): posterior variance v = lam / (n lam + 1) = 1.75 / 4.5,
    posterior mean n v sqrt(2); the log ratio is -1/2 [(u - mean)^2 / (1 + v) + log(1 + v)
    - u^2 / (1 + lam) - log(1 + lam)].
    """
    model = PhenotypeModel.fit(np.array([[1.0], [3.0], [-1.0], [-3.0]]), np.array([0, 0, 1, 1]), num_classes=3)
    assert model.between[0] == pytest.approx(1.75)
    u, lam, v = np.sqrt(2.0), 1.75, 1.75 / 4.5
    mean = 2 * v * np.sqrt(2.0)
    expected = -0.5 * ((u - mean) ** 2 / (1 + v) + np.log(1 + v) - u**2 / (1 + lam) - np.log(1 + lam))
    got = model.log_ratio(np.array([[2.0], [2.0], [2.0]]), np.array([0, 1, 2]))
    assert got[0] == pytest.approx(expected, rel=1e-12)
    assert expected > 0.5 > -0.5 > got[1]  # like its own condition, unlike the other
    assert np.isnan(got[2])  # condition 2 has no training face


def test_conditions_that_do_not_differ_get_no_weight():
    """A feature in which conditions do not differ beyond their faces' noise has lam = 0."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(20), 3)
    signal = np.repeat(rng.normal(0, 3, 20), 3) + rng.normal(0, 1, 60)  # conditions differ
    noise = np.zeros(60) + np.tile([-1.0, 0.0, 1.0], 20)  # identical condition means: only identity
    model = PhenotypeModel.fit(np.stack([signal, noise], axis=1), labels, num_classes=20)
    assert model.between.max() > 3.0 and model.between.min() == 0.0
    # moving a face along the noise-only feature leaves its log ratio nearly unchanged
    face = np.array([[signal[0], 0.0], [signal[0], 5.0]])
    a, b = model.log_ratio(face, np.array([0, 0]))
    assert abs(a - b) < 0.1 * abs(a)


def test_one_face_per_condition_carries_no_evidence():
    model = PhenotypeModel.fit(np.array([[0.0, 1.0], [2.0, 0.5], [5.0, 3.0]]), np.arange(3), num_classes=4)
    out = model.log_ratio(np.array([[1.0, 1.0]] * 4), np.arange(4))
    np.testing.assert_array_equal(out[:3], 0.0)  # identity and phenotype cannot be told apart
    assert np.isnan(out[3])
    with pytest.raises(ValueError, match="finite features"):
        PhenotypeModel.fit(np.array([[np.nan, 1.0]]), np.array([0]), num_classes=1)


@settings(max_examples=25, deadline=None)
@given(
    scale=st.lists(st.floats(0.01, 100.0), min_size=3, max_size=3),
    shift=st.lists(st.floats(-100.0, 100.0), min_size=3, max_size=3),
)
def test_units_of_each_feature_do_not_matter(scale, shift):
    """Features are standardised by their pooled within-condition spread: changing the unit or
    the origin of any feature (pixels, radians, ratios) changes no score."""
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(6), 4)
    x = np.repeat(rng.normal(0, 2, (6, 3)), 4, axis=0) + rng.normal(0, 1, (24, 3))
    query, qlabels = rng.normal(0, 2, (5, 3)), np.array([0, 1, 2, 3, 5])
    a = PhenotypeModel.fit(x, labels, 6).log_ratio(query, qlabels)
    s, t = np.array(scale), np.array(shift)
    b = PhenotypeModel.fit(x * s + t, labels, 6).log_ratio(query * s + t, qlabels)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
