"""``rdface build`` on hostile releases and hostile output folders: a rejected row with
a reason, or one line on stderr and exit 2; never a traceback, a leftover or a lost file."""

from __future__ import annotations

import errno
import io
import json
import os
import threading
import time
import unicodedata

import numpy as np
import pytest
from PIL import Image

from rdface_hf._outputs import output_lock
from rdface_hf.dataset import load_rdface

# --- output folders -------------------------------------------------------------------------


def one_line(err: list[str], *needles: str) -> str:
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    for needle in needles:
        assert needle in err[0], err[0]
    return err[0]


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_foreign_folder_is_never_replaced(noise_release, rdface_build, tree, tmp_path, overwrite):
    raw = noise_release(tmp_path / "raw")
    out = tmp_path / "settings"
    out.mkdir()
    (out / "config.ini").write_text("precious")
    before = tree(tmp_path)
    code, _, err = rdface_build(raw, out, *(["--overwrite"] if overwrite else []))
    assert code == 2
    one_line(err, "not empty and was not written by this command")
    assert tree(tmp_path) == before


def test_a_symlink_to_a_folder_is_refused_and_nothing_is_left(noise_release, rdface_build, tree, tmp_path):
    raw = noise_release(tmp_path / "raw")
    earlier = tmp_path / "earlier"
    assert rdface_build(raw, earlier)[0] == 0
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "x.txt").write_text("keep")
    for target in (earlier, tmp_path / "theirs"):
        link = tmp_path / f"link-{target.name}"
        link.symlink_to(target)
        before = tree(tmp_path)
        code, _, err = rdface_build(raw, link, "--overwrite")
        assert code == 2
        one_line(err, "symbolic link")
        assert tree(tmp_path) == before, "no .old-* link, no partial folder"


@pytest.mark.parametrize("out", ["", ".", "..", "cwd", "ancestor", "home", "~", "/", "/etc"])
def test_dangerous_outputs_are_refused(noise_release, rdface_build, tree, tmp_path, monkeypatch, out):
    raw = noise_release(tmp_path / "project" / "raw")
    work = tmp_path / "project" / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "project"))
    arg = {"cwd": str(work), "ancestor": str(tmp_path), "home": str(tmp_path / "project")}.get(out, out)
    before = tree(tmp_path)
    code, _, err = rdface_build(raw, arg, "--overwrite")
    assert code == 2
    one_line(err, "refusing")
    assert tree(tmp_path) == before


def test_an_earlier_build_with_added_files_is_not_replaced(noise_release, rdface_build, tmp_path):
    raw = noise_release(tmp_path / "raw")
    out = tmp_path / "out"
    assert rdface_build(raw, out)[0] == 0
    (out / "my_analysis.ipynb").write_text("a person's work")
    code, _, err = rdface_build(raw, out, "--overwrite")
    assert code == 2
    one_line(err, "holds files this command did not write (my_analysis.ipynb)")
    assert (out / "my_analysis.ipynb").read_text() == "a person's work"
    (out / "my_analysis.ipynb").unlink()
    config = json.loads((out / "build_config.json").read_text())
    config["stage"] = "BuildConfig"  # what older versions wrote: still recognised as a build
    (out / "build_config.json").write_text(json.dumps(config))
    assert rdface_build(raw, out, "--overwrite")[0] == 0


def test_a_second_build_of_the_same_output_stops_at_once(noise_release, rdface_build, tmp_path):
    raw = noise_release(tmp_path / "raw")
    out = tmp_path / "out"
    with output_lock(out):  # another build is writing OUT
        code, _, err = rdface_build(raw, out)
        assert code == 2
        one_line(err, "another rdface run is writing")
    assert not out.exists()


def test_concurrent_builds_one_wins_the_other_exits_with_one_line(noise_release, build_release, tmp_path):
    """Two builds at once: the lock is taken before the slow work, so the second stops at once;
    neither replaces the other's output."""
    from rdface_hf._errors import InputError
    from rdface_hf.dataset.builder import BuildConfig, build_dataset

    raw = noise_release(tmp_path / "raw")
    out = tmp_path / "out"
    started = threading.Event()

    class Slow:
        def detect(self, image):
            started.set()
            time.sleep(0.2)
            return None

    outcome = {}

    def first():
        config = BuildConfig(raw=str(raw), out=str(out), face_check=False, progress=False, workers=1)
        outcome["first"] = build_dataset(config, landmarker=Slow())

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(30)
    with pytest.raises(InputError, match="another rdface run is writing"):
        build_release(raw, out, landmarks=False, overwrite=True)
    thread.join()
    assert outcome["first"].accepted + outcome["first"].warnings == 6
    with pytest.raises(InputError, match="pass --overwrite"):
        build_release(raw, out, landmarks=False)


