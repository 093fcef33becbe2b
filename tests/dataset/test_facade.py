"""RDFaceDataset: the one way stages read a build (folder or Hub id), and its helpers."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from datasets import Array2D, ClassLabel, Dataset, Features, Value

from rdface_hf import RDFaceDataset, load_rdface
from rdface_hf._errors import InputError
from rdface_hf.dataset.facade import parse_fold, select_conditions


def test_folds_test_split_and_schema(sim_build):
    rd = RDFaceDataset(sim_build)
    assert rd.num_folds == 5 and rd.configs[0] == "default"
    fold = rd.fold(0)
    assert set(fold) == {"train", "validation", "test"}
    assert fold["test"]["image_id"] == rd.test["image_id"] == rd.fold(3)["test"]["image_id"]
    assert rd.class_names == fold["train"].features["condition"].names and rd.num_classes == 10
    assert len(rd.abbreviations) == 10 and all(rd.abbreviations)
    assert rd.build_config["stage"] == "build" and len(rd.digest) == 64
    assert rd.digest == RDFaceDataset(sim_build).digest
    assert "RDFaceDataset(" in repr(rd)


def test_training_split_never_holds_test_or_validation_images(sim_build):
    rd = RDFaceDataset(sim_build)
    test = set(rd.test["image_id"])
    everything = set(rd.training_split("test")["image_id"])
    assert not everything & test and len(everything) + len(test) == sum(len(s) for s in rd.fold(0).values())
    for k in range(rd.num_folds):
        train = set(rd.training_split(k)["image_id"])
        validation = set(rd.fold(k)["validation"]["image_id"])
        assert train == set(rd.fold(k)["train"]["image_id"]) and not train & (test | validation)
    with pytest.raises(InputError, match="has no fold 7"):
        rd.training_split("7")


def test_arrays(sim_build):
    rd = RDFaceDataset(sim_build)
    points = rd.landmarks("train", fold=1)
    assert points.shape == (len(rd.fold(1)["train"]), 478, 3) and points.dtype == np.float32
    assert not np.isnan(points).any(), "a clean simulated build has a face in every image"
    np.testing.assert_array_equal(rd.labels("test"), np.asarray(rd.test["condition"]))
    assert rd.image_ids(rd.test) == list(rd.test["image_id"])
    with pytest.raises(InputError, match="belongs to a fold"):
        rd.landmarks("validation")
    with pytest.raises(InputError, match="split must be one of"):
        rd.split("dev")


def test_missing_landmarks_are_nan_rows(write_built_dataset, tmp_path):
    features = Features({"landmarks": Array2D((478, 3), "float32"), "condition": ClassLabel(names=["a", "b"]),
                         "image_id": Value("string"), "disease_abbr": Value("string")})  # fmt: skip
    pts = np.ones((478, 3), np.float32)
    split = Dataset.from_dict({"landmarks": [pts, None], "condition": [0, 1], "image_id": ["x", "y"],
                               "disease_abbr": ["A", "B"]}, features=features)  # fmt: skip
    rd = RDFaceDataset(write_built_dataset(tmp_path / "ds", train=split, test=split))
    got = rd.landmarks(rd.test)
    assert np.all(got[0] == 1) and np.isnan(got[1]).all()
    assert rd.abbreviations == ["A", "B"]


def test_fold_and_condition_parsing():
    assert parse_fold("test") is None and parse_fold(None) is None and parse_fold("3") == 3 and parse_fold(2) == 2
    for bad in ("all", "-1", "x"):
        with pytest.raises(InputError):
            parse_fold(bad)
    abbrs = ["AAA", "BBB", "CCC"]
    assert select_conditions("all", abbrs) == [0, 1, 2] and select_conditions("CCC, AAA", abbrs) == [0, 2]
    with pytest.raises(InputError, match=r"unknown condition\(s\) \['ZZZ'\]"):
        select_conditions("AAA,ZZZ", abbrs)
    with pytest.raises(InputError, match="comma-separated"):
        select_conditions(" , ", abbrs)


def test_open_errors_are_one_line(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not an RDFace build"):
        RDFaceDataset(tmp_path / "empty")
    with pytest.raises(InputError, match="not a Hub repo id"):
        RDFaceDataset("no/such/thing")
    with pytest.raises(InputError, match="cannot open dataset lab/absent"):
        RDFaceDataset("lab/absent")  # offline, nothing cached


def test_hub_repo_id_from_the_offline_cache(sim_build, tmp_path, monkeypatch):
    import huggingface_hub.constants

    cache = tmp_path / "hub-cache"
    repo = cache / "datasets--lab--rdface"
    shutil.copytree(sim_build, repo / "snapshots" / ("1" * 40))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("1" * 40)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    rd = RDFaceDataset("lab/rdface")
    assert rd.repo_id == "lab/rdface" and rd.class_names == RDFaceDataset(sim_build).class_names
    assert load_rdface("lab/rdface", fold=0)["test"]["image_id"] == rd.test["image_id"]


def test_simulated_builds_say_so_and_a_build_without_test_split_is_one_error(sim_build, write_built_dataset,
                                                                             tmp_path):  # fmt: skip
    assert RDFaceDataset(sim_build).simulated
    features = Features({"condition": ClassLabel(names=["a"]), "image_id": Value("string")})
    train = Dataset.from_dict({"condition": [0], "image_id": ["x"]}, features=features)
    rd = RDFaceDataset(write_built_dataset(tmp_path / "one", train=train, test=None))
    assert not rd.simulated and rd.class_names == ["a"] and rd.num_classes == 1
    with pytest.raises(InputError, match="has no test split"):
        _ = rd.test
