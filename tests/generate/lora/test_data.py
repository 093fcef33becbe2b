"""Face crops of the training images."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from rdface_hf.generate.lora.data import crop_box, face_crop


def _marked(width: int, height: int) -> Image.Image:
    """An image whose pixel values encode their coordinates (x in R, y in G)."""
    xx, yy = np.meshgrid(np.arange(width), np.arange(height))
    pixels = np.stack([xx * 255 // max(1, width - 1), yy * 255 // max(1, height - 1), np.zeros_like(xx)], -1)
    return Image.fromarray(pixels.astype(np.uint8))


def test_crop_is_centred_on_the_face_box():
    image = _marked(200, 100)
    crop, used = face_crop(image, [0.6, 0.2, 0.8, 0.6], 64, 1.0)  # box 40 x 40 px around (140, 40)
    assert used and crop.size == (64, 64)
    centre = np.asarray(crop)[32, 32].astype(int)
    assert abs(centre[0] - 140 * 255 // 199) <= 4 and abs(centre[1] - 40 * 255 // 99) <= 6


def test_without_a_box_the_centre_square():
    image = _marked(200, 100)
    for box in (None, [float("nan")] * 4, [0.5, 0.5, 0.4, 0.6]):
        crop, used = face_crop(image, box, 32, 1.5)
        assert not used and crop.size == (32, 32)
        assert abs(int(np.asarray(crop)[16, 16, 0]) - 127) <= 6


@settings(max_examples=40, deadline=None)
@given(
    w=st.integers(8, 300), h=st.integers(8, 300),
    x0=st.floats(-0.5, 1.5), y0=st.floats(-0.5, 1.5), bw=st.floats(0.001, 2.0), bh=st.floats(0.001, 2.0),
    margin=st.floats(1.0, 4.0),
)  # fmt: skip
def test_crop_is_always_a_square_inside_the_image(w, h, x0, y0, bw, bh, margin):
    left, top, side, used = crop_box(w, h, [x0, y0, x0 + bw, y0 + bh], margin)
    assert used and 1 <= side <= min(w, h)
    assert 0 <= left <= w - side and 0 <= top <= h - side
    # the box's centre stays in the crop whenever the crop could hold it
    cx, cy = (x0 + bw / 2) * w, (y0 + bh / 2) * h
    if 0 <= cx <= w and 0 <= cy <= h:
        assert left - 1 <= cx <= left + side + 1 and top - 1 <= cy <= top + side + 1
