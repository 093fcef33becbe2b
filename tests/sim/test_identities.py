"""Patients: composites of source portraits, folders of portraits, nothing named."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
from PIL import Image

from rdface_hf import cli
from rdface_hf.sim.bank import build_bank
from rdface_hf.sim.identities import AGE_RANGE, sample_identity


def _portraits(folder, count: int) -> None:
    """``count`` portraits: the astronaut mirrored, tinted and re-cropped (distinct files)."""
    from skimage import data

    folder.mkdir()
    base = Image.fromarray(data.astronaut()).transpose(Image.FLIP_LEFT_RIGHT)
    for k in range(count):
        im = base.crop((10 * k, 5 * k, 512 - 3 * k, 512 - 2 * k)).resize((400, 400))
        tint = np.clip(np.asarray(im, float) * (1.0 - 0.05 * k, 1.0, 1.0 + 0.03 * k), 0, 255).astype(np.uint8)
        Image.fromarray(tint).save(folder / f"jane_doe_{k}.png")


def test_patients_vary_in_age_and_colouring(bank):
    rng = np.random.default_rng(0)
    people = [sample_identity(rng, bank, 0.75, 0.5) for _ in range(200)]
    ages = [p.age for p in people]
    assert AGE_RANGE[0] <= min(ages) < 4 and 14 < max(ages) <= AGE_RANGE[1]
    assert len({p.hair_colour for p in people}) >= 4 and len({p.expression for p in people}) == 2
    assert np.std([np.mean(p.skin_rgb) for p in people]) > 15
    assert all(p.members == (0, 1) for p in people), "the built-in pair: every patient blends both"


def test_a_folder_of_portraits_makes_composites_of_three(tmp_path, capsys):
    faces = tmp_path / "faces"
    _portraits(faces, 4)
    Image.new("RGB", (120, 120), (90, 140, 200)).save(faces / "sky.png")
    bank = build_bank(faces)
    assert len(bank.portraits) == 4 and not bank.builtin, "3 or more faces replace the built-in pair"
    assert "skipped sky.png (no face found)" in capsys.readouterr().err, "a skipped file is reported"
    rng = np.random.default_rng(1)
    people = [sample_identity(rng, bank, 0.75, 0.5) for _ in range(50)]
    assert all(len(p.members) >= 3 for p in people) and len({p.members for p in people}) > 1


def test_source_names_never_reach_the_release(tmp_path, capsys):
    faces = tmp_path / "faces"
    _portraits(faces, 3)
    out = tmp_path / "out"
    argv = ["simulate", str(out), "--identities", str(faces), "--conditions", "2", "--per-condition-mean", "2"]
    assert cli.main([*argv, "--image-size", "96", "--workers", "1"]) == 0
    assert "only 3 source portrait(s)" in capsys.readouterr().err
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".csv", ".json"):
            assert "jane" not in path.read_text(encoding="utf-8").lower(), path.name
    truth = json.loads((out / "phenotypes.json").read_text())
    assert truth["source_portraits"] == 3 and truth["portraits_per_patient"] == 3
    assert all(len(i["identity"]["members"]) == 3 for i in truth["images"])
    with open(out / "disease_images.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 4


def test_identities_folder_without_faces(tmp_path, capsys):
    faces = tmp_path / "faces"
    faces.mkdir()
    Image.new("RGB", (120, 120), (90, 140, 200)).save(faces / "sky.png")
    (faces / "notes.txt").write_text("not an image")
    rc = cli.main(["simulate", str(tmp_path / "out"), "--identities", str(faces), "--conditions", "2"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("rdface simulate: error: --identities") and "no face" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_a_small_folder_is_pooled_with_the_built_in_pair(tmp_path):
    from skimage import data

    faces = tmp_path / "faces"
    faces.mkdir()
    buf = io.BytesIO()
    Image.fromarray(data.astronaut()).transpose(Image.FLIP_LEFT_RIGHT).save(buf, format="PNG")
    (faces / "mirror.png").write_bytes(buf.getvalue())
    bank = build_bank(faces)
    assert len(bank.portraits) == 3 and bank.builtin and bank.members_per_patient == 3


def test_identity_files_that_cannot_be_used_are_reported(png_header_only, tmp_path, capsys):
    from skimage import data

    faces = tmp_path / "faces"
    faces.mkdir()
    Image.fromarray(data.astronaut()).save(faces / "a.png")
    (faces / "bomb.png").write_bytes(png_header_only(20_000, 20_000))
    (faces / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    build_bank(faces)
    err = capsys.readouterr().err
    assert "skipped bomb.png (larger than 50 megapixels" in err
    assert "skipped gone.jpg (cannot read" in err
