"""The honest preview: real images of the release, beside their unaffected twins."""

from __future__ import annotations

import json

from PIL import Image

from rdface_hf.sim.bank import build_bank
from rdface_hf.sim.conditions import Condition
from rdface_hf.sim.simulate import Spec, draw_image
from rdface_hf.sim.style import decode_rgb


def test_preview_is_a_contact_sheet_of_the_release(small_release, assert_picture):
    with Image.open(small_release / "preview.png") as im:
        assert im.format == "PNG" and im.width >= 6 * 128 and im.height >= 3 * 128
    assert_picture(small_release / "preview.png")


def test_an_unaffected_twin_is_the_same_patient_without_the_features(landmarker_model):
    bank = build_bank()
    spec = Spec(3, 0.5, 0.0, 128)
    cond = Condition(number=1, features={"hypertelorism": 1.2, "thick eyebrows": 1.2})
    real = draw_image(bank, spec, cond, None, 5, 0)
    twin = draw_image(bank, spec, cond, None, 5, 0, affected=False)
    assert real["bytes"] != twin["bytes"]
    assert real["truth"]["identity"] == twin["truth"]["identity"] and real["truth"]["scene"] == twin["truth"]["scene"]
    assert set(twin["truth"]["features"].values()) == {0.0}
    a, b = decode_rgb(real["bytes"]).astype(float), decode_rgb(twin["bytes"]).astype(float)
    assert a.shape == b.shape and 1.0 < abs(a - b).mean() < 40.0, "same photo, different face"
    assert json.dumps(real["truth"])  # JSON-serialisable ground truth
