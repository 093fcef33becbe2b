"""Effect sizes: the twin design sees a shape feature on landmarks and an appearance feature in pixels."""

from __future__ import annotations

import numpy as np

from rdface_hf.sim.effects import appearance_d, draw_twins, feature_effect, measure_images, paired_d
from rdface_hf.sim.simulate import Spec


def test_paired_d_is_the_mean_difference_over_the_spread():
    rng = np.random.default_rng(0)
    base = rng.normal(0.0, 2.0, 400)
    assert abs(paired_d(base + 1.0, base) - 0.5) < 0.08
    noise = rng.normal(0.0, 1.0, (400, 50))
    assert abs(appearance_d(noise + rng.normal(0, 0.01, noise.shape), noise)) < 0.5


def test_effects_see_shape_on_landmarks_and_appearance_in_pixels(bank, landmarker_model):
    from rdface_hf.dataset.landmarks import FaceLandmarker

    n = 8
    spec = Spec(0, 0.2, 0.0, 128)
    groups = [{}, {"hypertelorism": 1.3}, {"thick eyebrows": 1.5}]
    images = draw_twins(bank, spec, [(i, g) for g in groups for i in range(n)], workers=1)
    with FaceLandmarker() as lm:
        base, wide, brows = (measure_images(images[k * n : (k + 1) * n], lm) for k in range(3))
    eyes = feature_effect(wide, base, "telorism")
    assert eyes["d_landmarks"] > 1.0 and eyes["twins"] >= n - 1
    thick = feature_effect(brows, base, None)
    assert thick["d_landmarks"] is None and thick["d_appearance"] > 1.0
    assert abs(thick["d_crosstalk"]) < 1.0, "drawing brows moves no landmark much"
