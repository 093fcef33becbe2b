"""The shortcut audit on reduced releases: nothing but the face at --source-style 0, shortcuts at 1."""

from __future__ import annotations

import pytest

from rdface_hf.sim import SimConfig, simulate
from rdface_hf.sim.audit import describe, name_audit, shortcut_audit

AUDITED = dict(conditions=8, per_condition_mean=7.0, image_size=80, seed=5, workers=1)


def _built(tmp_path_factory, style: float):
    from rdface_hf.dataset import RDFaceDataset
    from rdface_hf.dataset.builder import BuildConfig, build_dataset

    root = tmp_path_factory.mktemp(f"audit{style}")
    simulate(SimConfig(out=str(root / "raw"), source_style=style, **AUDITED), progress=False)
    build_dataset(BuildConfig(raw=str(root / "raw"), out=str(root / "built"), landmarks=False, progress=False,
                              workers=1))  # fmt: skip
    return RDFaceDataset(root / "built"), root / "raw"


@pytest.fixture(scope="module")
def audits(tmp_path_factory, landmarker_model):
    return {style: shortcut_audit(*_built(tmp_path_factory, style)) for style in (0.0, 1.0)}


def test_without_source_style_nothing_but_the_face_tells_the_condition(audits):
    a = audits[0.0]
    assert a["classes"] == 8 and a["test_images"] >= 14
    assert {"raw_file", "raw_size", "image_stats"} <= set(a["images"]), "the release's own files are audited"
    assert all(set(scores) == {"logreg", "knn1", "forest"} for scores in a["images"].values())
    for descriptor, scores in a["images"].items():
        for model, top1 in scores.items():
            assert top1 <= 3 * a["chance_top1"], (descriptor, model, top1)
    for column in ("identity", "age"):
        assert a["metadata"][column]["top1"] <= 3 * a["chance_top1"] and a["metadata"][column]["p"] > 0.01, column
    assert a["names"]["feature_words_in_names"] == []


def test_source_style_is_a_shortcut_the_audit_finds(audits):
    a = audits[1.0]
    assert a["max_image_top1"] >= 6 * a["chance_top1"], a["images"]
    assert a["max_image_top1"] > audits[0.0]["max_image_top1"] + 0.3


def test_names_tell_no_feature():
    from rdface_hf.sim.config import SimConfig
    from rdface_hf.sim.features import FEATURES
    from rdface_hf.sim.simulate import make_plan

    plan = make_plan(SimConfig(out="unused", conditions=103))
    names = [c.disease_name for c in plan.conditions]
    result = name_audit(names, [list(c.features) for c in plan.conditions], list(FEATURES))
    assert result["feature_words_in_names"] == [] and result["features_tested"] >= 10
    assert result["feature_balanced_accuracy"] < 0.6
    leaky = [f"{n} ({', '.join(c.features)})" for n, c in zip(names, plan.conditions)]
    assert name_audit(leaky, [list(c.features) for c in plan.conditions], list(FEATURES))["feature_words_in_names"]


def test_a_numbered_identity_column_is_caught():
    import numpy as np

    from rdface_hf.sim.audit import metadata_audit

    y = np.repeat(np.arange(20), 4)
    ids = [f"SIMP{i:05d}" for i in range(80)]  # numbered in condition order, as the old simulator did
    result = metadata_audit({"identity": ids[0::2]}, y[0::2], {"identity": ids[1::2]}, y[1::2])
    assert result["identity"]["top1"] > 0.8 and result["identity"]["p"] < 0.01


def test_descriptors_of_any_picture():
    import numpy as np

    d = describe(np.zeros((50, 80, 3), np.uint8))
    assert d["pixels32"].shape == (32 * 32 * 3,) and d["corners"].shape == (12,) and d["image_stats"][0] == 80


def test_raw_file_descriptors_read_the_file_as_written(tmp_path):
    import numpy as np
    from PIL import Image

    from rdface_hf.sim.audit import describe_file

    pixels = np.random.default_rng(0).integers(0, 255, size=(40, 60, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "a.jpg", quality=90)
    Image.fromarray(pixels).save(tmp_path / "b.jpg", quality=40)
    Image.fromarray(pixels).save(tmp_path / "c.png")
    a, b, c = (describe_file(tmp_path / n) for n in ("a.jpg", "b.jpg", "c.png"))
    assert a["raw_file"][0] == (tmp_path / "a.jpg").stat().st_size and list(a["raw_size"]) == [60, 40]
    assert a["raw_file"][3] == 1 and c["raw_file"][4] == 1, "format one-hot: JPEG, PNG"
    assert (a["raw_file"][9:] > 0).all() and not c["raw_file"][9:].any(), "quantisation tables only for JPEG"
    assert (b["raw_file"][9:] > a["raw_file"][9:]).any(), "another quality, other tables"
