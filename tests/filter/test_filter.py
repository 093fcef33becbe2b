"""``filter_synthetic`` end to end (a stand-in landmarker): outputs, modes, no-face rows, leak-freedom."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from datasets import load_dataset

from rdface_hf._sheets import CAPTION, CELL, HEADER, LABEL_WIDTH
from rdface_hf.dataset.synthetic import SyntheticSet
from rdface_hf.filter import report
from rdface_hf.filter.config import FilterConfig
from rdface_hf.filter.report import KEPT_REJECTED_IMAGES
from rdface_hf.filter.run import filter_synthetic


def run(dataset, synthetic, out, landmarker, **kw):
    kw.setdefault("progress", False)
    kw.setdefault("reject_near_copies", False)  # toy pictures are no faces; the guard's tests use real faces
    config = FilterConfig(dataset=str(dataset), synthetic=str(synthetic), output_dir=str(out), **kw)
    return filter_synthetic(config, landmarker=landmarker)


def truths(ds) -> list[str]:
    return [json.loads(p)["truth"] for p in ds["params"]]


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_outputs_and_no_face_rows(filter_inputs, tmp_path, assert_picture):
    dataset, synthetic, landmarker = filter_inputs
    result = run(dataset, synthetic, tmp_path / "out", landmarker, mode="top-n-per-condition", top_n=3)
    out = tmp_path / "out"
    ds = load_dataset(str(out), split="train")
    assert len(ds) == 20 == result.images  # every input row comes out, in order
    assert ds["seed"] == list(range(1, 21))
    assert {"landmarks", "score", "kept", "score_phenotype", "score_expression", "score_margin", "score_eyes"} <= set(
        ds.column_names
    )
    assert ds.features["condition"].names == ["Alpha syndrome", "Beta syndrome", "Gamma syndrome"]
    t = truths(ds)
    no_face = [i for i, x in enumerate(t) if x == "no_face"]
    assert len(no_face) == 2 == result.no_face
    for i in no_face:  # rejected and counted, never dropped
        assert ds[i]["landmarks"] is None and ds[i]["score"] is None and ds[i]["kept"] is False
    assert np.asarray(ds[0]["landmarks"]).shape == (478, 3)
    # the filter keeps exactly the 3 right faces of each condition
    assert [x for x, k in zip(t, ds["kept"]) if k] == ["right"] * 9 and result.kept == 9
    assert result.rejected == 11
    summary = json.loads((out / "filter_summary.json").read_text())
    assert summary["no_face"] == 2 and summary["kept"] == 9 and summary["images"] == 20
    assert [r["kept"] for r in summary["per_condition"]] == [3, 3, 3]
    assert sum(r["no_face"] for r in summary["per_condition"]) == 2
    assert (out / "filter_summary.csv").read_text().startswith("condition,abbr,images,no_face")
    assert "| Alpha syndrome | ALP | 7 | 1 |" in (out / "filter_summary.md").read_text()
    assert (out / "score_histogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    sheet = assert_picture(out / "kept_rejected.png")  # one row per condition, captions under the cells
    assert sheet.shape[:2] == (HEADER + 3 * (CELL + CAPTION), LABEL_WIDTH + (2 * KEPT_REJECTED_IMAGES + 1) * CELL)
    saved = json.loads((out / "filter_config.json").read_text())
    assert saved["stage"] == "filter" and saved["fold"] == "0" and saved["score"] == "landmarks"
    assert "output_dir" not in saved and len(saved["provenance"]["training_split_digest"]) == 64
    assert json.loads((out / "generation_config.json").read_text())["generator"] == "morph"
    assert SyntheticSet(out).class_names == ds.features["condition"].names  # still a synthetic set


@pytest.mark.parametrize(
    ("kw", "kept"),
    [
        ({"mode": "top-n-per-condition", "top_n": 1}, 3),
        ({"mode": "top-n-per-condition"}, 18),  # default n = 10 per condition: every face
        ({"mode": "global-top-n", "top_n": 4}, 4),
        ({"mode": "global-top-n", "top_n": 50, "threshold": 1e9}, 0),
        ({"mode": "threshold", "threshold": -1e9}, 18),
    ],
)
def test_modes(filter_inputs, tmp_path, kw, kept):
    dataset, synthetic, landmarker = filter_inputs
    result = run(dataset, synthetic, tmp_path / "out", landmarker, **kw)
    ds = load_dataset(str(tmp_path / "out"), split="train")
    assert result.kept == kept == sum(ds["kept"])
    scores = np.array([np.nan if s is None else s for s in ds["score"]])
    kept_mask = np.array(ds["kept"])
    if kept_mask.any() and (~kept_mask & ~np.isnan(scores)).any() and kw["mode"] == "global-top-n":
        assert scores[kept_mask].min() >= np.nanmax(scores[~kept_mask])


def test_threshold_mode_separates_right_from_wrong(filter_inputs, tmp_path):
    dataset, synthetic, landmarker = filter_inputs
    run(dataset, synthetic, tmp_path / "all", landmarker, mode="threshold", threshold=-1e9)
    ds = load_dataset(str(tmp_path / "all"), split="train")
    t, s = truths(ds), ds["score"]
    right = [v for v, x in zip(s, t) if x == "right"]
    other = [v for v, x in zip(s, t) if x in ("wrong", "unaffected")]
    cut = (min(right) + max(other)) / 2
    assert min(right) > max(other)
    run(dataset, synthetic, tmp_path / "cut", landmarker, mode="threshold", threshold=cut)
    cut_ds = load_dataset(str(tmp_path / "cut"), split="train")
    assert [x for x, k in zip(truths(cut_ds), cut_ds["kept"]) if k] == ["right"] * 9


def test_paper5pt_runs_through_the_same_pipeline(filter_inputs, tmp_path):
    dataset, synthetic, landmarker = filter_inputs
    result = run(dataset, synthetic, tmp_path / "out", landmarker, score="paper5pt", mode="global-top-n", top_n=5)
    ds = load_dataset(str(tmp_path / "out"), split="train")
    assert result.kept == 5 and "score_expression" not in ds.column_names
    assert all(0.9 < s <= 1.0 for s in ds["score"] if s is not None)


@pytest.mark.parametrize("score", ["landmarks", "paper5pt"])
def test_output_is_byte_identical_when_test_images_change(filter_inputs, tmp_path, write_built_dataset, toy, score):
    """Leak-freedom: a different test split (other images, labels, landmarks) changes no output byte."""
    dataset, synthetic, landmarker = filter_inputs
    run(dataset, synthetic, tmp_path / "a", landmarker, score=score, mode="global-top-n", top_n=6)
    before = sorted(p.name for p in (dataset / "data").iterdir())
    toy.write_dataset(dataset, write_built_dataset, test_variant=1)  # same folder, new test split
    after = sorted(p.name for p in (dataset / "data").iterdir())
    assert [n for n in before if n.startswith("test")] != [n for n in after if n.startswith("test")]
    assert [n for n in before if not n.startswith("test")] == [n for n in after if not n.startswith("test")]
    run(dataset, synthetic, tmp_path / "b", landmarker, score=score, mode="global-top-n", top_n=6)
    a, b = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert a.keys() == b.keys() and all(a[k] == b[k] for k in a)


def test_training_images_change_the_output(filter_inputs, tmp_path, write_built_dataset, toy):
    """The control of the leak test: the comparison can fail."""
    dataset, synthetic, landmarker = filter_inputs
    run(dataset, synthetic, tmp_path / "a", landmarker)
    toy.write_dataset(dataset, write_built_dataset, train_per_class=4)
    run(dataset, synthetic, tmp_path / "b", landmarker)
    assert tree(tmp_path / "a") != tree(tmp_path / "b")


def test_rerun_needs_overwrite_and_keeps_foreign_folders(filter_inputs, tmp_path):
    from rdface_hf._errors import InputError

    dataset, synthetic, landmarker = filter_inputs
    run(dataset, synthetic, tmp_path / "out", landmarker)
    with pytest.raises(InputError, match="overwrite"):
        run(dataset, synthetic, tmp_path / "out", landmarker)
    run(dataset, synthetic, tmp_path / "out", landmarker, overwrite=True)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(InputError):
        run(dataset, synthetic, foreign, landmarker, overwrite=True)
    assert (foreign / "notes.txt").read_text() == "mine"


def test_leaky_generators_are_noted(filter_inputs, tmp_path, toy, capsys):
    dataset, _, _ = filter_inputs
    landmarker = toy.StubLandmarker()
    synthetic = toy.write_synthetic(tmp_path / "leaky", landmarker, trained_on="test")
    run(dataset, synthetic, tmp_path / "out", landmarker)
    assert "20 trained on test" in capsys.readouterr().err


def test_a_filtered_set_can_be_rescored(filter_inputs, tmp_path):
    """Filtering a filter's output replaces the earlier run's columns (no stale components)."""
    dataset, synthetic, landmarker = filter_inputs
    run(dataset, synthetic, tmp_path / "first", landmarker, mode="global-top-n", top_n=2)
    run(dataset, tmp_path / "first", tmp_path / "second", landmarker, score="paper5pt", mode="global-top-n", top_n=5)
    ds = load_dataset(str(tmp_path / "second"), split="train")
    assert sum(ds["kept"]) == 5 and not any(c.startswith("score_") for c in ds.column_names)
    assert all(s is None or 0.9 < s <= 1.0 for s in ds["score"])


def test_kept_rejected_shows_the_best_kept_and_the_worst_rejected(tmp_path, monkeypatch):
    drawn = {}
    monkeypatch.setattr(report, "write_sheets", lambda path, rows, header: drawn.update(rows=rows, header=header))
    images = [f"img{i}" for i in range(8)]
    labels = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    scores = np.array([0.5, 0.9, 0.1, np.nan, 0.7, 0.2, 0.3, 0.4])
    kept = np.array([True, True, False, False, True, False, False, True])
    face = np.array([True, True, True, False, True, True, True, True])
    report.kept_rejected(tmp_path / "k.png", images, labels, scores, kept, face, ["AA", "BB"], per_side=2)
    first, second = drawn["rows"]
    assert first.label == "AA" and first.cells == ["img1", "img4", None, "img2", "img3"]
    assert first.captions == ["0.900", "0.700", "", "0.100", "no face"]
    assert second.label == "BB" and second.cells == ["img7", None, None, "img5", "img6"]
    assert second.captions == ["0.400", "", "", "0.200", "0.300"]
