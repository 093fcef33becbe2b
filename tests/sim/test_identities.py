"""Identities: folders of extra portraits."""

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
from rdface_hf.dataset.images import NEAR_DUPLICATE_DISTANCE, near_duplicate_pairs, perceptual_hash
from rdface_hf.dataset.release import REQUIRED_COLUMNS as RDFACE_COLUMNS
from rdface_hf.sim import SimConfig, simulate
from rdface_hf.sim.conditions import MAX_PER_CONDITION, sample_counts
from rdface_hf.sim.features import AXES, FEATURES, apply_features, displacement_field, measure_features
from rdface_hf.sim.identities import Identity, build_bank, canonical_frame, identity_shape
from rdface_hf.sim.render import render
from rdface_hf.sim.warp import jacobian_det


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


def test_identity_files_that_cannot_be_used_are_reported(png_header_only, tmp_path, capsys):
    from skimage import data

    faces = tmp_path / "faces"
    faces.mkdir()
    Image.fromarray(data.astronaut()).save(faces / "a.png")
    (faces / "bomb.png").write_bytes(png_header_only(20_000, 20_000))
    (faces / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    build_bank(128, faces)
    err = capsys.readouterr().err
    assert "skipped bomb.png (larger than 50 megapixels" in err
    assert "skipped gone.jpg (cannot read" in err

