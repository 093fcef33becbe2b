"""Identities: folders of extra portraits."""

from __future__ import annotations

import io

from PIL import Image

from rdface_hf import cli
from rdface_hf.sim.identities import build_bank


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
