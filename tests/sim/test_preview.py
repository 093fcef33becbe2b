"""The contact sheet."""

from __future__ import annotations

from PIL import Image


def test_preview_is_a_contact_sheet(small_release):
    with Image.open(small_release / "preview.png") as im:
        assert im.format == "PNG" and im.width > im.height / 2 and im.width >= 4 * 128
