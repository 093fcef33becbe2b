"""The builder end to end on real files: validation, normalisation, folds, card."""

from __future__ import annotations

import csv
import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from rdface_hf.cli import main
from rdface_hf.dataset import load_rdface
from rdface_hf.dataset.builder import BuildConfig, build_dataset
from rdface_hf.dataset.landmarks import LANDMARKER_SHA256


def read_report(out):
    with open(out / "validation_report.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def build(raw, out, **kw):
    kw.setdefault("progress", False)
    kw.setdefault("workers", 1)
    return build_dataset(BuildConfig(raw=str(raw), out=str(out), **kw))


@pytest.fixture
def built(face_release, tmp_path):
    out = tmp_path / "rdface"
    result = build(face_release, out)
    return face_release, out, result


def test_build_accounts_for_every_row_and_loads_every_fold(built):
    _, out, result = built
    report = read_report(out)
    assert [r["status"] for r in report] == ["accepted"] * 29
    assert result.accepted == 29 and result.rejected == 0 and result.conditions == 8
    shards = sorted(p.name.rsplit("-", 1)[0] for p in (out / "data").iterdir())
    assert shards == sorted(["test", "train-always"] + [f"cv-{k}" for k in range(5)])
    test_ids = None
    for k in range(5):
        ds = load_rdface(out, fold=k)
        assert set(ds) == {"train", "validation", "test"}
        ids = {s: set(ds[s]["image_id"]) for s in ds}
        assert not (ids["train"] & ids["validation"]) and not (ids["train"] & ids["test"])
        assert not (ids["validation"] & ids["test"])
        assert len(ids["train"] | ids["validation"] | ids["test"]) == 29
        test_ids = test_ids or ids["test"]
        assert ids["test"] == test_ids, "the test split is the same in every fold"
        assert set(ds["train"]["condition"]) == set(range(8)), "every condition trains in every fold"
    default = load_rdface(out)
    assert set(default) == {"train", "test"} and len(default["train"]) + len(default["test"]) == 29
    assert set(default["test"]["image_id"]) == test_ids


def test_schema_metadata_and_landmarks(built):
    raw, out, _ = built
    ds = load_rdface(out, fold=0)["train"]
    features = ds.features
    assert features["condition"].names[:3] == ["Condition C0", "Condition C1", "Condition C2"], (
        "order of first appearance"
    )
    row = ds[0]
    assert row["age"] is not None, "extra columns are kept"
    assert np.asarray(row["landmarks"]).shape == (478, 3)
    assert len(row["face_box"]) == 4
    assert row["image_id"].startswith("rdf-") and len(row["source_sha256"]) == 64
    img = row["image"]
    assert img.mode == "RGB" and img.format == "PNG"
    assert not img.getexif() and "icc_profile" not in img.info
    for r in ds:
        src = raw / "rd_images" / r["disease_abbr"] / r["image_name"]
        import hashlib

        assert hashlib.sha256(src.read_bytes()).hexdigest() == r["source_sha256"]
        assert r["partition"] in {"train-always"} | {f"cv-{k}" for k in range(1, 5)}


def test_card_and_config_saved(built):
    _, out, _ = built
    from huggingface_hub import DatasetCard

    card = DatasetCard.load(out / "README.md")
    data = card.data.to_dict()
    assert [c["config_name"] for c in data["configs"]] == ["default"] + [f"fold_{k}" for k in range(5)]
    assert set(data["extra_gated_fields"]) >= {"Name", "Affiliation", "Intended use"}
    assert any("ethics" in f.lower() for f in data["extra_gated_fields"])
    assert sum(v == "checkbox" for v in data["extra_gated_fields"].values()) == 3
    assert data["license"] == "other" and data["task_categories"] == ["image-classification"]
    assert "simulated" not in data["tags"] and "Simulated data" not in card.text, "a real build is not marked simulated"
    text = card.text
    for needle in [
        "| images | 29 |",
        "| conditions | 8 |",
        "## Splits and folds",
        "## Schema",
        "## Validation",
        "Citation",
    ]:
        assert needle in text
    assert (out / "build_config.json").is_file()
    saved = (out / "build_config.json").read_text()
    assert str(out) not in saved and "raw" not in json.loads(saved), "no local paths in a published file"
    assert json.loads(saved)["provenance"]["landmarker_sha256"] == LANDMARKER_SHA256
    again = BuildConfig.load(out / "build_config.json", raw="r", out="o")
    assert again.folds == 5 and again.seed == 42


def test_same_input_same_bytes(face_release, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    build(face_release, a)
    build(face_release, b, workers=2)
    for name in sorted(os.listdir(a / "data")):
        assert (a / "data" / name).read_bytes() == (b / "data" / name).read_bytes(), name
    assert (a / "validation_report.csv").read_bytes() == (b / "validation_report.csv").read_bytes()
    c = tmp_path / "c"
    build(face_release, c, seed=7, landmarks=False)  # the split does not depend on landmarks
    parts = lambda d: sorted(load_rdface(d)["test"]["image_id"])  # noqa: E731
    assert parts(a) != parts(c), "the seed changes the split"


def test_load_dataset_from_folder_named_rdface(built, monkeypatch):
    import datasets

    _, out, _ = built
    monkeypatch.chdir(out.parent)
    ds = datasets.load_dataset("rdface", "fold_0")
    assert set(ds) == {"train", "validation", "test"}


def jpeg_bytes(arr, **kw):
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", **kw)
    return buf.getvalue()


def test_rejections_and_warnings(write_release, condition_row, noise_image, tmp_path, distinct_faces):
    f = distinct_faces
    truncated = jpeg_bytes(f[5])[:600]
    tiny = np.asarray(Image.fromarray(f[6]).resize((48, 48)))
    grey = np.repeat(np.asarray(Image.fromarray(f[7]).convert("L"))[:, :, None], 3, axis=2)
    shifted = np.roll(f[8], 1, axis=1)  # same photo, nudged: a near-duplicate
    rows = [
        condition_row("A", "a0.png", 0),
        condition_row("A", "a1.png", 0),
        condition_row("A", "a1_copy.jpg", 0),
        condition_row("A", "missing.png", 0),
        condition_row("A", "../B/b0.png", 0),
        condition_row("A", "../../../etc/passwd", 0),
        condition_row("A", "broken.jpg", 0),
        condition_row("A", "noface.png", 0),
        condition_row("B", "b0.png", 1),
        condition_row("B", "b1.png", 1),
        condition_row("B", "tiny.png", 1),
        condition_row("C", "c0.png", 2),
        condition_row("C", "conflict.png", 2),
        condition_row("D", "d0.png", 3),
        condition_row("D", "grey.png", 3),
        condition_row("D", "near.png", 3),
        condition_row("D", "", 3),
    ]
    images = {
        ("A", "a0.png"): f[0],
        ("A", "a1.png"): f[1],
        ("A", "a1_copy.jpg"): None,
        ("A", "broken.jpg"): truncated,
        ("A", "noface.png"): noise_image(1, 128),
        ("B", "b0.png"): f[2],
        ("B", "b1.png"): f[3],
        ("B", "tiny.png"): tiny,
        ("C", "c0.png"): f[4],
        ("C", "conflict.png"): f[2],
        ("D", "d0.png"): f[8],
        ("D", "grey.png"): grey,
        ("D", "near.png"): shifted,
        ("D", "stray.png"): f[9],
    }
    png_of_a1 = io.BytesIO()
    Image.fromarray(f[1]).save(png_of_a1, format="PNG", optimize=True)  # same pixels, other bytes
    images[("A", "a1_copy.jpg")] = png_of_a1.getvalue()
    raw = write_release(tmp_path / "raw", rows, images)
    out = tmp_path / "out"
    result = build(raw, out)
    report = {(r["disease_abbr"], r["image_name"]): r for r in read_report(out)}
    assert len(report) == len(rows) + 1, "every row and the unlisted file are reported"

    def status(key, expected, reason):
        row = report[key]
        assert row["status"] == expected, (key, row)
        assert reason in row["reason"], (key, row["reason"])

    status(("A", "a0.png"), "accepted", "")
    status(("A", "a1_copy.jpg"), "rejected", "duplicate of A/a1.png")
    status(("A", "missing.png"), "rejected", "file missing")
    status(("A", "../B/b0.png"), "rejected", "path leaves rd_images/A/")
    status(("A", "../../../etc/passwd"), "rejected", "path leaves rd_images/A/")
    status(("A", "broken.jpg"), "rejected", "truncated")
    status(("A", "noface.png"), "rejected", "no face found")
    status(("B", "b0.png"), "rejected", "label conflict")
    status(("C", "conflict.png"), "rejected", "label conflict")
    status(("B", "tiny.png"), "warning", "small image")
    status(("D", "grey.png"), "warning", "greyscale source")
    status(("D", "near.png"), "warning", "near-duplicate of D/d0.png")
    status(("D", "d0.png"), "warning", "near-duplicate of D/near.png")
    status(("D", ""), "rejected", "empty value in image_name")
    status(("D", "stray.png"), "rejected", "not listed in disease_images.csv")
    assert result.rejected == 10
    ds = load_rdface(out)
    all_rows = [r for s in ds.values() for r in s]
    by_name = {r["image_name"]: r for r in all_rows}
    assert set(by_name) == {"a0.png", "a1.png", "b1.png", "tiny.png", "c0.png", "d0.png", "grey.png", "near.png"}
    assert by_name["near.png"]["near_duplicate_group"] == by_name["d0.png"]["near_duplicate_group"] is not None
    assert by_name["near.png"]["partition"] == by_name["d0.png"]["partition"], "near-duplicates never straddle"
    assert by_name["a0.png"]["near_duplicate_group"] is None


def test_no_face_check_keeps_faceless_images(write_release, condition_row, noise_image, tmp_path, distinct_faces):
    rows = [condition_row("A", "a.png", 0), condition_row("A", "b.png", 0), condition_row("B", "c.png", 1)]
    images = {("A", "a.png"): distinct_faces[0], ("A", "b.png"): noise_image(3, 128), ("B", "c.png"): distinct_faces[1]}
    raw = write_release(tmp_path / "raw", rows, images)
    build(raw, tmp_path / "out", face_check=False)
    report = {r["image_name"]: r for r in read_report(tmp_path / "out")}
    assert report["b.png"]["status"] == "warning" and "no face found" in report["b.png"]["reason"]
    ds = load_rdface(tmp_path / "out")
    kept = {r["image_name"]: r for s in ds.values() for r in s}
    assert kept["b.png"]["landmarks"] is None and kept["a.png"]["landmarks"] is not None


def test_no_landmarks_mode_needs_no_model(write_release, condition_row, noise_image, tmp_path, monkeypatch):
    monkeypatch.delenv("RDFACE_FACE_LANDMARKER", raising=False)
    monkeypatch.setenv("RDFACE_CACHE", str(tmp_path / "empty-cache"))
    rows = [condition_row(f"K{c}", f"{i}.png", c) for c in range(3) for i in range(4)]
    images = {(r["disease_abbr"], r["image_name"]): noise_image(k) for k, r in enumerate(rows)}
    raw = write_release(tmp_path / "raw", rows, images)
    result = build(raw, tmp_path / "out", landmarks=False, face_check=False)
    assert result.accepted == 12
    ds = load_rdface(tmp_path / "out", fold=2)
    assert all(lm is None for lm in ds["train"]["landmarks"])


def exif_jpeg(arr) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 8
    exif[0x8825] = {2: (51.0, 30.0, 0.0), 4: (0.0, 7.0, 0.0)}
    return jpeg_bytes(arr, exif=exif.tobytes(), quality=95)


def test_exif_and_gps_never_reach_the_dataset(write_release, condition_row, tmp_path, distinct_faces):
    rows = [condition_row("A", "a.jpg", 0), condition_row("A", "b.png", 0)]
    # stored lying on its side; EXIF orientation 8 (PIL: rotate 90 CCW) makes it upright
    sideways = np.ascontiguousarray(np.rot90(distinct_faces[0][:, :96], k=-1))
    images = {("A", "a.jpg"): exif_jpeg(sideways), ("A", "b.png"): distinct_faces[1]}
    raw = write_release(tmp_path / "raw", rows, images)
    build(raw, tmp_path / "out")
    for shard in (tmp_path / "out" / "data").glob("*.parquet"):
        assert b"Exif" not in shard.read_bytes() and b"GPS" not in shard.read_bytes()
    rows = [r for s in load_rdface(tmp_path / "out").values() for r in s]
    upright = {r["image_name"]: r for r in rows}["a.jpg"]
    assert upright["image"].size == (96, 128) and not upright["image"].getexif()
    assert upright["landmarks"] is not None, "the face was found: orientation applied before landmarks"
    diff = np.abs(np.asarray(upright["image"], dtype=int) - distinct_faces[0][:, :96].astype(int)).mean()
    assert diff < 6


def test_inconsistent_name_and_abbreviation_is_an_error(write_release, condition_row, tmp_path, distinct_faces, capsys):
    rows = [condition_row("A", "a.png", 0), condition_row("A", "b.png", 0)]
    rows[1]["disease_name"] = "Another name"
    raw = write_release(tmp_path / "raw", rows, {("A", "a.png"): distinct_faces[0], ("A", "b.png"): distinct_faces[1]})
    code = main(["build", str(raw), str(tmp_path / "out"), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "disease_abbr 'A' has 2 disease_name values" in err[0] and "rows 1" in err[0]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "case, message",
    [
        ("no_folder", "no such folder"),
        ("no_csv", "no disease_images.csv"),
        ("missing_columns", "missing required columns ['gene_name', 'orphanet_code']"),
        ("empty_csv", "is empty"),
        ("header_only", "no rows"),
        ("not_utf8", "is not UTF-8"),
        ("bad_folds", "--folds must be between 2 and 20"),
        ("bad_fraction", "--test-fraction must be in (0, 0.5]"),
        ("bad_flag", "unrecognized arguments: --bogus"),
    ],
)
def test_bad_invocation_one_line_exit_2_nothing_written(tmp_path, capsys, case, message):
    raw = tmp_path / "raw"
    (raw / "rd_images").mkdir(parents=True)
    csv_path = raw / "disease_images.csv"
    extra = []
    if case == "no_folder":
        raw = tmp_path / "nope"
    elif case == "missing_columns":
        csv_path.write_text("image_name,disease_name,disease_abbr,sub_category\na.png,X,X,s\n")
    elif case == "empty_csv":
        csv_path.write_text("")
    elif case == "header_only":
        csv_path.write_text("image_name,disease_name,disease_abbr,sub_category,gene_name,orphanet_code\n")
    elif case == "not_utf8":
        csv_path.write_bytes(
            "image_name,disease_name,disease_abbr,sub_category,gene_name,orphanet_code\né.png,Ä,X,s,g,1\n".encode(
                "latin-1"
            )
        )
    elif case == "bad_folds":
        extra = ["--folds", "1"]
    elif case == "bad_fraction":
        extra = ["--test-fraction", "0.9"]
    elif case == "bad_flag":
        extra = ["--bogus"]
    out = tmp_path / "out"
    if case == "bad_flag":
        with pytest.raises(SystemExit) as exc:
            main(["build", str(raw), str(out), *extra])
        code = exc.value.code
    else:
        code = main(["build", str(raw), str(out), "--no-progress", *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and message in err[0], err
    assert "Traceback" not in err[0]
    assert not out.exists()


def test_existing_output_needs_overwrite(built, capsys):
    raw, out, _ = built
    assert main(["build", str(raw), str(out), "--no-progress", "--workers", "1"]) == 2
    assert "not empty" in capsys.readouterr().err
    assert main(["build", str(raw), str(out), "--no-progress", "--workers", "1", "--overwrite"]) == 0
    assert "29 images of 8 conditions" in capsys.readouterr().out
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".rdface.")], "no partial folders left"


def test_interrupted_build_leaves_nothing(face_release, tmp_path, monkeypatch):
    import rdface_hf.dataset.builder as builder

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(builder, "report_csv", boom)
    with pytest.raises(KeyboardInterrupt):
        build(face_release, tmp_path / "out")
    assert list(tmp_path.iterdir()) == [tmp_path / "raw"]


def test_rebuild_in_place_is_not_served_from_a_stale_cache(face_release, tmp_path):
    out = tmp_path / "rdface"
    build(face_release, out)
    first = sorted(load_rdface(out)["test"]["image_id"])
    build(face_release, out, seed=7, overwrite=True)
    second = sorted(load_rdface(out)["test"]["image_id"])
    assert first != second


@pytest.fixture
def small_release(write_release, condition_row):
    """Two conditions of two faces each, plus ``extra_rows`` / ``extra_images``."""

    def make(root, faces, extra_rows=(), extra_images=None, header_extra=()):
        rows = [
            condition_row("A", "a0.png", 0),
            condition_row("A", "a1.png", 0),
            condition_row("B", "b0.png", 1),
            condition_row("B", "b1.png", 1),
            *extra_rows,
        ]
        images = {
            ("A", "a0.png"): faces[0],
            ("A", "a1.png"): faces[1],
            ("B", "b0.png"): faces[2],
            ("B", "b1.png"): faces[3],
        }
        images.update(extra_images or {})
        return write_release(root, rows, images, extra_columns=header_extra)

    return make


def run_cli(*args):
    code = main(["build", *map(str, args), "--no-progress", "--workers", "1"])
    return code


@pytest.mark.parametrize("layout", ["out_inside_raw", "out_inside_images", "raw_inside_out"])
def test_output_may_not_overlap_the_raw_release(small_release, tmp_path, distinct_faces, capsys, layout):
    raw = small_release(tmp_path / "parent" / "raw", distinct_faces)
    out = {
        "out_inside_raw": raw / "built",
        "out_inside_images": raw / "rd_images",
        "raw_inside_out": tmp_path / "parent",
    }[layout]
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert run_cli(raw, out, "--overwrite") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "overlaps the input" in err[0]
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before, "nothing deleted or written"


def test_output_is_checked_before_any_slow_work(small_release, tmp_path, distinct_faces, capsys, monkeypatch):
    import rdface_hf.dataset.builder as builder

    raw = small_release(tmp_path / "raw", distinct_faces)
    monkeypatch.setattr(
        builder, "parallel_map", lambda *a, **k: pytest.fail("images processed before the output check")
    )
    (tmp_path / "afile").write_text("x")
    assert run_cli(raw, tmp_path / "afile") == 2
    assert "exists and is not a folder" in capsys.readouterr().err
    assert run_cli(raw, tmp_path / "afile" / "sub") == 2
    assert "is not a folder" in capsys.readouterr().err


def test_reserved_and_unnamed_columns(small_release, tmp_path, distinct_faces, capsys):
    raw = small_release(tmp_path / "raw", distinct_faces, header_extra=("partition",))
    assert run_cli(raw, tmp_path / "out") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "['partition'] are reserved" in err[0]
    # a trailing comma in the header (an empty, unnamed column) is harmless
    raw2 = small_release(tmp_path / "raw2", distinct_faces)
    text = (raw2 / "disease_images.csv").read_text().splitlines()
    (raw2 / "disease_images.csv").write_text("\n".join(line + "," for line in text) + "\n")
    assert run_cli(raw2, tmp_path / "out2") == 0
    assert "" not in load_rdface(tmp_path / "out2")["train"].column_names


def test_nothing_accepted_is_an_error_and_writes_nothing(write_release, condition_row, tmp_path, capsys):
    rows = [condition_row("A", "missing.png", 0), condition_row("A", "text.jpg", 0)]
    raw = write_release(tmp_path / "raw", rows, {("A", "text.jpg"): b"hello"})
    assert main(["build", str(raw), str(tmp_path / "out"), "--no-progress", "--no-landmarks"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no image" in err[0] and "1 file missing" in err[0]
    assert not (tmp_path / "out").exists()


def test_odd_rows_and_files_are_each_reported_once(
    condition_row, release_header, small_release, tmp_path, distinct_faces
):
    outside = tmp_path / "outside.png"
    Image.fromarray(distinct_faces[9]).save(outside)
    raw = small_release(
        tmp_path / "raw",
        distinct_faces,
        extra_rows=[
            condition_row("B", "link.png", 1),
            condition_row("B", "folder.png", 1),
            condition_row("B", "text.jpg", 1),
        ],
        extra_images={("B", "text.jpg"): b"not an image"},
    )
    (raw / "rd_images" / "B" / "link.png").symlink_to(outside)
    (raw / "rd_images" / "B" / "folder.png").mkdir()
    with open(raw / "disease_images.csv", "a") as fh:
        fh.write(",,,,,\n")
        fh.write(",".join(release_header) + "\n")
    build(raw, tmp_path / "out")
    report = read_report(tmp_path / "out")
    assert len(report) == 9, report
    assert report[8]["reason"] == "repeated header row" and report[8]["row"] == "9"
    reasons = {r["image_name"]: r["reason"] for r in report}
    assert reasons["link.png"] == "path leaves rd_images/B/"
    assert reasons["folder.png"].startswith("not a file but a folder")
    assert reasons["text.jpg"] == "unreadable or truncated image (not an image format Pillow can read)"
    assert reasons[""] == "empty value in image_name, disease_name, disease_abbr"
    assert "0x" not in (tmp_path / "out" / "validation_report.csv").read_text(), "no memory addresses"


def test_wrong_landmarker_file_is_one_line(small_release, tmp_path, distinct_faces, capsys):
    raw = small_release(tmp_path / "raw", distinct_faces)
    bogus = tmp_path / "model.task"
    bogus.write_text("not a model")
    assert run_cli(raw, tmp_path / "out", "--landmarker", bogus) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot load face landmarker" in err[0]


def test_sigterm_leaves_no_partial_output(small_release, tmp_path, distinct_faces, monkeypatch):
    import signal

    import rdface_hf.dataset.builder as builder

    raw = small_release(tmp_path / "raw", distinct_faces)
    monkeypatch.setattr(builder, "report_csv", lambda rows: os.kill(os.getpid(), signal.SIGTERM))
    with pytest.raises(SystemExit) as exc:
        run_cli(raw, tmp_path / "out")
    assert exc.value.code == 143
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]


def test_too_many_folds_warns_once(small_release, tmp_path, distinct_faces, capsys):
    raw = small_release(tmp_path / "raw", distinct_faces)
    assert run_cli(raw, tmp_path / "out", "--folds", "20") == 0
    err = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(err) == 1 and "fold_19 have no validation split" in err[0]
    assert set(load_rdface(tmp_path / "out", fold=19)) == {"train", "test"}


def test_near_duplicate_across_conditions_always_trains(condition_row, small_release, tmp_path, distinct_faces):
    twin = np.roll(distinct_faces[0], 1, axis=1)  # A's a0.png, nudged, filed under another condition
    raw = small_release(
        tmp_path / "raw",
        distinct_faces,
        extra_rows=[condition_row("S", "s0.png", 2)],
        extra_images={("S", "s0.png"): twin},
    )
    for seed in range(4):
        out = tmp_path / f"out{seed}"
        build(raw, out, seed=seed)
        rows = {r["image_name"]: r for s in load_rdface(out).values() for r in s}
        assert rows["s0.png"]["partition"] == rows["a0.png"]["partition"] == "train-always"
        assert "near-duplicate of A/a0.png" in rows["s0.png"]["warnings"]


def test_impossible_names_are_rejected_rows(condition_row, small_release, tmp_path, distinct_faces):
    raw = small_release(
        tmp_path / "raw",
        distinct_faces,
        extra_rows=[
            condition_row("B", "x" * 300 + ".jpg", 1),
            condition_row("B", "a\x00b.jpg", 1),
        ],
    )
    build(raw, tmp_path / "out")
    reasons = [r["reason"] for r in read_report(tmp_path / "out")[-2:]]
    assert all(reason.startswith("invalid path") for reason in reasons), reasons


def test_animated_image_is_kept_with_a_warning(condition_row, small_release, tmp_path, distinct_faces):
    frames = [Image.fromarray(distinct_faces[5]), Image.fromarray(distinct_faces[6])]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    raw = small_release(
        tmp_path / "raw",
        distinct_faces,
        extra_rows=[condition_row("B", "anim.gif", 1)],
        extra_images={("B", "anim.gif"): buf.getvalue()},
    )
    build(raw, tmp_path / "out")
    row = read_report(tmp_path / "out")[-1]
    assert row["status"] == "warning" and "2 frames (animated or multi-page): the first is used" in row["reason"]