def test_leftovers_of_a_killed_build_are_removed_and_said(noise_release, rdface_build, tmp_path):
    raw = noise_release(tmp_path / "raw")
    (tmp_path / ".out.partial-x1y2z3w4").mkdir()
    (tmp_path / ".out.partial-x1y2z3w4" / "README.md").write_text("half")
    (tmp_path / ".out.old-123").symlink_to(tmp_path / "raw")  # a link an old version moved aside
    code, _, err = rdface_build(raw, tmp_path / "out")
    assert code == 0
    assert sum("left behind by an interrupted run" in line for line in err) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "raw"]
    assert (tmp_path / "raw" / "disease_images.csv").is_file(), "the link's target is untouched"


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO])
def test_a_full_disk_or_io_error_is_one_line_and_leaves_nothing(
    noise_release, rdface_build, tmp_path, monkeypatch, code
):
    import rdface_hf._io as io_module

    raw = noise_release(tmp_path / "raw")
    out = tmp_path / "out"
    assert rdface_build(raw, out)[0] == 0
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def fail(fd):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(io_module.os, "fsync", fail)  # every atomic write fails
    for target, flags, kept in ((tmp_path / "new", (), "nothing was written"), (out, ("--overwrite",), "is kept")):
        status, _, err = rdface_build(raw, target, *flags)
        assert status == 2
        one_line(err, os.strerror(code), errno.errorcode[code], kept)  # says truthfully what was kept
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "raw"], "no partial folder, no lock"
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before, "the earlier build is intact"


# --- odd files under rd_images ---------------------------------------------------------------


def test_links_loops_fifos_and_folder_links_are_reported(noise_release, rdface_build, read_report, tmp_path):
    raw = noise_release(tmp_path / "raw", conditions=3)
    images = raw / "rd_images"
    (images / "K0" / "loop.png").symlink_to("loop.png")  # a link to itself
    (images / "K0" / "a.png").symlink_to("b.png")
    (images / "K0" / "b.png").symlink_to("a.png")  # a loop of two
    os.mkfifo(images / "K1" / "pipe.png")
    os.mkfifo(images / "K1" / "stray_pipe.png")
    (images / "K2" / "sub").mkdir()
    (images / "K2" / "sub" / "deeper").symlink_to("..")  # a folder loop, not followed
    (images / "K9").symlink_to("K0")  # a condition folder that is another condition's folder
    with open(raw / "disease_images.csv", "a", newline="") as fh:
        fh.write("loop.png,Condition K0,K0,test,GENE0,1000\n")
        fh.write("a.png,Condition K0,K0,test,GENE0,1000\n")
        fh.write("pipe.png,Condition K1,K1,test,GENE1,1001\n")
        fh.write("img0.png,Condition K9,K9,test,GENE9,1009\n")
    code, _, err = rdface_build(raw, tmp_path / "out")
    assert code == 0, err
    report = {(r["disease_abbr"], r["image_name"]): r for r in read_report(tmp_path / "out")}
    reason = {k: r["reason"] for k, r in report.items()}
    assert reason[("K0", "loop.png")].startswith("symbolic link loop")
    assert reason[("K0", "a.png")].startswith("symbolic link loop")
    assert reason[("K1", "pipe.png")].startswith("not a regular file (FIFO)")
    assert reason[("K1", "stray_pipe.png")] == "not a regular file (FIFO); not listed in disease_images.csv"
    assert reason[("K0", "b.png")] == "not listed in disease_images.csv"
    link = "condition folder is a symbolic link to another condition's folder (rd_images/K9 -> rd_images/K0)"
    assert reason[("K9", "img0.png")] == link
    assert reason[("K9", "")] == link + "; not followed"
    assert reason[("K2", "sub/deeper")] == "not listed in disease_images.csv"
    assert all(report[k]["status"] == "rejected" for k in reason if not k[1].startswith("img"))
    assert len(report) == len(read_report(tmp_path / "out")), "each entry once"


def test_unicode_lookalikes_are_shown_escaped(noise_release, rdface_build, read_report, noise_image, tmp_path):
    raw = noise_release(tmp_path / "raw")
    nfc, nfd = unicodedata.normalize("NFC", "café.png"), unicodedata.normalize("NFD", "café.png")
    Image.fromarray(noise_image(7)).save(raw / "rd_images" / "K0" / nfd)
    with open(raw / "disease_images.csv", "a", newline="", encoding="utf-8") as fh:
        fh.write(f"{nfc},Condition K0,K0,test,GENE0,1000\n")
    assert rdface_build(raw, tmp_path / "out")[0] == 0
    rows = {r["image_name"]: r["reason"] for r in read_report(tmp_path / "out")}
    assert rows[nfc].startswith("file missing: rd_images/") and ascii(nfd) in rows[nfc] and ascii(nfc) in rows[nfc]
    assert "Unicode normalisation" in rows[nfc]
    assert rows[nfd].startswith("not listed in disease_images.csv") and "row 7 names 'caf\\xe9.png'" in rows[nfd]


