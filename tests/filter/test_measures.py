"""Facial measures of the ``landmarks`` score: hand-made faces, pose invariance, no-face rows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rdface_hf.filter.measures import MEASURE_NAMES, MEASURES, facial_measures, pose_normalised

R_OUT, R_IN, L_IN, L_OUT, R_MOUTH, L_MOUTH = 33, 133, 362, 263, 61, 291


def hand_face(inner=1.0, outer=3.0, drop=0.0, mouth=2.0) -> np.ndarray:
    """A mean-like face of 478 points on a fixed cloud, with the canthi and mouth corners placed by hand:
    inner canthi at x = +-inner / 2, outer at +-outer / 2 (y = 0; the outer ones ``drop`` lower),
    mouth corners at x = +-mouth / 2, y = 2."""
    pts = np.random.default_rng(5).uniform(-2.0, 2.0, size=(478, 3))
    pts[[R_IN, L_IN], :2] = [(-inner / 2, 0.0), (inner / 2, 0.0)]
    pts[[R_OUT, L_OUT], :2] = [(-outer / 2, drop), (outer / 2, drop)]
    pts[[R_MOUTH, L_MOUTH], :2] = [(-mouth / 2, 2.0), (mouth / 2, 2.0)]
    return pts


def col(name: str) -> int:
    return MEASURE_NAMES.index(name)


def test_measures_by_hand():
    m = facial_measures(np.stack([hand_face(), hand_face(drop=0.5)]) * 40.0)
    assert m.shape == (2, len(MEASURES)) and np.isfinite(m).all()
    # ratios are scale-free: inner / outer canthal = 1 / 3, mouth / outer = 2 / 3
    assert m[0, col("inner_canthal")] / m[0, col("outer_canthal")] == pytest.approx(1 / 3)
    assert m[0, col("mouth_width")] / m[0, col("outer_canthal")] == pytest.approx(2 / 3)
    assert m[0, col("slant")] == pytest.approx(0.0, abs=1e-12)
    # outer canthi 0.5 below, 1 away from the inner ones (along x): slant -atan(0.5), the eye line
    # (through each eye's mean) is still level
    assert m[1, col("slant")] == pytest.approx(-np.arctan(0.5))
    assert m[1, col("fissure_length")] / m[1, col("inner_canthal")] == pytest.approx(np.hypot(1.0, 0.5))


def test_wider_eyes_change_eye_measures_only():
    base, wide = facial_measures(np.stack([hand_face(inner=1.0, outer=3.0), hand_face(inner=1.4, outer=3.4)]))
    assert wide[col("inner_canthal")] > base[col("inner_canthal")] * 1.3
    # mouth width moves only through the face size (a few points moved): much less
    assert abs(wide[col("mouth_width")] / base[col("mouth_width")] - 1) < 0.02


@settings(max_examples=25, deadline=None)
@given(
    angle=st.floats(-0.6, 0.6),
    scale=st.floats(0.2, 50.0),
    dx=st.floats(-500.0, 500.0),
    dy=st.floats(-500.0, 500.0),
)
def test_measures_ignore_roll_scale_and_position(angle, scale, dx, dy):
    face = hand_face(drop=0.3)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    moved = face.copy()
    moved[:, :2] = face[:, :2] @ rot.T * scale + (dx, dy)
    np.testing.assert_allclose(facial_measures(moved[None]), facial_measures(face[None]), rtol=1e-7, atol=1e-9)


def test_pose_normalised_frame():
    q = pose_normalised(hand_face()[None] * 3.0 + 7.0)[0]
    eyes = 0.5 * (q[[R_OUT, R_IN]].mean(axis=0) + q[[L_OUT, L_IN]].mean(axis=0))
    np.testing.assert_allclose(eyes, 0.0, atol=1e-12)  # origin between the eyes
    assert np.sqrt(((q - q.mean(axis=0)) ** 2).sum(axis=1).mean()) == pytest.approx(1.0)  # unit face size


def test_no_face_and_degenerate_rows_are_nan():
    points = np.stack([hand_face(), np.full((478, 3), np.nan), np.zeros((478, 3))])
    m = facial_measures(points)
    assert np.isfinite(m[0]).all() and np.isnan(m[1]).all() and np.isnan(m[2]).all()
