"""The synthetic set format: written shard by shard, read by load_dataset, checked on open."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import load_dataset
from PIL import Image

from rdface_hf._errors import InputError
from rdface_hf.dataset.synthetic import COLUMNS, SyntheticImage, SyntheticSet, SyntheticSetWriter, synthetic_card

NAMES = ["Condition A", "Condition B", "Condition C"]


def write_set(folder, n=5, shard_size=2, **extra):
    writer = SyntheticSetWriter(folder, NAMES, shard_size=shard_size)
    for i in range(n):
        image = np.full((24, 24, 3), 40 * i, np.uint8)
        item = SyntheticImage(image=image, condition=i % 3, generator="morph", source="test", seed=i,
                              trained_on="fold_0", params={"alpha": 0.5}, parent_ids=[f"rdf-{i}"], **extra)  # fmt: skip
        writer.add(item)
    writer.finish(synthetic_card(title="t", description="d", generator="morph", source_dataset="sim"))
    return writer


def test_round_trip_through_load_dataset(tmp_path):
    write_set(tmp_path / "s")
    ds = load_dataset(str(tmp_path / "s"), split="train")
    assert ds.column_names == list(COLUMNS) and len(ds) == 5
    assert ds.features["condition"].names == NAMES
    row = ds[4]
    assert row["seed"] == 4 and row["condition"] == 1 and json.loads(row["params"]) == {"alpha": 0.5}
    assert row["parent_ids"] == ["rdf-4"] and row["trained_on"] == "fold_0"
    assert isinstance(row["image"], Image.Image) and row["image"].format == "PNG" and not row["image"].getexif()
    import hashlib

    raw = SyntheticSet(tmp_path / "s").dataset.cast_column("image", ds.features["image"].__class__(decode=False))
    assert hashlib.sha256(raw[4]["image"]["bytes"]).hexdigest() == row["image_id"], "image_id is the stored bytes'"


def test_resume_knows_what_is_written(tmp_path):
    writer = write_set(tmp_path / "s", n=5, shard_size=2)
    assert writer.count() == 5 and len(writer.shards()) == 3
    again = SyntheticSetWriter(tmp_path / "s", NAMES)
    assert again.done(("condition", "seed")) == {(i % 3, i) for i in range(5)}
    assert len(SyntheticSet(tmp_path / "s")) == 5


def test_opening_checks_the_contract(tmp_path):
    with pytest.raises(InputError, match="no such synthetic set"):
        SyntheticSet(tmp_path / "nope")
    (tmp_path / "empty" / "data").mkdir(parents=True)
    with pytest.raises(InputError, match="holds no synthetic images"):
        SyntheticSet(tmp_path / "empty")
    write_set(tmp_path / "s")
    s = SyntheticSet(tmp_path / "s")
    s.check_classes(NAMES)
    with pytest.raises(InputError, match="not in the dataset"):
        s.check_classes(["Condition A", "Condition B"])
    with pytest.raises(InputError, match="another order"):
        s.check_classes(list(reversed(NAMES)))
    bad = tmp_path / "bad" / "data"
    bad.mkdir(parents=True)
    (bad / "train-00000-deadbeef.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="not a readable synthetic set shard"):
        SyntheticSet(tmp_path / "bad")


def test_a_resumed_or_other_set_is_never_served_from_a_stale_cache(tmp_path):
    write_set(tmp_path / "a" / "s", n=3)
    first = load_dataset(str(tmp_path / "a" / "s"), split="train")["image_id"]
    write_set(tmp_path / "b" / "s", n=4)  # same folder name, other rows
    second = load_dataset(str(tmp_path / "b" / "s"), split="train")["image_id"]
    assert len(first) == 3 and len(second) == 4
    more = SyntheticSetWriter(tmp_path / "a" / "s", NAMES)  # resume: one more row
    more.add(SyntheticImage(image=np.zeros((8, 8, 3), np.uint8), condition=0, generator="morph", source="t",
                            seed=99, trained_on="fold_0"))  # fmt: skip
    more.finish(synthetic_card(title="t", description="d", generator="morph", source_dataset="sim"))
    assert len(load_dataset(str(tmp_path / "a" / "s"), split="train")) == 4
