"""The protocol's guarantees: leak-free selection, exact resume, --shots draws, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rdface_hf.cli import main


def test_changing_test_images_changes_neither_selection_nor_weights(make_colour_dataset, tmp_path, train_args):
    """The test split is read after selection: other test pixels, byte-identical model."""
    runs = {}
    for variant in (0, 1):
        data = make_colour_dataset(tmp_path / f"data{variant}", test_variant=variant)
        out = tmp_path / f"run{variant}"
        assert main(train_args(data, out, "--fold", "0")) == 0
        runs[variant] = out / "fold_0"
    results = [json.loads((runs[v] / "results.json").read_text()) for v in (0, 1)]
    assert results[0]["best_epoch"] == results[1]["best_epoch"]
    assert results[0]["validation"] == results[1]["validation"]
    assert (runs[0] / "model.safetensors").read_bytes() == (runs[1] / "model.safetensors").read_bytes()
    assert (runs[0] / "epochs.jsonl").read_text().count("validation_top_1") == 3
    assert results[0]["test"]["loss"] != results[1]["test"]["loss"], "the test images did differ"


def test_interrupted_fold_resumes_to_the_same_weights(colour_dataset, tmp_path, train_args, monkeypatch, capsys):
    import rdface_hf.classify.train as train

    straight = tmp_path / "straight"
    assert main(train_args(colour_dataset, straight, "--fold", "0", "--save-state-every", "1")) == 0

    original = train._train_epoch
    calls = {"n": 0}

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # during the third epoch: like Ctrl-C
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    resumed = tmp_path / "resumed"
    monkeypatch.setattr(train, "_train_epoch", interrupted)
    assert main(train_args(colour_dataset, resumed, "--fold", "0", "--save-state-every", "1")) == 130
    state = resumed / "fold_0" / "checkpoint"
    assert (state / "training_state.safetensors").is_file() and (state / "training_state.json").is_file()
    assert not (resumed / "fold_0" / "results.json").exists()
    assert b"pickle" not in (state / "training_state.json").read_bytes()
    monkeypatch.setattr(train, "_train_epoch", original)
    capsys.readouterr()
    assert main(train_args(colour_dataset, resumed, "--fold", "0", "--save-state-every", "1")) == 0
    assert "resuming after epoch 2 of 3" in capsys.readouterr().err
    a, b = straight / "fold_0", resumed / "fold_0"
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()
    log_a = [json.loads(x) for x in (a / "epochs.jsonl").read_text().splitlines()]
    log_b = [json.loads(x) for x in (b / "epochs.jsonl").read_text().splitlines()]
    drop = ("seconds", "train_images_per_s")
    assert [{k: v for k, v in r.items() if k not in drop} for r in log_a] == [
        {k: v for k, v in r.items() if k not in drop} for r in log_b
    ]
    assert not (b / "checkpoint").exists()


def test_shots_draw_per_condition_from_the_training_split():
    from rdface_hf.classify.data import draw_shots

    labels = np.array([0, 0, 0, 1, 1, 2, 0, 1, 2, 2, 2])
    rows = draw_shots(labels, 2, seed=5)
    assert list(np.bincount(labels[rows])) == [2, 2, 2]
    assert list(rows) == sorted(rows) and list(draw_shots(labels, 2, seed=5)) == list(rows)
    assert len(draw_shots(labels, 10, seed=0)) == len(labels), "a condition with fewer keeps all"
    assert any(list(draw_shots(labels, 1, seed=s)) != list(draw_shots(labels, 1, seed=0)) for s in range(1, 6))


def test_shots_run_trains_on_k_images_per_condition(colour_dataset, tmp_path, train_args):
    out = tmp_path / "shots"
    assert main(train_args(colour_dataset, out, "--fold", "1", "--shots", "1", "--epochs", "1")) == 0
    results = json.loads((out / "fold_1" / "results.json").read_text())
    assert results["train_images"] == 4 and results["validation_images"] == 8 and results["test_images"] == 8


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--fold", "7"], "has no fold 7"),
        (["--fold", "x"], "--fold must be a fold number 0..19 or 'all'"),
        (["--epochs", "0"], "--epochs must be at least 1"),
        (["--push-to-hub", "nope"], "--push-to-hub must look like ORG/NAME"),
        (["--mixed-precision", "fp8"], "invalid choice"),
    ],
)
def test_bad_flags_are_one_line(colour_dataset, tmp_path, train_args, capsys, extra, message):
    out = tmp_path / "out"
    try:
        code = main(train_args(colour_dataset, out, *extra))
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert not out.exists(), "nothing written"


def test_bad_model_and_dataset_are_one_line(colour_dataset, tmp_path, capsys):
    cases = [
        (["--dataset", str(colour_dataset), "--model", "no-such-org/no-such-model"], "cannot load model"),
        (["--dataset", str(colour_dataset), "--model", str(tmp_path)], "cannot load model"),
        (["--dataset", str(tmp_path / "missing")], "not a Hub repo id"),
    ]
    for args, message in cases:
        code = main(["train-classifier", *args, "--output-dir", str(tmp_path / "o"), "--no-progress"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and message in err[0], err
    assert not (tmp_path / "o").exists()


def test_empty_test_split_is_refused(make_colour_dataset, write_built_dataset, tmp_path, capsys, tiny_vit):
    from datasets import load_dataset

    full = make_colour_dataset(tmp_path / "full", folds=1)
    train = load_dataset(str(full), "fold_0", split="train")
    validation = load_dataset(str(full), "fold_0", split="validation")
    root = write_built_dataset(tmp_path / "no_test", train=train, validation=validation, test=train.select([]))
    code = main(
        [
            "train-classifier",
            "--dataset",
            str(root),
            "--model",
            str(tiny_vit),
            "--output-dir",
            str(tmp_path / "o"),
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err


def test_refuses_a_folder_it_did_not_write(colour_dataset, tmp_path, train_args, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    assert main(train_args(colour_dataset, mine, "--fold", "0", "--overwrite")) == 2
    assert "not written by this command" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "keep"
