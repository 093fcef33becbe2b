"""Image normalisation: orientation, metadata stripping, modes, bombs, truncation."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from rdface_hf.dataset import images


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def asymmetric(w=40, h=20) -> Image.Image:
    arr = np.zeros((h, w, 3), np.uint8)
    arr[:, : w // 4] = (255, 0, 0)  # red band on the left
    return Image.fromarray(arr)


def test_exif_orientation_applied_and_all_metadata_stripped():
    im = asymmetric()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW when displayed
    exif[0x010F] = "CameraMaker"
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS IFD
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = encode(im, "JPEG", exif=exif.tobytes(), icc_profile=icc, quality=95)
    with Image.open(io.BytesIO(data)) as src:
        assert src.getexif().get(0x0112) == 6 and src.info.get("icc_profile")
    clean = images.load_clean(data)
    assert (clean.height, clean.width) == (40, 20), "EXIF orientation 6 swaps width and height"
    assert clean.pixels[:5, :, 0].mean() > 200, "the red band is now at the top"
    png = images.encode_png(clean.pixels)
    with Image.open(io.BytesIO(png)) as out:
        assert not out.getexif(), "no EXIF left"
        assert "icc_profile" not in out.info and "exif" not in out.info
        assert set(out.info) <= {"dpi", "gamma"} and not out.text


def test_png_text_chunks_stripped():
    from PIL import PngImagePlugin

    meta = PngImagePlugin.PngInfo()
    meta.add_text("Author", "someone")
    meta.add_text("Comment", "patient name")
    data = encode(asymmetric(), "PNG", pnginfo=meta)
    out = images.encode_png(images.load_clean(data).pixels)
    assert b"patient name" not in out and b"tEXt" not in out


@pytest.mark.parametrize(
    "mode",
    ["L", "LA", "RGBA", "P", "CMYK", "I;16", "1"],
)
def test_modes_become_8bit_rgb(mode):
    base = asymmetric().convert("RGB")
    if mode == "I;16":
        arr = np.asarray(base.convert("L"), dtype=np.uint16) * 257
        im = Image.fromarray(arr)
        fmt = "PNG"
    else:
        im = base.convert(mode)
        fmt = "JPEG" if mode == "CMYK" else "PNG"
    clean = images.load_clean(encode(im, fmt))
    assert clean.pixels.dtype == np.uint8 and clean.pixels.shape == (20, 40, 3)
    assert clean.source_mode == mode
    assert clean.greyscale == (mode in ("L", "LA", "I;16", "1"))
    if mode == "I;16":
        # 16-bit grey 76 * 257 scales back to 8-bit 76 (not clipped to 255)
        assert clean.pixels.max() == 76 and clean.pixels.min() == 0


def test_rgba_composited_on_white():
    arr = np.zeros((10, 10, 4), np.uint8)  # fully transparent black
    clean = images.load_clean(encode(Image.fromarray(arr, "RGBA"), "PNG"))
    assert (clean.pixels == 255).all()


def test_truncated_and_garbage_rejected():
    data = encode(asymmetric(200, 200), "JPEG")
    with pytest.raises(images.ImageRejected, match=r"truncated|unreadable"):
        images.load_clean(data[: len(data) // 2])
    with pytest.raises(images.ImageRejected, match="unreadable"):
        images.load_clean(b"not an image at all")
    with pytest.raises(images.ImageRejected, match="empty"):
        images.load_clean(b"")


@pytest.mark.parametrize("size", [(10_000, 5_001), (20_000, 20_000)])
def test_decompression_bomb_refused_from_header(png_header_only, size):
    with pytest.raises(images.ImageRejected, match="megapixels"):
        images.load_clean(png_header_only(*size))


def test_just_under_the_limit_is_not_a_bomb(png_header_only):
    # a header of 49.9 MP passes the size check and fails later for its missing data
    with pytest.raises(images.ImageRejected, match=r"unreadable|truncated"):
        images.load_clean(png_header_only(10_000, 4_990))


def test_hashes():
    a = np.asarray(asymmetric(64, 64))
    b = a.copy()
    b[0, 0, 0] ^= 1
    assert images.pixel_sha256(a) == images.pixel_sha256(a.copy())
    assert images.pixel_sha256(a) != images.pixel_sha256(b)
    # same pixels, different file formats: one pixel hash
    png = images.load_clean(encode(Image.fromarray(a), "PNG")).pixels
    bmp = images.load_clean(encode(Image.fromarray(a), "BMP")).pixels
    assert images.pixel_sha256(png) == images.pixel_sha256(bmp)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    y = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert images.hamming(images.perceptual_hash(x), images.perceptual_hash(x)) == 0
    assert images.hamming(images.perceptual_hash(x), images.perceptual_hash(y)) > images.NEAR_DUPLICATE_DISTANCE


def test_near_duplicate_pairs():
    pairs = images.near_duplicate_pairs([0b0, 0b1, 0b1111_1111_1111, 0b1], max_distance=1)
    assert pairs == [(0, 1, 1), (0, 3, 1), (1, 3, 0)]
    assert images.near_duplicate_pairs([5]) == []


def test_broken_icc_profile_is_noted_not_fatal():
    data = encode(asymmetric(), "PNG", icc_profile=b"\x00" * 200)
    clean = images.load_clean(data)
    assert clean.notes == ("unusable ICC colour profile ignored",)
    assert clean.pixels.shape == (20, 40, 3)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF", "BMP", "GIF", "WEBP", "MPO"])
def test_allowed_formats_load(fmt):
    im = asymmetric()
    kw = {"save_all": True, "append_images": [im]} if fmt == "MPO" else {}
    clean = images.load_clean(encode(im, fmt, **kw))
    assert clean.pixels.shape == (20, 40, 3)
    assert clean.source_format == fmt


@pytest.mark.parametrize("fmt", ["EPS", "PPM", "PCX", "ICO", "SGI", "JPEG2000", "QOI"])
def test_other_formats_are_refused_unopened(fmt, monkeypatch):
    from PIL import EpsImagePlugin

    data = encode(asymmetric() if fmt != "EPS" else asymmetric().convert("RGB"), fmt)
    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "load", lambda self: pytest.fail("EPS decoded (Ghostscript)"))
    with pytest.raises(images.ImageRejected, match=f"format {fmt} is not allowed"):
        images.load_clean(data)
    assert set(images.ALLOWED_FORMATS) == {"JPEG", "PNG", "TIFF", "BMP", "GIF", "WEBP"}
