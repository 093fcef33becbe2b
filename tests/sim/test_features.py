"""Features: measured back from re-detected landmarks, and fold-free."""

from __future__ import annotations

import numpy as np
import pytest

from rdface_hf.sim.features import FEATURES, apply_features, displacement_field, measure_features
from rdface_hf.sim.identities import build_bank, identity_shape
from rdface_hf.sim.warp import jacobian_det


@pytest.mark.parametrize(
    "feature, opposite, axis",
    [
        ("hypertelorism", "hypotelorism", "telorism"),
        ("long philtrum", "short philtrum", "philtrum"),
        ("wide mouth", "small mouth", "mouth_width"),
    ],
)
def test_feature_measured_back_from_landmarks(measured, feature, opposite, axis):
    """Re-detected landmarks move as requested: same sign, 40-130 % of the size.

    MediaPipe's shape prior pulls landmarks towards an average face, so the
    recovered change is somewhat below the requested one (about 55-100 %).
    """
    base = measured["none"][0]
    m0 = measure_features(base)[axis]
    for name, sign in ((feature, 1.0), (opposite, -1.0)):
        sev = {name: 1.5}
        expected = measure_features(apply_features(base, sev))[axis] - m0
        got = measure_features(measured[name][0])[axis] - m0
        assert np.sign(expected) == sign
        assert np.sign(got) == sign, (name, got)
        assert 0.4 * abs(expected) <= abs(got) <= 1.3 * abs(expected), (name, got, expected)


def test_feature_fields_do_not_fold_at_full_severity(plain_identity):
    anchors = identity_shape(build_bank(128), plain_identity(build_bank(128)))
    ys, xs = np.mgrid[-2.0:3.0:0.02, -2.0:2.0:0.02]
    grid = np.stack([xs, ys], axis=-1)
    for name in FEATURES:
        field = displacement_field(anchors, {name: 1.7})
        mapped = grid + field(grid.reshape(-1, 2)).reshape(grid.shape)
        det = jacobian_det(mapped, 0.02)
        assert det.min() > 0.2, (name, det.min())  # the renderer's MIN_JACOBIAN
        assert np.abs(mapped - grid).max() > 0.01, name  # and the feature does something
