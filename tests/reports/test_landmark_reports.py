"""``rdface report --model landmarks``: measured reports, HPO terms, leak-free reference."""

from __future__ import annotations

import json

import datasets
import numpy as np
import pytest

from rdface_hf._errors import InputError
from rdface_hf.metrics.report_similarity.sections import REGIONS, parse_report, reads_normal
from rdface_hf.reports.config import ReportConfig
from rdface_hf.reports.run import make_reports

HYPERTELORISM = "HP:0000316"


def _run(out, dataset, **kw):
    kw.setdefault("progress", False)
    return make_reports(ReportConfig(output_dir=str(out), dataset=str(dataset), model="landmarks", **kw))


def test_measured_reports_find_the_edited_feature(tmp_path, landmark_build):
    build = landmark_build()
    result = _run(tmp_path / "rep", build)
    assert result.reports == result.new_reports == 32 and result.no_face == 0 and result.unparsed == 0
    ds = datasets.load_dataset(str(tmp_path / "rep"), split="train")
    assert ds.features["condition"].names == ["Normal-looking syndrome", "Hypertelorism syndrome"]
    hyp = [HYPERTELORISM in t for t in ds.filter(lambda r: r["disease_abbr"] == "HYP")["hpo_terms"]]
    nor = [HYPERTELORISM in t for t in ds.filter(lambda r: r["disease_abbr"] == "NOR")["hpo_terms"]]
    assert np.mean(hyp) >= 0.75 and np.mean(nor) <= 0.1
    row = ds.filter(lambda r: HYPERTELORISM in r["hpo_terms"])[0]
    assert "Hypertelorism" in row["hpo_names"]
    # the text is in the VLM layout: the same parser recovers the regions
    parsed = parse_report(row["text"])
    assert parsed.complete and parsed.regions == row["regions"]
    assert "HP:0000316" in row["regions"]["left_eye"] and "HP:0000316" in row["regions"]["right_eye"]
    assert not reads_normal(row["regions"]["left_eye"])
    measurements = json.loads(row["measurements"])
    assert measurements["interpupillary_distance"]["z"] >= 2.0
    assert np.isfinite(measurements["head_yaw"]["value"]) and measurements["head_yaw"]["z"] is None
    reference = json.loads((tmp_path / "rep" / "reference_stats.json").read_text())
    assert set(reference["pose_slope"]) == set(reference["center"]) and reference["pose"].startswith("yaw and pitch")
    assert reference["shared_variation"].startswith("each measure corrected")
    assert set(reference["shared_variation_coef"]) == set(reference["center"])
    assert row["model"] == "landmarks" and row["source"] == "real" and row["status"] == "ok"
    normal = ds.filter(lambda r: not r["hpo_terms"])[0]
    assert all(reads_normal(normal["regions"][r]) for r in REGIONS[:-1])
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    assert summary["reports"] == 32 and summary["hpo_terms"][HYPERTELORISM] >= 6


def test_z_scores_never_see_the_test_split(tmp_path, landmark_build):
    """Change every test face (and its images): the reference and the training images' reports
    stay byte-identical."""
    a = landmark_build("a")
    b = landmark_build("b", test_telorism=0.5, test_seed=9)
    _run(tmp_path / "ra", a)
    _run(tmp_path / "rb", b)
    ref_a = json.loads((tmp_path / "ra" / "reference_stats.json").read_text())
    ref_b = json.loads((tmp_path / "rb" / "reference_stats.json").read_text())
    assert ref_a == ref_b and ref_a["images"] == 24
    train_a = datasets.load_dataset(str(tmp_path / "ra"), split="train").filter(lambda r: r["split"] != "test")
    train_b = datasets.load_dataset(str(tmp_path / "rb"), split="train").filter(lambda r: r["split"] != "test")
    assert len(train_a) == 24 and train_a.to_list() == train_b.to_list()
    test_a = datasets.load_dataset(str(tmp_path / "ra"), split="train").filter(lambda r: r["split"] == "test")
    test_b = datasets.load_dataset(str(tmp_path / "rb"), split="train").filter(lambda r: r["split"] == "test")
    assert test_a["measurements"] != test_b["measurements"]  # the change was real


