"""The simulate stage: determinism, the release it writes, its ground truth, bad input."""

from __future__ import annotations

import csv
import dataclasses
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
from rdface_hf.sim.identities import Identity


def test_same_seed_is_byte_identical_across_runs_and_workers(release_files, small_release, tmp_path, capsys):
    again = tmp_path / "again"
    rc = cli.main(
        [
            "simulate",
            str(again),
            "--conditions",
            "6",
            "--per-condition-mean",
            "2.5",
            "--image-size",
            "128",
            "--seed",
            "7",
            "--workers",
            "2",
            "--preview",
        ]
    )
    assert rc == 0
    assert "simulated 15 images of 6 conditions" in capsys.readouterr().out
    first, second = release_files(small_release), release_files(again)
    assert sorted(first) == sorted(second)
    assert len(first) == 15 + 4
    for name in first:
        assert first[name] == second[name], name


def test_another_seed_gives_other_images(small_sim_settings, release_files, small_release, tmp_path):
    other = tmp_path / "other"
    simulate(SimConfig(out=str(other), workers=1, **{**small_sim_settings, "seed": 8}), progress=False)
    a, b = release_files(small_release), release_files(other)
    jpegs = [n for n in a if n.endswith(".jpg") and n in b]
    assert jpegs and all(a[n] != b[n] for n in jpegs)


def test_release_layout_and_csv(small_release):
    with open(small_release / "disease_images.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
        fh.seek(0)
        header = next(csv.reader(fh))
    assert tuple(header[: len(RDFACE_COLUMNS)]) == RDFACE_COLUMNS
    assert len(rows) == round(6 * 2.5)
    abbrs = [r["disease_abbr"] for r in rows]
    order = list(dict.fromkeys(abbrs))
    assert order == [f"SIM{i:03d}" for i in range(1, 7)]  # grouped, in order of first appearance
    assert abbrs == sorted(abbrs)
    for r in rows:
        assert r["disease_name"].startswith("Simulated syndrome ")
        assert r["gene_name"].startswith("SIMG") and r["orphanet_code"].startswith("SIM-")
        assert r["sub_category"] == "simulated"
        with Image.open(small_release / "rd_images" / r["disease_abbr"] / r["image_name"]) as im:
            assert im.format == "JPEG" and im.size == (128, 128)
            assert "exif" not in im.info
    assert len({r["identity"] for r in rows}) == len(rows)  # every image a different patient
    counts = {a: abbrs.count(a) for a in order}
    assert all(1 <= c <= MAX_PER_CONDITION for c in counts.values())


def test_ground_truth_file(small_release):
    truth = json.loads((small_release / "phenotypes.json").read_text(encoding="utf-8"))
    with open(small_release / "disease_images.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [c["disease_abbr"] for c in truth["conditions"]] == list(dict.fromkeys(r["disease_abbr"] for r in rows))
    for cond, row_name in zip(truth["conditions"], dict.fromkeys(r["disease_name"] for r in rows)):
        assert set(cond["features"]) <= set(FEATURES) and 2 <= len(cond["features"]) <= 4
        assert all(s > 0 for s in cond["features"].values())
        assert all(name in row_name for name in cond["features"])
    assert [i["image_name"] for i in truth["images"]] == [r["image_name"] for r in rows]
    by_abbr = {c["disease_abbr"]: c for c in truth["conditions"]}
    for img, row in zip(truth["images"], rows):
        assert img["disease_abbr"] == row["disease_abbr"] and img["patient"] == row["identity"]
        assert set(img["features"]) == set(by_abbr[row["disease_abbr"]]["features"])
        ident = img["identity"]
        assert set(ident) == {f.name for f in dataclasses.fields(Identity)}
        assert set(ident["base"]) <= {"astronaut", "grace_hopper"} and 0 <= ident["morph"] <= 1
        assert len(ident["shape_coefficients"]) > 0
    config = json.loads((small_release / "simulate_config.json").read_text(encoding="utf-8"))
    assert config["stage"] == "simulate" and config["seed"] == 7 and config["conditions"] == 6
    assert "out" not in config and "workers" not in config


def test_no_near_duplicates_and_faces_found(small_release):
    from rdface_hf.dataset.landmarks import FaceLandmarker

    paths = sorted((small_release / "rd_images").rglob("*.jpg"))
    pixels = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
    assert near_duplicate_pairs([perceptual_hash(p) for p in pixels], NEAR_DUPLICATE_DISTANCE) == []
    with FaceLandmarker() as lm:
        found = sum(lm.detect(p) is not None for p in pixels)
    assert found >= len(paths) - 1


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--conditions", "0"], "--conditions"),
        (["--per-condition-mean", "-2"], "--per-condition-mean"),
        (["--per-condition-mean", "9"], "--per-condition-mean"),
        (["--difficulty", "1.5"], "--difficulty"),
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
