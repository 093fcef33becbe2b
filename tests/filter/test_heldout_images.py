"""Filter and merge look at the images: held-out images refused whatever the provenance says,
metadata stripped, provenance fields strict (issue 17 §3-4)."""

from __future__ import annotations

import hashlib
import io
import json

import datasets
import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from rdface_hf._errors import InputError
from rdface_hf.dataset import RDFaceDataset
from rdface_hf.dataset.synthetic import SyntheticSetWriter, synthetic_card
from rdface_hf.filter.config import FilterConfig, MergeConfig
from rdface_hf.filter.merge import merge
from rdface_hf.filter.run import filter_synthetic


def _row(data: bytes, label: int, seed: int, **kw) -> dict:
    row = {
        "image": {"bytes": data, "path": None}, "image_id": hashlib.sha256(data).hexdigest(), "condition": label,
        "generator": "simulate", "source": "sim", "prompt": "", "seed": seed, "params": "{}", "parent_ids": [],
        "trained_on": "none",
    }  # fmt: skip
    row.update(kw)
    return row


def write_rows(folder, classes, rows, extra_features=None):
    writer = SyntheticSetWriter(folder, classes, extra_features=extra_features)
    for row in rows:
        writer.add(row)
    writer.finish(synthetic_card(title="t", description="t", generator="simulate", source_dataset="toy"))
    return folder


def held_out_bytes(dataset, split: str, fold: int | None = None) -> list[tuple[bytes, int]]:
    ds = RDFaceDataset(dataset)
    rows = (ds.test if split == "test" else ds.split(split, fold)).cast_column("image", datasets.Image(decode=False))
    return [(im["bytes"], int(c)) for im, c in zip(rows["image"], rows["condition"])]


def own_images(toy, n: int = 6) -> list[tuple[bytes, int]]:
    return [(toy.png(toy.picture(k % 3, 70000 + k)), k % 3) for k in range(n)]


def near_copy(data: bytes) -> bytes:
    """The same picture at twice the size: other bytes, other pixels, the same perceptual hash."""
    with Image.open(io.BytesIO(data)) as im:
        big = im.convert("RGB").resize((im.width * 2, im.height * 2), Image.NEAREST)
    buf = io.BytesIO()
    big.save(buf, format="PNG")
    return buf.getvalue()


def _filter(dataset, synthetic, out, landmarker, **kw):
    config = FilterConfig(dataset=str(dataset), synthetic=str(synthetic), output_dir=str(out), progress=False, **kw)
    return filter_synthetic(config, landmarker=landmarker)


def _merge(dataset, synthetic, out, **kw):
    return merge(
        MergeConfig(dataset=str(dataset), synthetic=str(synthetic), output_dir=str(out), unfiltered=True, **kw)
    )


@pytest.mark.parametrize("copy", ["verbatim", "near-duplicate"])
def test_test_images_declared_simulated_are_refused_by_filter_and_merge(filter_inputs, tmp_path, toy, copy):
    """The leak test: test images with the most innocent provenance (simulate, no parents) never go on."""
    dataset, _, landmarker = filter_inputs
    leaked = [(d if copy == "verbatim" else near_copy(d), c) for d, c in held_out_bytes(dataset, "test")]
    rows = [_row(d, c, k) for k, (d, c) in enumerate(own_images(toy) + leaked)]
    synthetic = write_rows(tmp_path / "set", toy.CLASSES, rows)
    for fold in ("0", "test"):
        with pytest.raises(InputError, match=r"6 synthetic image\(s\) are held-out .*test image rdf-te"):
            _filter(dataset, synthetic, tmp_path / f"f{fold}", landmarker, fold=fold)
        with pytest.raises(InputError, match=r"6 synthetic image\(s\) are held-out .*test image rdf-te"):
            _merge(dataset, synthetic, tmp_path / f"m{fold}", fold=fold)
        assert not (tmp_path / f"f{fold}").exists() and not (tmp_path / f"m{fold}").exists()
    clean = write_rows(tmp_path / "clean", toy.CLASSES, [_row(d, c, k) for k, (d, c) in enumerate(own_images(toy))])
    assert _merge(dataset, clean, tmp_path / "ok").synthetic == 6  # the same set without the leak goes on


def test_validation_images_are_refused_for_their_fold_only(filter_inputs, tmp_path, toy):
    dataset, _, _ = filter_inputs
    rows = [_row(d, c, k) for k, (d, c) in enumerate(held_out_bytes(dataset, "validation", 0)[:2])]
    synthetic = write_rows(tmp_path / "set", toy.CLASSES, rows)
    with pytest.raises(InputError, match="fold 0 validation image rdf-va"):
        _merge(dataset, synthetic, tmp_path / "m0", fold="0")
    assert _merge(dataset, synthetic, tmp_path / "mt", fold="test").synthetic == 2  # training images of the final model


def _exif_jpeg(pixels: np.ndarray) -> bytes:
    exif = Image.Exif()
    exif[0x013B] = "Dr. Artist MRN 12345"  # Artist
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 0.0)}  # GPS
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", exif=exif, quality=95)
    return buf.getvalue()