def test_resume_jsonl_and_settings_guard(tmp_path, landmark_build):
    build = landmark_build()
    out = tmp_path / "rep"
    first = _run(out, build, split="test", format="jsonl")
    assert first.new_reports == 8 and sorted(p.suffix for p in (out / "data").iterdir()) == [".jsonl"]
    again = _run(out, build, split="test", format="jsonl")
    assert again.new_reports == 0 and again.reports == 8
    ds = datasets.load_dataset(str(out), split="train")
    assert len(ds) == 8 and set(ds["split"]) == {"test"}
    with pytest.raises(InputError, match="other settings"):
        _run(out, build, split="test", format="jsonl", z_threshold=1.5)
    with pytest.raises(InputError, match="other settings"):
        _run(out, build, split="test", format="jsonl", pose_adjust=False)
    assert _run(out, build, split="test", format="jsonl", z_threshold=1.5, overwrite=True).new_reports == 8


def test_bad_inputs_are_one_line(tmp_path, landmark_build):
    build = landmark_build()
    with pytest.raises(InputError, match="unknown condition"):
        _run(tmp_path / "r1", build, conditions="NOPE")
    with pytest.raises(InputError, match="no such synthetic set"):
        make_reports(ReportConfig(output_dir=str(tmp_path / "r2"), dataset=str(build), synthetic=str(tmp_path / "x"),
                                  model="landmarks", progress=False))  # fmt: skip
    with pytest.raises(InputError, match="--model landmarks"):
        ReportConfig(output_dir=str(tmp_path / "r3"), synthetic=str(tmp_path), model="landmarks")
    for ridge in (0.0, -1.0, float("nan")):
        with pytest.raises(InputError, match=r"shared.variation.ridge must be a positive number"):
            ReportConfig(output_dir=str(tmp_path / "r5"), dataset=str(build), model="landmarks",
                         shared_variation_ridge=ridge)  # fmt: skip
    with pytest.raises(InputError, match=r"not an RDFace build|no such folder"):
        _run(tmp_path / "r4", tmp_path / "missing")
    assert not (tmp_path / "r1").exists()


def test_synthetic_set_is_measured_against_the_dataset(tmp_path, landmark_build, astronaut, landmarker_model):
    """A synthetic set's faces are detected afresh; z-scores still come from the dataset's training images."""
    from rdface_hf.dataset.synthetic import SyntheticImage, SyntheticSetWriter, synthetic_card

    build = landmark_build()
    names = ["Normal-looking syndrome", "Hypertelorism syndrome"]
    writer = SyntheticSetWriter(tmp_path / "syn", names)
    face = astronaut[0:256, 100:356]
    writer.add(SyntheticImage(image=face, condition=1, generator="morph", source="test", seed=0, trained_on="test"))
    writer.add(SyntheticImage(image=np.zeros((64, 64, 3), np.uint8), condition=0, generator="morph", source="test",
                              seed=1, trained_on="test"))  # fmt: skip
    corrupt = {"image": {"bytes": b"not an image", "path": "x.png"}, "image_id": "corrupt", "condition": 1,
               "generator": "morph", "source": "test", "prompt": "", "seed": 2, "params": "{}", "parent_ids": [],
               "trained_on": "test"}  # fmt: skip
    writer.add(corrupt)
    writer.finish(synthetic_card(title="t", description="t", generator="morph", source_dataset="t", gated=False))
    result = make_reports(ReportConfig(output_dir=str(tmp_path / "rep"), dataset=str(build),
                                       synthetic=str(tmp_path / "syn"), model="landmarks", progress=False,
                                       landmarker=landmarker_model))  # fmt: skip
    assert result.reports == 3 and result.no_face == 1 and result.unreadable == 1
    ds = datasets.load_dataset(str(tmp_path / "rep"), split="train")
    assert set(ds["source"]) == {"synthetic"} and set(ds["generator"]) == {"morph"}
    blank = ds.filter(lambda r: r["status"] == "no_face")[0]
    assert blank["hpo_terms"] == [] and blank["missing_regions"] == list(REGIONS)
    broken = ds.filter(lambda r: r["status"] == "unreadable")[0]
    assert broken["image_id"] == "corrupt" and "unreadable image" in broken["unparsed"]