def test_eps_and_other_formats_are_refused_before_decoding(
    noise_release, rdface_build, read_report, tmp_path, monkeypatch
):
    from PIL import EpsImagePlugin

    def never(*args, **kwargs):
        raise AssertionError("the EPS plugin was used")

    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", never)
    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "load", never)
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", never, raising=False)
    raw = noise_release(tmp_path / "raw")
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\n0 0 moveto 64 64 lineto stroke\nshowpage\n"
    (raw / "rd_images" / "K0" / "drawing.eps").write_bytes(eps)
    (raw / "rd_images" / "K0" / "disguised.jpg").write_bytes(eps)  # the extension does not matter
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buf, format="PPM")
    (raw / "rd_images" / "K0" / "portable.png").write_bytes(buf.getvalue())
    with open(raw / "disease_images.csv", "a", newline="") as fh:
        for name in ("drawing.eps", "disguised.jpg", "portable.png"):
            fh.write(f"{name},Condition K0,K0,test,GENE0,1000\n")
    assert rdface_build(raw, tmp_path / "out")[0] == 0
    rows = {r["image_name"]: r["reason"] for r in read_report(tmp_path / "out")}
    assert rows["drawing.eps"].startswith("format EPS is not allowed (allowed: JPEG, PNG, TIFF, BMP, GIF, WEBP)")
    assert rows["disguised.jpg"].startswith("format EPS is not allowed")
    assert rows["portable.png"].startswith("format PPM is not allowed")


def test_a_huge_file_is_refused_from_its_size_without_reading_it(tmp_path, monkeypatch):
    import rdface_hf.dataset.images as images
    from rdface_hf.dataset.checks import process_image_file

    big = tmp_path / "huge.png"
    with open(big, "wb") as fh:  # 3 GB on paper, a few bytes on disk (sparse)
        fh.write(b"\x89PNG\r\n\x1a\n")
        fh.truncate(3 << 30)
    monkeypatch.setattr(images, "open_image", lambda *a, **k: pytest.fail("the header of a huge file was read"))
    monkeypatch.setattr(images, "load_clean", lambda *a, **k: pytest.fail("a huge file was decoded"))
    out = process_image_file((str(big), None, images.MAX_PIXELS))
    assert out["reject"] == "file too large (3072 MiB, over 397 MiB)"


def test_the_header_is_checked_before_the_file_is_read(tmp_path, png_header_only):
    from rdface_hf.dataset.checks import process_image_file

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header_only(8_000, 8_000) + b"\0" * (8 << 20))
    out = process_image_file((str(bomb), None, 50_000_000))
    assert out["reject"] == "larger than 50 megapixels (8000x8000, decompression bomb)"
    assert "file_sha256" not in out, "refused before the file was read"


# --- faces ------------------------------------------------------------------------------------


def test_two_faces_warn_and_max_faces_rejects(
    write_release, condition_row, distinct_faces, rdface_build, read_report, tmp_path
):
    group = np.concatenate([distinct_faces[0], distinct_faces[1]], axis=1)  # two children side by side
    rows = [condition_row("A", "pair.png", 0), condition_row("A", "one.png", 0), condition_row("B", "b.png", 1)]
    images = {("A", "pair.png"): group, ("A", "one.png"): distinct_faces[2], ("B", "b.png"): distinct_faces[3]}
    raw = write_release(tmp_path / "raw", rows, images)
    assert rdface_build(raw, tmp_path / "out", landmarks=True)[0] == 0
    report = {r["image_name"]: r for r in read_report(tmp_path / "out")}
    assert report["pair.png"]["status"] == "warning"
    assert report["pair.png"]["reason"] == "2 faces, the largest is used"
    assert report["one.png"]["status"] == "accepted"
    kept = {r["image_name"]: r for s in load_rdface(tmp_path / "out").values() for r in s}
    box = kept["pair.png"]["face_box"]
    assert box[2] - box[0] < 0.6, "the landmarks are one face's, not both"
    assert rdface_build(raw, tmp_path / "strict", "--max-faces", "1", landmarks=True)[0] == 0
    report = {r["image_name"]: r for r in read_report(tmp_path / "strict")}
    assert report["pair.png"]["status"] == "rejected" and report["pair.png"]["reason"] == "2 faces (--max-faces 1)"
    assert report["one.png"]["status"] == "accepted"
    code, _, err = rdface_build(raw, tmp_path / "bad", "--max-faces", "0")
    assert code == 2 and "--max-faces must be at least 1" in one_line(err)