def _text_png(pixels: np.ndarray) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "Patient: Jane Doe, born 2019")
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", pnginfo=info)
    return buf.getvalue()


def _output_images(folder) -> list[bytes]:
    rows = datasets.load_dataset(str(folder), split="train").cast_column("image", datasets.Image(decode=False))
    return [im["bytes"] for im, synthetic in zip(rows["image"], rows["is_synthetic"] if "is_synthetic" in
                                                 rows.column_names else [True] * len(rows)) if synthetic]  # fmt: skip


def test_filter_and_merge_re_encode_without_metadata(filter_inputs, tmp_path, toy):
    dataset, _, landmarker = filter_inputs
    pixels = [toy.picture(k % 3, 80000 + k) for k in range(4)]
    raw = [_exif_jpeg(pixels[0]), _exif_jpeg(pixels[1]), _text_png(pixels[2]), _text_png(pixels[3])]
    assert b"Patient:" in raw[2] and b"MRN 12345" in raw[0]
    synthetic = write_rows(tmp_path / "set", toy.CLASSES, [_row(d, k % 3, k) for k, d in enumerate(raw)])
    _filter(dataset, synthetic, tmp_path / "filtered", landmarker)
    _merge(dataset, synthetic, tmp_path / "merged")
    for out in (tmp_path / "filtered", tmp_path / "merged"):
        images = _output_images(out)
        assert len(images) == 4
        for data in images:
            assert b"Patient" not in data and b"MRN" not in data and b"Exif" not in data
            with Image.open(io.BytesIO(data)) as im:
                assert im.format == "PNG" and not im.info and not im.getexif()
        ids = datasets.load_dataset(str(out), split="train")["image_id"]
        assert {hashlib.sha256(d).hexdigest() for d in images} <= set(ids)  # image_id follows the new bytes


@pytest.mark.parametrize("tag", ["٠", " 0", "TEST", "00", "fold_7", "fold_-1", "fold_0 "])
def test_trained_on_is_read_strictly(filter_inputs, tmp_path, toy, tag):
    dataset, _, _ = filter_inputs
    rows = [_row(d, c, k, generator="morph", trained_on=tag) for k, (d, c) in enumerate(own_images(toy, 2))]
    synthetic = write_rows(tmp_path / "set", toy.CLASSES, rows)
    with pytest.raises(InputError, match="trained_on"):
        _merge(dataset, synthetic, tmp_path / "m")


def test_kept_must_be_boolean_and_score_numeric(filter_inputs, tmp_path, toy):
    dataset, _, _ = filter_inputs
    kept = [_row(d, c, k, kept="False") for k, (d, c) in enumerate(own_images(toy, 2))]
    synthetic = write_rows(tmp_path / "kept", toy.CLASSES, kept, {"kept": datasets.Value("string")})
    with pytest.raises(InputError, match="'kept' must be boolean"):
        merge(MergeConfig(dataset=str(dataset), synthetic=str(synthetic), output_dir=str(tmp_path / "m")))
    score = [_row(d, c, k, kept=True, score="high") for k, (d, c) in enumerate(own_images(toy, 2))]
    features = {"kept": datasets.Value("bool"), "score": datasets.Value("string")}
    synthetic = write_rows(tmp_path / "score", toy.CLASSES, score, features)
    with pytest.raises(InputError, match="'score' must be numbers"):
        merge(MergeConfig(dataset=str(dataset), synthetic=str(synthetic), output_dir=str(tmp_path / "m")))
    assert not (tmp_path / "m").exists()
    json.dumps(score[0]["params"])  # the rows stay plain data


def test_detection_decodes_in_chunks_of_bounded_size(monkeypatch, toy):
    from rdface_hf.filter import detect

    monkeypatch.setattr(detect, "MAX_CHUNK_BYTES", 3 * 32 * 32 * 3)  # three 32x32 RGB images
    images = [{"bytes": toy.png(toy.picture(k % 3, 90000 + k)), "path": None} for k in range(7)]
    keys = [str(k) for k in range(7)]
    parts = detect.chunks(keys, images, {k: [i] for i, k in enumerate(keys)})
    assert [len(p) for p in parts] == [3, 3, 1] and [k for p in parts for k in p] == keys


def test_a_png_bomb_is_refused_from_its_header(filter_inputs, tmp_path, toy):
    """A small PNG that declares 10000 x 10000 pixels: refused before its pixels are decoded."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    side = 10_000
    raw = zlib.compress(b"".join(b"\0" + bytes(side) for _ in range(side)), 9)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
    bomb += chunk(b"IDAT", raw) + chunk(b"IEND", b"")
    assert len(bomb) < 200_000
    dataset, _, landmarker = filter_inputs
    synthetic = write_rows(tmp_path / "bomb", toy.CLASSES, [_row(bomb, 0, 0)])
    with pytest.raises(InputError, match="megapixels"):
        _merge(dataset, synthetic, tmp_path / "m")
    with pytest.raises(InputError, match="megapixels"):
        _filter(dataset, synthetic, tmp_path / "f", landmarker)
