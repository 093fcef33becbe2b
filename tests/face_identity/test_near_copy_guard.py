"""The filter's near-copy guard and merge's refusal, with the real dlib model on a simulated build."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import load_dataset

from rdface_hf.cli import main
from rdface_hf.filter.config import FilterConfig, MergeConfig
from rdface_hf.filter.merge import merge
from rdface_hf.filter.run import filter_synthetic


def _filter(build, synthetic, out, **kw):
    kw.setdefault("mode", "global-top-n")
    kw.setdefault("top_n", 1000)  # keep every scored image unless the guard says no
    config = FilterConfig(dataset=str(build), synthetic=str(synthetic), output_dir=str(out), fold="0", workers=1,
                          progress=False, landmark_cache=str(out) + "-cache", **kw)  # fmt: skip
    return filter_synthetic(config)


@pytest.fixture(scope="module")
def guarded(planted_train, sim_build, tmp_path_factory):
    folder, kinds, _ = planted_train
    out = tmp_path_factory.mktemp("guarded") / "out"
    result = _filter(sim_build, folder, out)
    return result, out, kinds


def test_the_guard_rejects_copies_of_training_faces_only(guarded, planted_train):
    result, out, kinds = guarded
    rows = load_dataset(str(out), split="train")
    kinds = np.array(kinds)
    near, kept, reason = np.array(rows["near_copy"]), np.array(rows["kept"]), np.array(rows["reason"])
    copies = np.isin(kinds, ["exact", "flip", "recompress"])
    assert near[copies].all(), list(zip(kinds, rows["near_copy_distance"]))
    assert not near[kinds == "distinct"].any(), rows["near_copy_distance"]
    assert not kept[near].any() and set(reason[near]) == {"near_copy"}
    assert np.array(rows["nearest_training_id"])[copies].tolist() == [i for i, c in zip(planted_train[2], copies) if c]
    summary = json.loads((out / "filter_summary.json").read_text())
    assert summary["near_copies"] == result.near_copies == int(copies.sum())
    assert sum(r["near_copy"] for r in summary["per_condition"]) == int(copies.sum())
    assert "near_copy" in (out / "filter_summary.md").read_text()
    assert "Near-copy guard: 7 image(s)" in (out / "README.md").read_text()
    saved = json.loads((out / "filter_config.json").read_text())
    assert saved["provenance"]["near_copy_guard"]["near_copies"] == 7


def test_the_guard_changes_kept(guarded, planted_train, sim_build, tmp_path):
    _, out, kinds = guarded
    off = _filter(sim_build, planted_train[0], tmp_path / "off", reject_near_copies=False)
    assert off.near_copies is None
    with_guard = np.array(load_dataset(str(out), split="train")["kept"])
    without = np.array(load_dataset(str(tmp_path / "off"), split="train")["kept"])
    copies = np.isin(np.array(kinds), ["exact", "flip", "recompress"])
    assert without[copies].all() and not with_guard[copies].any()
    assert (with_guard[~copies] == without[~copies]).all()


def test_an_explicit_threshold_and_its_bad_values(planted_train, sim_build, tmp_path, capsys):
    result = _filter(sim_build, planted_train[0], tmp_path / "tiny", near_copy_threshold=1e-4)
    assert result.near_copies <= 3  # only exact copies can be that close
    args = [
        "filter",
        "--dataset",
        str(sim_build),
        "--synthetic",
        str(planted_train[0]),
        "--output-dir",
        str(tmp_path / "x"),
    ]
    for bad in ("0", "-1", "nan"):
        assert main([*args, "--near-copy-threshold", bad]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--near-copy-threshold" in err[0]


def test_a_poisoned_test_split_changes_nothing_the_filter_writes(planted_train, sim_build, poisoned_build, tmp_path):
    outs = []
    for k, build in enumerate((sim_build, poisoned_build)):
        _filter(build, planted_train[0], tmp_path / f"o{k}" / "out")
        outs.append(tmp_path / f"o{k}" / "out")
    files = sorted(p.relative_to(outs[0]) for p in outs[0].rglob("*") if p.is_file() and p.suffix != ".png")
    assert files == sorted(p.relative_to(outs[1]) for p in outs[1].rglob("*") if p.is_file() and p.suffix != ".png")
    for rel in files:
        if rel.name == ".rdface_manifest.json":  # records the inputs' digests: the datasets differ
            continue
        if rel.name == "filter_config.json":  # the same but for the dataset's folder
            saved = [json.loads((o / rel).read_text()) for o in outs]
            assert saved[0].pop("dataset") != saved[1].pop("dataset") and saved[0] == saved[1]
            continue
        assert (outs[0] / rel).read_bytes() == (outs[1] / rel).read_bytes(), rel


def test_merge_refuses_near_copies_unless_allowed(planted_train, sim_build, tmp_path, capsys):
    from rdface_hf._errors import InputError

    with pytest.raises(InputError, match="near copies of real training faces"):  # unfiltered: checked at merge
        merge(MergeConfig(dataset=str(sim_build), synthetic=str(planted_train[0]), fold="0", unfiltered=True,
                          output_dir=str(tmp_path / "m0")))  # fmt: skip
    merged = merge(MergeConfig(dataset=str(sim_build), synthetic=str(planted_train[0]), fold="0", unfiltered=True,
                               allow_near_copies=True, output_dir=str(tmp_path / "m1")))  # fmt: skip
    assert merged.synthetic == len(planted_train[1])
    card = (tmp_path / "m1" / "README.md").read_text()
    assert "7 synthetic image(s) are near copies" in card and "--allow-near-copies" in card
    args = ["merge", "--dataset", str(sim_build), "--synthetic", str(planted_train[0]), "--fold", "0", "--unfiltered"]
    assert main([*args, "--output-dir", str(tmp_path / "m2")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--allow-near-copies" in err[0]
