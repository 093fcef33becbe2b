"""Rendering: intended landmarks, the whole photo warped, a folding warp backed off, image nuisance."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rdface_hf.sim.render import render
from rdface_hf.sim.scene import frontal_scene, sample_scene
from rdface_hf.sim.style import apply_style, neutral_style, sample_style


@pytest.mark.parametrize("mirrored", [False, True])
def test_render_reports_intended_landmarks(bank, plain_identity, landmarker_model, mirrored):
    from rdface_hf.dataset.landmarks import FaceLandmarker

    ident = plain_identity(bank, mirrored=mirrored)
    r = render(bank, ident, replace(frontal_scene(), roll=8.0), {"hypertelorism": 1.0}, 256)
    with FaceLandmarker() as lm:
        found = lm.detect(r.pixels).pixels()
    assert np.median(np.linalg.norm(found - r.landmarks, axis=1)) < 0.03 * 256


def test_the_whole_photo_moves_with_the_head(bank, plain_identity):
    """A head turn changes hair and outline too, not only the inside of the face."""
    ident = plain_identity(bank)
    front = render(bank, ident, frontal_scene(), {}, 128)
    turned = render(bank, ident, replace(frontal_scene(), yaw=20.0), {}, 128)
    diff = np.abs(front.pixels.astype(float) - turned.pixels.astype(float)).mean(axis=2)
    top = diff[: int(front.landmarks[10, 1]) - 4]  # above the forehead landmark: hair and background
    assert top.mean() > 1.0 and turned.warp_scale > 0


def test_render_backs_off_a_folding_warp(bank, plain_identity, monkeypatch):
    from rdface_hf.sim import render as render_mod

    ident = plain_identity(bank)
    ok = render(bank, ident, frontal_scene(), {"hypertelorism": 1.5}, 128)
    assert ok.warp_scale == 1.0 and ok.min_jacobian > 0
    orig = render_mod.displacement_field

    def wild(anchors, severities):  # a field with a slope far above 1: folds unless scaled down
        return lambda p: orig(anchors, severities)(p) * 12.0

    monkeypatch.setattr(render_mod, "displacement_field", wild)
    folded = render(bank, ident, frontal_scene(), {"hypertelorism": 1.5}, 128)
    assert folded.warp_scale < 1.0 and folded.min_jacobian > 0


def test_nuisance_grows_with_the_level():
    rng = np.random.default_rng(0)
    calm = [sample_scene(rng, 0.0) for _ in range(200)]
    wild = [sample_scene(rng, 1.0) for _ in range(200)]
    assert np.std([s.yaw for s in wild]) > 3 * np.std([s.yaw for s in calm])
    styles = [sample_style(rng, 1.0, 256) for _ in range(300)]
    sides = [s.side for s in styles]
    assert min(sides) >= 96 and max(sides) <= 512 and max(sides) - min(sides) > 200
    assert any(s.greyscale for s in styles) and any(s.border > 0 for s in styles)
    assert len({s.quality for s in styles}) > 10
    pristine = sample_style(np.random.default_rng(1), 0.0, 256)
    assert pristine == replace(neutral_style(256), noise_seed=pristine.noise_seed), "difficulty 0: no nuisance"


def test_style_moves_the_landmarks_with_the_picture():
    img = np.zeros((100, 100, 3), np.uint8)
    img[40:60, 20:30] = 255
    lm = np.array([[25.0, 50.0]])
    style = replace(neutral_style(100), side=200, zoom=1.25, offset=(0.05, 0.0), border=0.05)
    out, moved = apply_style(img, lm, style)
    assert max(out.shape[:2]) == 200
    x, y = np.round(moved[0]).astype(int)
    assert out[y, x].mean() > 200, "the landmark still sits on the white patch"