VISIBLE = {  # simulator feature -> (measure, sign): the clearest in frontal landmarks
    "hypertelorism": ("interpupillary_distance", 1),
    "hypotelorism": ("interpupillary_distance", -1),
    "wide mouth": ("mouth_width", 1),
    "small mouth": ("mouth_width", -1),
    "upslanting palpebral fissures": ("palpebral_fissure_slant", 1),
    "downslanting palpebral fissures": ("palpebral_fissure_slant", -1),
}


def test_landmark_reports_on_a_simulated_release(tmp_path, sim_build, sim_release):
    """Every simulated face gets a complete report, and affected faces score further out on the
    feature's measure than the others (phenotypes.json is the truth)."""
    result = _run(tmp_path / "rep", sim_build)
    ds = datasets.load_dataset(str(tmp_path / "rep"), split="train")
    assert result.reports == len(ds) > 20 and result.no_face == 0 and result.incomplete == 0
    truth = json.loads((sim_release / "phenotypes.json").read_text())
    severity = {im["image_name"]: im["features"] for im in truth["images"]}
    from rdface_hf.dataset.facade import RDFaceDataset

    rd = RDFaceDataset(sim_build)
    names = {}
    for split in rd.default().values():
        names.update(zip(split["image_id"], split["image_name"]))
    z = {r["image_id"]: json.loads(r["measurements"]) for r in ds}
    checked = 0
    for feature, (measure, sign) in VISIBLE.items():
        affected = [i for i in z if severity[names[i]].get(feature, 0) > 0]
        others = [i for i in z if i not in affected]
        if len(affected) >= 2:
            gap = np.mean([sign * z[i][measure]["z"] for i in affected]) - np.mean(
                [sign * z[i][measure]["z"] for i in others]
            )
            assert gap > 0.5, feature
            checked += 1
    assert checked >= 1


def test_a_missing_landmarker_file_is_refused_up_front(tmp_path, capsys):
    """--landmarker names a file: a typo is one line, even where the build's landmarks make it unused."""
    from rdface_hf.cli import main

    argv = ["report", "--dataset", str(tmp_path), "--model", "landmarks", "--output-dir", str(tmp_path / "out")]
    assert main([*argv, "--landmarker", str(tmp_path / "nope.task")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--landmarker" in err[0] and "no such file" in err[0], err
    assert not (tmp_path / "out").exists()


def test_overwrite_keeps_a_users_file_and_a_rebuilt_dataset_is_not_resumed(
    tmp_path, landmark_build, capsys, user_file_survives, input_change_refused
):
    """Reports resumed on a rebuilt dataset would disagree with their reference_stats.json."""
    import shutil

    from rdface_hf.cli import main

    build = landmark_build()
    argv = ["report", "--dataset", str(build), "--model", "landmarks", "--split", "test", "--no-progress",
            "--output-dir", str(tmp_path / "rep")]  # fmt: skip
    assert main(argv) == 0
    user_file_survives(argv, tmp_path / "rep", capsys)
    reference = (tmp_path / "rep" / "reference_stats.json").read_bytes()
    shutil.rmtree(build)
    landmark_build(test_telorism=3.0)  # the same path, other data
    input_change_refused(argv, capsys, "image set")
    assert (tmp_path / "rep" / "reference_stats.json").read_bytes() == reference
