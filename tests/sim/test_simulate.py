"""The simulate stage: determinism, the release it writes, its ground truth, bad input."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PIL import Image

from rdface_hf import cli
from rdface_hf.dataset.images import NEAR_DUPLICATE_DISTANCE, near_duplicate_pairs, perceptual_hash
from rdface_hf.dataset.release import REQUIRED_COLUMNS as RDFACE_COLUMNS
from rdface_hf.sim import SimConfig, simulate
from rdface_hf.sim.conditions import MAX_PER_CONDITION
from rdface_hf.sim.features import FEATURES


def _rows(release) -> list[dict]:
    with open(release / "disease_images.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_same_seed_is_byte_identical_across_runs_and_workers(release_files, small_release, tmp_path, capsys):
    again = tmp_path / "again"
    argv = ["simulate", str(again), "--conditions", "6", "--per-condition-mean", "2.5", "--image-size", "128"]
    rc = cli.main([*argv, "--seed", "7", "--workers", "2", "--preview"])
    assert rc == 0
    captured = capsys.readouterr()
    assert "simulated 15 images of 6 conditions" in captured.out and "a face in" in captured.out
    assert "only 2 source portrait(s) in use (fewer than 20)" in captured.err, "the built-in pair is flagged"
    first, second = release_files(small_release), release_files(again)
    assert sorted(first) == sorted(second)
    assert len(first) == 15 + 5  # images, CSV, ground truth, README, config, the output manifest
    for name in first:
        assert first[name] == second[name], name


def test_another_seed_gives_other_images(small_sim_settings, release_files, small_release, tmp_path):
    other = tmp_path / "other"
    settings = {**small_sim_settings, "seed": 8, "conditions": 2, "per_condition_mean": 2.0}
    simulate(SimConfig(out=str(other), workers=1, **settings), progress=False)
    a, b = release_files(small_release), release_files(other)
    jpegs = [n for n in a if n.endswith(".jpg") and n in b]
    assert jpegs and all(a[n] != b[n] for n in jpegs)


def test_release_layout_and_csv(small_release):
    rows = _rows(small_release)
    with open(small_release / "disease_images.csv", newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert tuple(header[: len(RDFACE_COLUMNS)]) == RDFACE_COLUMNS and header[-2:] == ["identity", "age"]
    assert len(rows) == round(6 * 2.5)
    abbrs = [r["disease_abbr"] for r in rows]
    order = list(dict.fromkeys(abbrs))
    assert order == [f"SIM{i:03d}" for i in range(1, 7)] and abbrs == sorted(abbrs)
    for r in rows:
        assert r["disease_name"] == "Simulated syndrome " + r["disease_abbr"][3:], "a neutral name"
        assert not any(f in r["disease_name"].lower() for f in FEATURES)
        assert r["gene_name"].startswith("SIMG") and r["orphanet_code"].startswith("SIM-")
        assert r["sub_category"] == "simulated" and 2 <= int(r["age"]) <= 16
        with Image.open(small_release / "rd_images" / r["disease_abbr"] / r["image_name"]) as im:
            assert im.format == "JPEG" and min(im.size) >= 64 and max(im.size) <= 512
            assert "exif" not in im.info
    ids = [r["identity"] for r in rows]
    assert len(set(ids)) == len(rows) and all(i.startswith("SIMP-") and len(i) == 15 for i in ids)
    assert ids != sorted(ids), "patient ids are random tokens, not numbered in condition order"
    assert all(1 <= abbrs.count(a) <= MAX_PER_CONDITION for a in order)


def test_ground_truth_file(small_release):
    truth = json.loads((small_release / "phenotypes.json").read_text(encoding="utf-8"))
    rows = _rows(small_release)
    assert [c["disease_abbr"] for c in truth["conditions"]] == list(dict.fromkeys(r["disease_abbr"] for r in rows))
    assert set(truth["features"]) == set(FEATURES) and truth["source_portraits"] == 2
    for cond in truth["conditions"]:
        assert set(cond["features"]) <= set(FEATURES) and 2 <= len(cond["features"]) <= 4
        assert all(s > 0 for s in cond["features"].values()) and "source_style" not in cond
    by_abbr = {c["disease_abbr"]: c for c in truth["conditions"]}
    for img, row in zip(truth["images"], rows):
        assert img["image_name"] == row["image_name"] and img["patient"] == row["identity"]
        assert int(img["age"]) == int(row["age"])
        assert set(img["features"]) == set(by_abbr[row["disease_abbr"]]["features"])
        members = img["identity"]["members"]
        assert members == [0, 1] and all(isinstance(m, int) for m in members), "portraits by number, never by name"
        assert {"yaw", "pitch", "background"} <= set(img["scene"]) and {"side", "quality"} <= set(img["style"])
    text = (small_release / "phenotypes.json").read_text(encoding="utf-8")
    assert "astronaut" not in text and "hopper" not in text.lower()
    config = json.loads((small_release / "simulate_config.json").read_text(encoding="utf-8"))
    assert config["stage"] == "simulate" and config["seed"] == 7 and config["source_style"] == 0.0
    assert config["provenance"]["source_portraits"] == 2
    assert "out" not in config and "workers" not in config


def test_every_image_has_a_face_and_no_near_duplicates(small_release):
    from rdface_hf.dataset.images import load_clean
    from rdface_hf.dataset.landmarks import FaceLandmarker

    paths = sorted((small_release / "rd_images").rglob("*.jpg"))
    pixels = [load_clean(p.read_bytes()).pixels for p in paths]
    assert near_duplicate_pairs([perceptual_hash(p) for p in pixels], NEAR_DUPLICATE_DISTANCE) == []
    with FaceLandmarker() as lm:
        assert all(lm.detect(p) is not None for p in pixels)


def test_patient_ids_do_not_follow_the_order():
    from scipy.stats import spearmanr

    from rdface_hf.sim.release import patient_ids

    ids = patient_ids(0, 456)
    assert len(set(ids)) == 456 and ids == patient_ids(0, 456) and ids != patient_ids(1, 456)
    values = [int(i[5:], 16) for i in ids]
    assert abs(spearmanr(values, np.arange(456)).statistic) < 0.15


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--conditions", "0"], "--conditions"),
        (["--per-condition-mean", "-2"], "--per-condition-mean"),
        (["--per-condition-mean", "9"], "--per-condition-mean"),
        (["--difficulty", "1.5"], "--difficulty"),
        (["--source-style", "2"], "--source-style"),
        (["--image-size", "32"], "--image-size"),
        (["--identities", "/nonexistent/faces"], "--identities"),
    ],
)
def test_bad_flags_give_one_line_and_exit_2(tmp_path, capsys, flags, words):
    rc = cli.main(["simulate", str(tmp_path / "out"), *flags])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("rdface simulate: error: ") and words in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_overwrite_never_deletes_the_identities_folder(tmp_path, capsys):
    from skimage import data

    project = tmp_path / "proj"
    (project / "faces").mkdir(parents=True)
    Image.fromarray(data.astronaut()).save(project / "faces" / "a.png")
    rc = cli.main(
        ["simulate", str(project), "--identities", str(project / "faces"), "--conditions", "2", "--overwrite"]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "overlaps the input" in err and err.count("\n") == 1
    assert (project / "faces" / "a.png").is_file()


def test_too_many_conditions_is_refused_at_once(tmp_path, capsys):
    from rdface_hf.sim.conditions import max_conditions

    rc = cli.main(["simulate", str(tmp_path / "out"), "--conditions", str(max_conditions() + 1)])
    err = capsys.readouterr().err
    assert rc == 2 and f"at most {max_conditions()}" in err


def test_overwrite_keeps_a_users_file(tmp_path, capsys, user_file_survives):
    argv = ["simulate", "--conditions", "2", "--per-condition-mean", "1.5", "--image-size", "64", "--workers", "1",
            str(tmp_path / "raw")]  # fmt: skip
    assert cli.main(argv) == 0
    user_file_survives(argv, tmp_path / "raw", capsys)
