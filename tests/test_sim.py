"""The phenotype simulator (``rdface simulate``): output, truth, determinism, errors.

Tests that render faces need the MediaPipe model through RDFACE_FACE_LANDMARKER
(they fail, never skip, without it).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rdface_hf import cli
from rdface_hf._errors import InputError
from rdface_hf.images import NEAR_DUPLICATE_DISTANCE, near_duplicate_pairs, perceptual_hash
from rdface_hf.sim import SimConfig, simulate
from rdface_hf.sim.conditions import MAX_PER_CONDITION, sample_counts
from rdface_hf.sim.features import AXES, FEATURES, apply_features, displacement_field, measure_features
from rdface_hf.sim.identities import Identity, build_bank, canonical_frame, identity_shape
from rdface_hf.sim.render import render
from rdface_hf.release import REQUIRED_COLUMNS as RDFACE_COLUMNS
from rdface_hf.sim.warp import jacobian_det

SMALL = dict(conditions=6, per_condition_mean=2.5, image_size=128, seed=7)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small_release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "release"
    simulate(SimConfig(out=str(out), workers=1, preview=True, **SMALL), progress=False)
    return out


# --- determinism -------------------------------------------------------------------


def test_same_seed_is_byte_identical_across_runs_and_workers(small_release, tmp_path, capsys):
    again = tmp_path / "again"
    rc = cli.main(["simulate", str(again), "--conditions", "6", "--per-condition-mean", "2.5", "--image-size", "128",
                   "--seed", "7", "--workers", "2", "--preview"])
    assert rc == 0
    assert "simulated 15 images of 6 conditions" in capsys.readouterr().out
    first, second = _files(small_release), _files(again)
    assert sorted(first) == sorted(second)
    assert len(first) == 15 + 4
    for name in first:
        assert first[name] == second[name], name


def test_another_seed_gives_other_images(small_release, tmp_path):
    other = tmp_path / "other"
    simulate(SimConfig(out=str(other), workers=1, **{**SMALL, "seed": 8}), progress=False)
    a, b = _files(small_release), _files(other)
    jpegs = [n for n in a if n.endswith(".jpg") and n in b]
    assert jpegs and all(a[n] != b[n] for n in jpegs)


# --- the release ---------------------------------------------------------------------


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
    assert config["stage"] == "SimConfig" and config["seed"] == 7 and config["conditions"] == 6
    assert "out" not in config and "workers" not in config


def test_no_near_duplicates_and_faces_found(small_release):
    from rdface_hf.landmarks import FaceLandmarker

    paths = sorted((small_release / "rd_images").rglob("*.jpg"))
    pixels = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
    assert near_duplicate_pairs([perceptual_hash(p) for p in pixels], NEAR_DUPLICATE_DISTANCE) == []
    with FaceLandmarker() as lm:
        found = sum(lm.detect(p) is not None for p in pixels)
    assert found >= len(paths) - 1


def test_preview_is_a_contact_sheet(small_release):
    with Image.open(small_release / "preview.png") as im:
        assert im.format == "PNG" and im.width > im.height / 2 and im.width >= 4 * 128


# --- deformations measured back ------------------------------------------------------


def _plain_identity(bank) -> Identity:
    k = len(bank.space.sds)
    grey = ((128, 128, 128),) * 3
    return Identity(base=("astronaut", "astronaut"), morph=0.0, shape_coefficients=(0.0,) * k, roll_degrees=0.0, scale=1.0,
                    shift=(0.0, 0.0), light_angle=0.0, light_strength=0.0, brightness=1.0, gamma=1.0,
                    skin_tone=(1.0, 1.0, 1.0), background=(grey,) * 3)


@pytest.fixture(scope="module")
def measured():
    """Render one face with single features and re-detect its landmarks."""
    from rdface_hf.landmarks import FaceLandmarker

    bank = build_bank(256)
    ident = _plain_identity(bank)
    cases = {"none": {}, "hypertelorism": {"hypertelorism": 1.5}, "hypotelorism": {"hypotelorism": 1.5},
             "long philtrum": {"long philtrum": 1.5}, "short philtrum": {"short philtrum": 1.5},
             "wide mouth": {"wide mouth": 1.5}, "small mouth": {"small mouth": 1.5}}
    out = {}
    with FaceLandmarker() as lm:
        for name, sev in cases.items():
            r = render(bank, ident, sev)
            face = lm.detect(r.pixels)
            assert face is not None, name
            out[name] = (face.pixels(), r)
    return out


@pytest.mark.parametrize(
    "feature, opposite, axis",
    [("hypertelorism", "hypotelorism", "telorism"), ("long philtrum", "short philtrum", "philtrum"), ("wide mouth", "small mouth", "mouth_width")],
)
def test_feature_measured_back_from_landmarks(measured, feature, opposite, axis):
    """Re-detected landmarks move as requested: same sign, 40-130 % of the size.

    MediaPipe's shape prior pulls landmarks towards an average face, so the
    recovered change is somewhat below the requested one (about 55-100 %).
    """
    base = measured["none"][0]
    m0 = measure_features(base)[axis]
    for name, sign in ((feature, 1.0), (opposite, -1.0)):
        sev = {name: 1.5}
        expected = measure_features(apply_features(base, sev))[axis] - m0
        got = measure_features(measured[name][0])[axis] - m0
        assert np.sign(expected) == sign
        assert np.sign(got) == sign, (name, got)
        assert 0.4 * abs(expected) <= abs(got) <= 1.3 * abs(expected), (name, got, expected)


def test_render_reports_intended_landmarks(measured):
    pts, r = measured["hypertelorism"]
    err = np.linalg.norm(pts - r.landmarks, axis=1)
    assert np.median(err) < 0.03 * 256


# --- no folding ------------------------------------------------------------------------


def test_feature_fields_do_not_fold_at_full_severity():
    anchors = identity_shape(build_bank(128), _plain_identity(build_bank(128)))
    ys, xs = np.mgrid[-2.0:3.0:0.02, -2.0:2.0:0.02]
    grid = np.stack([xs, ys], axis=-1)
    for name in FEATURES:
        field = displacement_field(anchors, {name: 1.7})
        mapped = grid + field(grid.reshape(-1, 2)).reshape(grid.shape)
        det = jacobian_det(mapped, 0.02)
        assert det.min() > 0.2, (name, det.min())  # the renderer's MIN_JACOBIAN
        assert np.abs(mapped - grid).max() > 0.01, name  # and the feature does something


def test_jacobian_check_sees_a_fold():
    grid = np.stack(np.meshgrid(np.arange(5.0), np.arange(5.0)), axis=-1)
    assert np.allclose(jacobian_det(grid, 1.0), 1.0)
    assert (jacobian_det(grid[:, ::-1], 1.0) < 0).all()


def test_render_backs_off_a_folding_warp(monkeypatch):
    from rdface_hf.sim import render as render_mod

    bank = build_bank(128)
    ident = _plain_identity(bank)
    ok = render(bank, ident, {"hypertelorism": 1.5})
    assert ok.warp_scale == 1.0 and ok.min_jacobian > 0
    orig = render_mod.displacement_field

    def wild(anchors, severities):  # a field with a slope far above 1: folds unless scaled down
        return lambda p: orig(anchors, severities)(p) * 12.0

    monkeypatch.setattr(render_mod, "displacement_field", wild)
    folded = render(bank, ident, {"hypertelorism": 1.5})
    assert folded.warp_scale < 1.0 and folded.min_jacobian > 0


# --- counts ------------------------------------------------------------------------------


@pytest.mark.parametrize("n, mean", [(103, 456 / 103), (1, 1.0), (6, 2.5), (50, 7.0), (200, 1.3)])
def test_counts_per_condition(n, mean):
    counts = sample_counts(n, mean, np.random.default_rng(0))
    assert len(counts) == n and sum(counts) == round(n * mean)
    assert all(1 <= c <= MAX_PER_CONDITION for c in counts)


def test_default_counts_mirror_rdface():
    counts = sample_counts(103, 456 / 103, np.random.default_rng(0))
    assert sum(counts) == 456 and 1 <= counts.count(1) <= 6 and max(counts) == 7


# --- bad input -----------------------------------------------------------------------------


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


def test_identities_folder_without_faces(tmp_path, capsys):
    faces = tmp_path / "faces"
    faces.mkdir()
    Image.new("RGB", (120, 120), (90, 140, 200)).save(faces / "sky.png")
    (faces / "notes.txt").write_text("not an image")
    rc = cli.main(["simulate", str(tmp_path / "out"), "--identities", str(faces), "--conditions", "2"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("rdface simulate: error: --identities") and "no face" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_identities_folder_with_a_face_is_used(tmp_path, capsys):
    from skimage import data

    faces = tmp_path / "faces"
    faces.mkdir()
    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).transpose(Image.FLIP_LEFT_RIGHT).save(buf, format="PNG")
    (faces / "mirror.png").write_bytes(buf.getvalue())
    Image.new("RGB", (120, 120), (90, 140, 200)).save(faces / "sky.png")
    bank = build_bank(128, faces)
    assert [f.name for f in bank.faces][-1] == "dir:mirror.png"
    assert "skipped sky.png (no face found)" in capsys.readouterr().err, "a skipped file is reported"


def test_config_errors_are_input_errors(tmp_path):
    with pytest.raises(InputError):
        SimConfig(out=str(tmp_path), conditions=-3)
    with pytest.raises(InputError):
        SimConfig(out=str(tmp_path), difficulty=-0.1)
    assert canonical_frame(100).iod > 0 and len(AXES) >= 14


def test_overwrite_never_deletes_the_identities_folder(tmp_path, capsys):
    from skimage import data

    project = tmp_path / "proj"
    (project / "faces").mkdir(parents=True)
    Image.fromarray(data.astronaut()).save(project / "faces" / "a.png")
    rc = cli.main(["simulate", str(project), "--identities", str(project / "faces"), "--conditions", "2", "--overwrite"])
    err = capsys.readouterr().err
    assert rc == 2 and "overlaps the input" in err and err.count("\n") == 1
    assert (project / "faces" / "a.png").is_file()


def test_too_many_conditions_is_refused_at_once(tmp_path, capsys):
    from rdface_hf.sim.conditions import max_conditions

    rc = cli.main(["simulate", str(tmp_path / "out"), "--conditions", str(max_conditions() + 1)])
    err = capsys.readouterr().err
    assert rc == 2 and f"at most {max_conditions()}" in err


def test_identity_files_that_cannot_be_used_are_reported(tmp_path, capsys):
    from skimage import data

    from test_images import png_header_only

    faces = tmp_path / "faces"
    faces.mkdir()
    Image.fromarray(data.astronaut()).save(faces / "a.png")
    (faces / "bomb.png").write_bytes(png_header_only(20_000, 20_000))
    (faces / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    build_bank(128, faces)
    err = capsys.readouterr().err
    assert "skipped bomb.png (larger than 50 megapixels" in err
    assert "skipped gone.jpg (cannot read" in err
