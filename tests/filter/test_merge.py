"""``merge``: the fold's real training split + the kept synthetic images; validation and test untouched."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from datasets import load_dataset

from rdface_hf._errors import InputError
from rdface_hf.dataset import RDFaceDataset
from rdface_hf.dataset.synthetic import COLUMNS, SyntheticSet
from rdface_hf.filter.config import FilterConfig, MergeConfig
from rdface_hf.filter.merge import merge
from rdface_hf.filter.run import filter_synthetic


def filtered(dataset, synthetic, out, landmarker, **kw):
    kw.setdefault("reject_near_copies", False)  # toy pictures are no faces; the guard's tests use real faces
    config = FilterConfig(dataset=str(dataset), synthetic=str(synthetic), output_dir=str(out), progress=False, **kw)
    filter_synthetic(config, landmarker=landmarker)
    return out


def _merge_config(**kw) -> MergeConfig:
    kw.setdefault("allow_near_copies", True)  # toy pictures are no faces; the guard's tests use real faces
    return MergeConfig(**kw)


def digest_tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_merge_holds_the_training_split_and_the_kept_images(filter_inputs, tmp_path):
    dataset, synthetic, landmarker = filter_inputs
    scored = filtered(dataset, synthetic, tmp_path / "scored", landmarker, mode="top-n-per-condition", top_n=2)
    before = digest_tree(dataset)
    result = merge(
        MergeConfig(
            allow_near_copies=True, dataset=str(dataset), synthetic=str(scored), output_dir=str(tmp_path / "merged")
        )
    )
    assert digest_tree(dataset) == before  # the dataset is only read
    merged = load_dataset(str(tmp_path / "merged"), split="train")
    rd = RDFaceDataset(dataset)
    fold = rd.fold(0)
    real = [r for r in merged if not r["is_synthetic"]]
    fake = [r for r in merged if r["is_synthetic"]]
    assert sorted(r["image_id"] for r in real) == sorted(fold["train"]["image_id"])
    held_out = set(fold["validation"]["image_id"]) | set(fold["test"]["image_id"])
    assert held_out and not held_out & set(merged["image_id"])  # validation and test never copied
    assert {r["generator"] for r in real} == {"real"} and {r["trained_on"] for r in real} == {"fold_0"}
    assert all(r["image_id"].startswith("rdf-") for r in real)
    assert len(fake) == 6 == result.synthetic and result.skipped_synthetic == 14 and result.real == 15
    kept_ids = {r["image_id"] for r in load_dataset(str(scored), split="train") if r["kept"]}
    assert {r["image_id"] for r in fake} == kept_ids
    assert merged.features["condition"].names == rd.class_names
    assert set(COLUMNS) | {"is_synthetic", "landmarks", "score", "kept"} <= set(merged.column_names)
    # the real rows carry the dataset's own pixels, labels and landmarks
    by_id = {r["image_id"]: r for r in fold["train"]}
    first = real[0]
    assert first["condition"] == by_id[first["image_id"]]["condition"]
    np.testing.assert_array_equal(np.asarray(first["landmarks"]), np.asarray(by_id[first["image_id"]]["landmarks"]))
    assert np.array_equal(np.asarray(first["image"]), np.asarray(by_id[first["image_id"]]["image"]))
    saved = json.loads((tmp_path / "merged" / "merge_config.json").read_text())
    assert saved["fold"] == "0" and saved["provenance"]["training_fold"] == "fold_0"
    assert SyntheticSet(tmp_path / "merged").class_names == rd.class_names


def test_merge_refuses_a_set_filtered_for_another_fold(filter_inputs, tmp_path):
    dataset, synthetic, landmarker = filter_inputs
    scored = filtered(dataset, synthetic, tmp_path / "scored", landmarker, fold="test")
    with pytest.raises(InputError, match="filtered against fold test"):
        merge(
            MergeConfig(
                allow_near_copies=True,
                dataset=str(dataset),
                synthetic=str(scored),
                output_dir=str(tmp_path / "m"),
                fold="0",
            )
        )
    out = merge(
        MergeConfig(
            allow_near_copies=True,
            dataset=str(dataset),
            synthetic=str(scored),
            output_dir=str(tmp_path / "m"),
            fold="test",
        )
    )
    assert out.real == 21  # every non-test image: train + validation
    assert not (tmp_path / "m0").exists()


def test_merge_refuses_generators_that_saw_the_validation_split(filter_inputs, tmp_path, toy):
    dataset, _, _ = filter_inputs
    landmarker = toy.StubLandmarker()
    leaky = toy.write_synthetic(tmp_path / "leaky", landmarker, trained_on="test")
    scored = filtered(dataset, leaky, tmp_path / "scored", landmarker)
    with pytest.raises(InputError, match="trained on test"):
        merge(
            MergeConfig(
                allow_near_copies=True, dataset=str(dataset), synthetic=str(scored), output_dir=str(tmp_path / "m")
            )
        )
    assert not (tmp_path / "m").exists()


def test_merge_needs_a_filtered_set_unless_told(filter_inputs, tmp_path):
    dataset, synthetic, _ = filter_inputs
    with pytest.raises(InputError, match="no 'kept' column"):
        merge(
            MergeConfig(
                allow_near_copies=True, dataset=str(dataset), synthetic=str(synthetic), output_dir=str(tmp_path / "m")
            )
        )
    result = merge(
        MergeConfig(
            allow_near_copies=True,
            dataset=str(dataset),
            synthetic=str(synthetic),
            output_dir=str(tmp_path / "m"),
            unfiltered=True,
        )
    )
    assert result.synthetic == 20 and result.real == 15


def test_merge_refuses_images_made_from_validation_images(filter_inputs, tmp_path, toy):
    from rdface_hf.dataset.synthetic import SyntheticImage, SyntheticSetWriter

    dataset, _, _ = filter_inputs
    writer = SyntheticSetWriter(tmp_path / "morphs", toy.CLASSES)
    for k, parents in enumerate((["rdf-tr0x000", "rdf-tr0x001"], ["rdf-tr0x000", "rdf-va0x050"])):
        writer.add(SyntheticImage(image=toy.picture(0, 500 + k), condition=0, generator="morph", source="t", seed=k,
                                  trained_on="fold_0", parent_ids=parents))  # fmt: skip
    writer.finish("---\n---\n")
    with pytest.raises(InputError, match="1 kept image"):
        merge(_merge_config(dataset=str(dataset), synthetic=str(tmp_path / "morphs"), output_dir=str(tmp_path / "m"),
                          unfiltered=True))  # fmt: skip


def test_overwrite_replaces_only_what_filter_and_merge_wrote(filter_inputs, tmp_path):
    """A file the user saved in O stops --overwrite (one line naming it), and the output stays;
    a filter output holds a copy of its input's generation_config.json and is still no
    generator's output."""
    from rdface_hf._config import open_run_dir
    from rdface_hf.generate.config import GenerateConfig

    dataset, synthetic, landmarker = filter_inputs
    scored = filtered(dataset, synthetic, tmp_path / "scored", landmarker, mode="top-n-per-condition", top_n=2)
    merged = tmp_path / "merged"
    merge(_merge_config(dataset=str(dataset), synthetic=str(scored), output_dir=str(merged)))
    assert (scored / "generation_config.json").is_file()
    with (
        pytest.raises(InputError, match="was not written by this command"),
        open_run_dir(
            GenerateConfig(generator="morph", dataset=str(dataset), output_dir=str(scored)), scored, overwrite=True
        ),
    ):
        pass
    for out, rerun in (
        (scored, lambda: filtered(dataset, synthetic, scored, landmarker, overwrite=True)),
        (
            merged,
            lambda: merge(
                MergeConfig(
                    allow_near_copies=True,
                    dataset=str(dataset),
                    synthetic=str(scored),
                    output_dir=str(merged),
                    overwrite=True,
                )
            ),
        ),
    ):
        (out / "notes.ipynb").write_text("{}")
        before = digest_tree(out)
        with pytest.raises(InputError, match=r"notes\.ipynb"):
            rerun()
        assert digest_tree(out) == before
        (out / "notes.ipynb").unlink()
        rerun()  # only our own files: replaced
        assert not (out / "notes.ipynb").exists() and (out / ".rdface_manifest.json").is_file()
