"""Features: visible, measured back from landmarks, free of cross-talk, fold-free."""

from __future__ import annotations

import numpy as np
import pytest

from rdface_hf.sim.features import AXES, FEATURES, apply_features, displacement_field, measure_features
from rdface_hf.sim.render import render, undeformed_shape
from rdface_hf.sim.scene import frontal_scene
from rdface_hf.sim.warp import jacobian_det


@pytest.fixture(scope="module")
def anchors(bank, plain_identity):
    return undeformed_shape(bank, plain_identity(bank))[:478, :2]


@pytest.fixture(scope="module")
def measured(bank, plain_identity, landmarker_model):
    """A plain frontal patient, rendered unaffected and with single features; re-detected landmarks."""
    from rdface_hf.dataset.landmarks import FaceLandmarker

    ident = plain_identity(bank)
    cases = ["hypertelorism", "hypotelorism", "long philtrum", "short philtrum", "wide mouth", "small mouth"]
    out = {}
    with FaceLandmarker() as lm:
        for name in [None, *cases]:
            r = render(bank, ident, frontal_scene(), {} if name is None else {name: 1.5}, 256)
            face = lm.detect(r.pixels)
            assert face is not None, name
            out[name] = (face.pixels(), r)
    return out


@pytest.mark.parametrize(
    "feature, opposite, axis",
    [
        ("hypertelorism", "hypotelorism", "telorism"),
        ("long philtrum", "short philtrum", "philtrum"),
        ("wide mouth", "small mouth", "mouth_width"),
    ],
)
def test_feature_measured_back_from_landmarks(measured, feature, opposite, axis):
    """Re-detected landmarks move as requested: same sign, 30-140 % of the size.

    MediaPipe's shape prior pulls landmarks towards an average face, so the
    recovered change is somewhat below the requested one.
    """
    base = measured[None][0]
    m0 = measure_features(base)[axis]
    for name, sign in ((feature, 1.0), (opposite, -1.0)):
        expected = measure_features(apply_features(base, {name: 1.5}))[axis] - m0
        got = measure_features(measured[name][0])[axis] - m0
        assert np.sign(expected) == sign
        assert np.sign(got) == sign, (name, got)
        assert 0.3 * abs(expected) <= abs(got) <= 1.4 * abs(expected), (name, got, expected)


@pytest.mark.parametrize(
    "feature, untouched",
    [
        ("broad nasal bridge", ("telorism", "fissure_length", "slant")),
        ("thin upper lip", ("philtrum", "midface", "mouth_width")),
        ("hypertelorism", ("bridge_width", "philtrum", "mouth_width")),
        ("short palpebral fissures", ("telorism", "bridge_width")),
        ("long philtrum", ("jaw", "mouth_width")),
    ],
)
def test_no_cross_talk_on_the_drawn_landmarks(anchors, feature, untouched):
    """A feature moves its own measure and leaves the others (on the landmarks as drawn)."""
    before = measure_features(anchors)
    after = measure_features(apply_features(anchors, {feature: 1.2}))
    own = AXES[FEATURES[feature].axis].measure
    change = {k: abs(after[k] - before[k]) / (abs(before[k]) + 1e-9) for k in before}
    assert change[own] > 0.05, (feature, change[own])
    for k in untouched:
        assert change[k] < 0.2 * change[own], (feature, k, change[k], change[own])


def test_appearance_features_move_no_landmark(anchors):
    for name, f in FEATURES.items():
        if AXES[f.axis].kind == "appearance":
            assert np.allclose(apply_features(anchors, {name: 1.5}), anchors), name


def test_every_feature_changes_the_picture(bank, plain_identity):
    ident = plain_identity(bank, hair_volume=0.6)  # ears out of the hair
    base = render(bank, ident, frontal_scene(), {}, 128).pixels.astype(np.float32)
    for name in FEATURES:
        img = render(bank, ident, frontal_scene(), {name: 1.3}, 128).pixels.astype(np.float32)
        assert np.abs(img - base).mean() > 0.05, name


def test_feature_fields_do_not_fold_at_full_severity(anchors):
    ys, xs = np.mgrid[-2.0:3.0:0.02, -2.0:2.0:0.02]
    grid = np.stack([xs, ys], axis=-1)
    for name, f in FEATURES.items():
        if AXES[f.axis].kind != "shape":
            continue
        for severity in (1.7, 0.3):
            field = displacement_field(anchors, {name: severity})
            mapped = grid + field(grid.reshape(-1, 2)).reshape(grid.shape)
            assert jacobian_det(mapped, 0.02).min() > 0.2, (name, severity)  # the renderer's MIN_JACOBIAN
        assert np.abs(mapped - grid).max() > 0.005, name  # and the feature does something
