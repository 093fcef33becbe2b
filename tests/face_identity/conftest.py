"""Fixtures of the face-identity tests: the real dlib model on simulated builds and real faces.

``planted`` writes a synthetic set of exact, flipped, re-compressed copies of chosen real
images beside distinct real faces (LFW); ``poisoned_copy`` copies a build and replaces the
pixels of its test split, so a test can show that nothing a leak-free stage writes changes.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image


def pixels(cell) -> np.ndarray:
    raw = cell["bytes"] if isinstance(cell, dict) else cell
    with Image.open(io.BytesIO(raw)) as im:
        return np.asarray(im.convert("RGB"))


def jpeg(px: np.ndarray, quality: int = 60) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(px).save(buf, format="JPEG", quality=quality)
    return pixels(buf.getvalue())


def real_rows(build: Path, split: str, fold: int | None = 0):
    import datasets

    from rdface_hf.dataset import RDFaceDataset

    rows = RDFaceDataset(build).split(split, fold if split != "test" else None)
    return rows.cast_column("image", datasets.Image(decode=False))


def write_set(folder: Path, class_names, items) -> Path:
    """``items``: ``(pixels, condition, kind)``; ``kind`` goes to ``source``."""
    from rdface_hf.dataset.synthetic import SyntheticImage, SyntheticSetWriter, synthetic_card

    writer = SyntheticSetWriter(folder, class_names)
    for k, (px, label, kind) in enumerate(items):
        writer.add(SyntheticImage(image=px, condition=int(label), generator="morph", source=kind, seed=k,
                                  trained_on="fold_0"))  # fmt: skip
    writer.finish(synthetic_card(title="t", description="t", generator="morph", source_dataset="sim", gated=False))
    return folder


@pytest.fixture(scope="session")
def planted(sim_build, distinct_faces, tmp_path_factory):
    """A set of 3 exact + 2 flipped + 2 re-compressed copies of fold 0's training images, 1 exact
    copy of a test image, and 6 distinct real faces; returns (folder, kinds, copied ids)."""
    from rdface_hf.dataset import RDFaceDataset

    names = RDFaceDataset(sim_build).class_names
    train = real_rows(sim_build, "train")
    test = real_rows(sim_build, "test")
    items, ids = [], []
    for j, make, kind in [(0, None, "exact"), (3, None, "exact"), (6, None, "exact"), (9, "flip", "flip"),
                          (12, "flip", "flip"), (15, "jpeg", "recompress"), (18, "jpeg", "recompress")]:  # fmt: skip
        row = train[j]
        px = pixels(row["image"])
        px = px[:, ::-1] if make == "flip" else jpeg(px) if make == "jpeg" else px
        items.append((np.ascontiguousarray(px), row["condition"], kind))
        ids.append(row["image_id"])
    items.append((pixels(test[0]["image"]), test[0]["condition"], "test_copy"))
    ids.append(test[0]["image_id"])
    for k, face in enumerate(distinct_faces[:6]):
        items.append((face, k % len(names), "distinct"))
        ids.append(None)
    folder = write_set(tmp_path_factory.mktemp("planted") / "set", names, items)
    return folder, [kind for _, _, kind in items], ids


@pytest.fixture(scope="session")
def poisoned_build(sim_build, distinct_faces, tmp_path_factory) -> Path:
    """``sim_build`` with every test image replaced by another real face (same folder name)."""
    out = tmp_path_factory.mktemp("poisoned") / sim_build.name
    shutil.copytree(sim_build, out)
    shard = next((out / "data").glob("test-*.parquet"))
    table = pq.read_table(shard)
    images = table.column("image").to_pylist()
    for k, cell in enumerate(images):
        buf = io.BytesIO()
        Image.fromarray(distinct_faces[-1 - k % 20]).save(buf, format="PNG")
        cell["bytes"] = buf.getvalue()
    index = table.schema.get_field_index("image")
    table = table.set_column(index, table.schema.field(index), pa.array(images, type=table.schema.field(index).type))
    pq.write_table(table, shard)
    return out
