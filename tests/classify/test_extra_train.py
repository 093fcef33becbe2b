"""--extra-train: synthetic, filtered (kept) and merged (is_synthetic) sets, training only."""

from __future__ import annotations

import json

import datasets
import pytest

from rdface_hf.cli import main
from rdface_hf.dataset import RDFaceDataset
from rdface_hf.dataset.synthetic import SyntheticImage, SyntheticSetWriter, synthetic_card


def _card():
    return synthetic_card(title="test", description="test", generator="morph", source_dataset="colour", gated=False)


def write_set(folder, class_names, images, *, extra_features=None, rows_extra=None, trained_on="fold_0", parents=None):
    """A synthetic set of ``images`` ((label, pixels) pairs) with optional extra columns per row."""
    writer = SyntheticSetWriter(folder, class_names, extra_features=extra_features)
    for i, (label, pixels) in enumerate(images):
        extra = rows_extra[i] if rows_extra else {}
        writer.add(
            SyntheticImage(
                image=pixels,
                condition=label,
                generator="morph",
                source="test",
                seed=i,
                trained_on=trained_on,
                parent_ids=(parents or {}).get(i, ()),
                extra=extra,
            )
        )
    writer.finish(_card())
    return folder


@pytest.fixture
def images(colour_pixels):
    """Eight new colour images, two per condition."""
    return [(c, colour_pixels(c, 500 + i, variant=3)) for c in range(4) for i in range(2)]


def _run(dataset, out, extra, train_args, *more):
    return main(train_args(dataset, out, "--fold", "0", "--epochs", "1", "--extra-train", str(extra), *more))


def test_synthetic_set_adds_to_training_only(colour_dataset, tmp_path, train_args, images, capsys):
    names = RDFaceDataset(colour_dataset).class_names
    extra = write_set(tmp_path / "syn", names, images, trained_on="fold_1")
    assert _run(colour_dataset, tmp_path / "refused", extra, train_args) == 2
    assert "--allow-validation-overlap" in capsys.readouterr().err, "merge's rule: refused without the flag"
    assert _run(colour_dataset, tmp_path / "out", extra, train_args, "--allow-validation-overlap") == 0
    assert "saw fold 0's validation images" in capsys.readouterr().err, "generators of another fold: said"
    results = json.loads((tmp_path / "out" / "fold_0" / "results.json").read_text())
    assert results["extra_train_images"] == 8 and results["train_images"] == 16
    assert results["validation_images"] == 8 and results["test_images"] == 8
    assert results["extra_train"]["kind"] == "synthetic" and results["extra_train"]["validation_overlap"] == 8


def test_filtered_set_uses_kept_rows_only(colour_dataset, tmp_path, train_args, images):
    names = RDFaceDataset(colour_dataset).class_names
    kept = [{"kept": i % 3 == 0} for i in range(len(images))]
    extra = write_set(
        tmp_path / "filtered", names, images, extra_features={"kept": datasets.Value("bool")}, rows_extra=kept
    )
    assert _run(colour_dataset, tmp_path / "out", extra, train_args) == 0
    results = json.loads((tmp_path / "out" / "fold_0" / "results.json").read_text())
    assert results["extra_train_images"] == 3
    assert results["extra_train"]["not_kept_skipped"] == 5 and results["extra_train"]["kind"] == "filtered"


def _merged(tmp_path, dataset_path, images, real_split: str):
    """A merged set: the fold's real rows (from ``real_split`` of fold 0) plus the synthetic ones."""
    ds = RDFaceDataset(dataset_path)
    real = ds.split(real_split, 0).cast_column("image", datasets.Image(decode=False))
    writer = SyntheticSetWriter(
        tmp_path / f"merged-{real_split}", ds.class_names, extra_features={"is_synthetic": datasets.Value("bool")}
    )
    for row in real.select(range(4)):
        writer.add(
            {
                "image": {"bytes": row["image"]["bytes"], "path": None},
                "image_id": row["image_id"],
                "condition": row["condition"],
                "generator": "real",
                "source": "",
                "prompt": "",
                "seed": 0,
                "params": "{}",
                "parent_ids": [],
                "trained_on": "fold_0",
                "is_synthetic": False,
            }
        )
    for i, (label, pixels) in enumerate(images):
        writer.add(
            SyntheticImage(
                image=pixels,
                condition=label,
                generator="morph",
                source="t",
                seed=i,
                trained_on="fold_0",
                extra={"is_synthetic": True},
            )
        )
    writer.finish(_card())
    return writer.folder


