"""rdface audit-synthetic with the real dlib model: planted copies flagged, distinct faces not."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from datasets import load_dataset
from PIL import Image

from rdface_hf.audit.config import AuditConfig
from rdface_hf.audit.run import run_audit
from rdface_hf.cli import main

from .conftest import write_set


@pytest.fixture(scope="module")
def audited(planted, sim_build, tmp_path_factory):
    out = tmp_path_factory.mktemp("audit") / "out"
    config = AuditConfig(synthetic=str(planted[0]), dataset=str(sim_build), output_dir=str(out), fold="0",
                         altered_copies=8, workers=1, progress=False)  # fmt: skip
    return run_audit(config), out


def test_planted_copies_are_flagged_and_distinct_faces_are_not(audited, planted):
    result, out = audited
    _, kinds, ids = planted
    rows = load_dataset(str(out), split="train")
    kinds = np.array(kinds)
    near = np.array(rows["near_copy"])
    copies = kinds != "distinct"
    assert near[copies].all(), list(zip(kinds, rows["distance"]))
    assert not near[~copies].any(), rows["distance"]
    assert [i for i, c in zip(rows["nearest_real_id"], copies) if c] == [i for i in ids if i]
    assert np.array(rows["nearest_real_split"])[kinds == "test_copy"].tolist() == ["test"]  # test images count
    assert set(np.array(rows["nearest_real_split"])[np.isin(kinds, ["exact", "flip"])]) == {"training"}
    assert all(len(n) == 3 for n in rows["neighbour_ids"]) and set(rows["status"]) == {"ok"}
    assert result.near_copies == int(copies.sum()) and result.contact_sheet


def test_summary_histogram_contact_sheet_and_card(audited):
    result, out = audited
    summary = json.loads((out / "summary.json").read_text())
    cal = summary["calibration"]
    assert cal["threshold"] == pytest.approx(result.threshold, abs=1e-4) and cal["real_to_nearest_other_real"]["n"] > 20
    assert set(cal["altered_copies"]) == {"flip", "crop", "recompress", "colour_jitter"}
    assert [r["name"] for r in summary["per_generator"]] == ["morph"] and summary["per_condition"]
    assert summary["nearest_real_split"]["test"] == 1 and summary["simulated_dataset"]
    text = (out / "summary.md").read_text()
    assert "Per condition" in text and "Per generator" in text and "does not" in text
    for name in ("distance_histogram.png", "contact_sheet.png"):
        with Image.open(out / name) as im:
            assert np.asarray(im.convert("L")).std() > 5, name
    assert (out / "audit_config.json").is_file() and "never trains" in (out / "README.md").read_text()


def test_a_gated_dataset_gets_no_contact_sheet_unless_asked(planted, sim_build, tmp_path, monkeypatch):
    from rdface_hf.dataset.facade import RDFaceDataset

    monkeypatch.setattr(RDFaceDataset, "simulated", property(lambda self: False))
    result = run_audit(AuditConfig(synthetic=str(planted[0]), dataset=str(sim_build), output_dir=str(tmp_path / "g"),
                                   altered_copies=0, workers=1, progress=False))  # fmt: skip
    assert not result.contact_sheet and not (tmp_path / "g" / "contact_sheet.png").exists()
    assert "Derived from gated faces" in (tmp_path / "g" / "summary.md").read_text()
    assert "gated" in (tmp_path / "g" / "README.md").read_text()


def test_bad_images_are_row_statuses(sim_build, astronaut, noise_image, tmp_path):
    from rdface_hf.dataset import RDFaceDataset

    names = RDFaceDataset(sim_build).class_names
    grey = np.repeat(np.asarray(Image.fromarray(astronaut).convert("L"))[:, :, None], 3, 2)
    tiny = np.asarray(Image.fromarray(astronaut).resize((32, 32)))
    folder = write_set(tmp_path / "bad", names, [(noise_image(3, 128), 0, "noise"), (grey, 1, "grey"),
                                                  (tiny, 2, "tiny")])  # fmt: skip
    run_audit(AuditConfig(synthetic=str(folder), dataset=str(sim_build), output_dir=str(tmp_path / "o"),
                          altered_copies=0, workers=1, progress=False))  # fmt: skip
    rows = load_dataset(str(tmp_path / "o"), split="train")
    assert rows["status"][0] == "no_face" and rows["status"][1] == "ok"
    assert rows["status"][2] in ("no_face", "face_too_small") and rows["distance"][0] is None
    assert rows["near_copy"] == [False, False, False]


def test_bad_invocations_are_one_line(planted, sim_build, tmp_path, capsys, monkeypatch):
    base = ["audit-synthetic", "--dataset", str(sim_build), "--output-dir", str(tmp_path / "o")]
    for extra in (["--synthetic", str(tmp_path / "missing")], ["--synthetic", str(sim_build)],
                  ["--synthetic", str(planted[0]), "--fold", "9"],
                  ["--synthetic", str(planted[0]), "--threshold", "-1"]):  # fmt: skip
        assert main([*base, *extra]) == 2, extra
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("rdface audit-synthetic: error:"), err
    monkeypatch.setitem(sys.modules, "dlib", None)  # dlib not installed
    assert main([*base, "--synthetic", str(planted[0])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'rdface_hf[face]'" in err[0]
    assert not (tmp_path / "o").exists()
