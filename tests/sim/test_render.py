"""Rendering: intended landmarks, and a folding warp backed off."""

from __future__ import annotations

import numpy as np

from rdface_hf.sim.identities import build_bank
from rdface_hf.sim.render import render


def test_render_reports_intended_landmarks(measured):
    pts, r = measured["hypertelorism"]
    err = np.linalg.norm(pts - r.landmarks, axis=1)
    assert np.median(err) < 0.03 * 256


def test_render_backs_off_a_folding_warp(plain_identity, monkeypatch):
    from rdface_hf.sim import render as render_mod

    bank = build_bank(128)
    ident = plain_identity(bank)
    ok = render(bank, ident, {"hypertelorism": 1.5})
    assert ok.warp_scale == 1.0 and ok.min_jacobian > 0
    orig = render_mod.displacement_field

    def wild(anchors, severities):  # a field with a slope far above 1: folds unless scaled down
        return lambda p: orig(anchors, severities)(p) * 12.0

    monkeypatch.setattr(render_mod, "displacement_field", wild)
    folded = render(bank, ident, {"hypertelorism": 1.5})
    assert folded.warp_scale < 1.0 and folded.min_jacobian > 0