def test_merged_set_takes_its_synthetic_rows(colour_dataset, tmp_path, train_args, images):
    extra = _merged(tmp_path, colour_dataset, images, "train")
    assert _run(colour_dataset, tmp_path / "out", extra, train_args) == 0
    results = json.loads((tmp_path / "out" / "fold_0" / "results.json").read_text())
    assert results["extra_train_images"] == 8 and results["train_images"] == 16
    assert results["extra_train"]["real_rows_skipped"] == 4 and results["extra_train"]["kind"] == "merged"


def test_refusals_are_one_line(colour_dataset, tmp_path, train_args, images, capsys):
    names = RDFaceDataset(colour_dataset).class_names
    test_id = RDFaceDataset(colour_dataset).test["image_id"][0]
    cases = [
        (_merged(tmp_path, colour_dataset, images, "validation"), "merged for another fold"),
        (write_set(tmp_path / "from-test", names, images, parents={0: [test_id]}), "made from test images"),
        (write_set(tmp_path / "other", [n + " x" for n in names], images), "not in the dataset"),
        (tmp_path / "missing", "no such synthetic set folder"),
    ]
    for extra, message in cases:
        out = tmp_path / "out"
        assert _run(colour_dataset, out, extra, train_args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
        assert not out.exists()


def _simulated_rows(folder, class_names, blobs, **kw):
    """A set of raw image bytes declared ``simulate`` with no parents (the most innocent provenance)."""
    import hashlib

    writer = SyntheticSetWriter(folder, class_names, extra_features=kw.pop("features", None))
    for i, (label, data) in enumerate(blobs):
        row = {"image": {"bytes": data, "path": None}, "image_id": hashlib.sha256(data).hexdigest(),
               "condition": label, "generator": "simulate", "source": "sim", "prompt": "", "seed": i,
               "params": "{}", "parent_ids": [], "trained_on": "none"}  # fmt: skip
        row.update({k: v[i] if isinstance(v, list) else v for k, v in kw.items()})
        writer.add(row)
    writer.finish(_card())
    return folder


def _held_out(dataset_path, split, fold=None):
    ds = RDFaceDataset(dataset_path)
    rows = (ds.test if split == "test" else ds.split(split, fold)).cast_column("image", datasets.Image(decode=False))
    return [(int(c), im["bytes"]) for im, c in zip(rows["image"], rows["condition"])]


def _png(pixels):
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


def test_held_out_images_are_refused_whatever_the_provenance(colour_dataset, tmp_path, train_args, images, capsys):
    """The leak test: verbatim test images (and fold 0's validation images) declared simulated never train."""
    names = RDFaceDataset(colour_dataset).class_names
    own = [(c, _png(p)) for c, p in images]
    cases = {
        "test": own + _held_out(colour_dataset, "test")[:3],
        "validation": own + _held_out(colour_dataset, "validation", 0)[:2],
    }
    for name, blobs in cases.items():
        extra = _simulated_rows(tmp_path / name, names, blobs)
        assert _run(colour_dataset, tmp_path / "out", extra, train_args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert (
            len(err) == 1
            and "are held-out" in err[0]
            and f"{'test' if name == 'test' else 'validation'} image" in err[0]
        )
        assert not (tmp_path / "out").exists()
    extra = _simulated_rows(tmp_path / "own", names, own)
    assert _run(colour_dataset, tmp_path / "out", extra, train_args) == 0  # the same set without them trains


def test_provenance_fields_are_strict(colour_dataset, tmp_path, train_args, images, capsys):
    names = RDFaceDataset(colour_dataset).class_names
    own = [(c, _png(p)) for c, p in images]
    cases = [
        (_simulated_rows(tmp_path / "kept", names, own, kept="False", features={"kept": datasets.Value("string")}),
         "'kept' must be boolean"),
        (_simulated_rows(tmp_path / "digit", names, own, generator="morph", trained_on="٠"), "trained_on"),
        (_simulated_rows(tmp_path / "upper", names, own, generator="morph", trained_on="TEST"), "trained_on"),
        (_simulated_rows(tmp_path / "zeros", names, own, generator="morph", trained_on="fold_00"), "trained_on"),
    ]  # fmt: skip
    for extra, message in cases:
        assert _run(colour_dataset, tmp_path / "out", extra, train_args) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
