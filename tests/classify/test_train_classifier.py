"""train-classifier end to end on tiny seeded models: files, pipeline round trip, summary, card."""

from __future__ import annotations

import json

import pytest

from rdface_hf.cli import main


def _results(out, fold=0):
    return json.loads((out / f"fold_{fold}" / "results.json").read_text())


def test_fold_writes_model_processor_results_and_log(colour_dataset, tmp_path, train_args, capsys):
    out = tmp_path / "run"
    assert main(train_args(colour_dataset, out, "--fold", "0")) == 0
    printed = capsys.readouterr().out
    assert "fold 0: epoch" in printed and "test top-1" in printed
    assert "±" not in printed, "one fold has no spread to print"
    assert main(train_args(colour_dataset, out, "--fold", "0")) == 0
    again = capsys.readouterr().out
    assert again.startswith("already done:") and "nothing to train" in again and "trained" not in again, again
    fold = out / "fold_0"
    for name in (
        "config.json",
        "model.safetensors",
        "preprocessor_config.json",
        "train_config.json",
        "results.json",
        "epochs.jsonl",
        "curves.png",
        "README.md",
    ):
        assert (fold / name).is_file(), name
    assert not list(fold.glob("*.bin")) and not (fold / "checkpoint").exists(), "safetensors only; state removed"
    saved = json.loads((fold / "train_config.json").read_text())
    assert saved["stage"] == "train-classifier" and saved["epochs"] == 3 and saved["learning_rate"] == 3e-3
    assert (out / "train_config.json").is_file()
    results = _results(out)
    assert f"fold 0: epoch {results['best_epoch']} selected" in printed, "the log and results.json agree"
    log = [json.loads(line) for line in (fold / "epochs.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2, 3], "epochs count from 1 (log, plot, results.json)"
    best = max(log, key=lambda r: (r["validation_top_1"], -r["validation_loss"]))
    assert results["best_epoch"] == best["epoch"], "best validation top-1, ties broken by the lower loss"
    assert results["validation"]["top_1"] == pytest.approx(best["validation_top_1"])
    assert results["validation"]["loss"] == pytest.approx(best["validation_loss"], rel=1e-5)
    test = results["test"]
    assert test["images"] == 8 and set(test["per_condition"]) == {
        "Alpha syndrome",
        "Beta syndrome",
        "Gamma syndrome",
        "Delta syndrome",
    }
    for key in ("top_1", "top_5", "top_10", "top_30", "macro_f1", "balanced_accuracy", "loss"):
        assert key in test and key in results["validation"]
    assert test["top_1"] > 0.5, "colour classes are learnable in three epochs"
    assert results["train_images"] == 16 and results["validation_images"] == 8
    assert results["dataset"]["digest"] and results["rdface_hf_version"]
    assert str(tmp_path) not in (fold / "results.json").read_text(), "no local paths in results"


def test_saved_fold_works_with_pipeline(colour_dataset, tmp_path, train_args):
    from transformers import pipeline

    out = tmp_path / "run"
    assert main(train_args(colour_dataset, out, "--fold", "0", "--epochs", "2")) == 0
    classify = pipeline("image-classification", model=str(out / "fold_0"), device="cpu")
    from datasets import load_dataset

    image = load_dataset(str(colour_dataset), "fold_0", split="test")[0]["image"]
    predictions = classify(image, top_k=4)
    assert {p["label"] for p in predictions} == {"Alpha syndrome", "Beta syndrome", "Gamma syndrome", "Delta syndrome"}
    assert sum(p["score"] for p in predictions) == pytest.approx(1.0, abs=1e-4)
    processor = json.loads((out / "fold_0" / "preprocessor_config.json").read_text())
    assert processor["size"] == {"height": 32, "width": 32}, "the tiny model's own size"
    assert processor["image_mean"] == pytest.approx([0.485, 0.456, 0.406]), "ImageNet normalisation by default"


def test_fold_all_writes_summary_and_parseable_card(sim_build, tmp_path, train_args):
    from huggingface_hub import ModelCard

    out = tmp_path / "all"
    assert main(train_args(sim_build, out, "--epochs", "1", "--batch-size", "8")) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["folds"] == [0, 1, 2, 3, 4]
    assert json.loads((out / "train_config.json").read_text())["fold"] == "all"
    assert json.loads((out / "fold_3" / "train_config.json").read_text())["fold"] == "3", "reruns that fold alone"
    row = summary["rows"][0]
    for metric in ("top_1", "top_5", "top_10", "top_30", "macro_f1", "balanced_accuracy"):
        values = [_results(out, f)["test"][metric] for f in range(5)]
        stats = row["test"][metric]
        assert stats["values"] == pytest.approx(values)
        assert stats["mean"] == pytest.approx(sum(values) / 5)
        assert stats["sd"] >= 0
    table = (out / "summary.md").read_text()
    assert "| Model | Top-1 | Top-5 | Top-10 | Top-30 | Macro-F1 | Balanced acc. | Folds |" in table
    assert " ± " in table
    card = ModelCard.load(out / f"fold_{summary['best_fold']}" / "README.md")
    results = {r.metric_name: r for r in card.data.eval_results}
    top1 = next(r for name, r in results.items() if name.startswith("Top-1"))
    assert top1.metric_value == pytest.approx(round(row["test"]["top_1"]["mean"], 4))
    assert top1.dataset_split == "test" and top1.task_type == "image-classification"
    assert len(card.data.eval_results) == 6
    assert "not a diagnostic device" in card.text
    assert "Protocol" in card.text and "gated" in card.text.lower() and "Research use only" in card.text


def test_config_file_reruns_and_other_settings_are_refused(colour_dataset, tmp_path, train_args, capsys):
    out = tmp_path / "run"
    assert main(train_args(colour_dataset, out, "--fold", "0", "--epochs", "1")) == 0
    first = (out / "fold_0" / "model.safetensors").read_bytes()
    # the same settings: the finished fold is kept as it is
    assert main(["train-classifier", "--config", str(out / "train_config.json"), "--no-progress"]) == 0
    assert (out / "fold_0" / "model.safetensors").read_bytes() == first
    capsys.readouterr()
    assert main(train_args(colour_dataset, out, "--fold", "0", "--epochs", "2")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--epochs" in err[0] and "--overwrite" in err[0]


def test_an_image_size_the_model_cannot_take_is_one_line(colour_dataset, tmp_path, train_args, capsys):
    """The tiny ViT has position embeddings for 32x32 inputs."""
    assert main(train_args(colour_dataset, tmp_path / "out", "--fold", "0", "--image-size", "48")) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--image-size 48 does not fit" in err[0], err
    assert not (tmp_path / "out").exists()


def test_overwrite_keeps_a_users_file_and_a_rebuilt_dataset_is_not_resumed(
    make_colour_dataset, tmp_path, train_args, capsys, user_file_survives, input_change_refused
):
    """A summary must never average a fold trained on an old split with folds of a new one."""
    import shutil

    dataset = make_colour_dataset(tmp_path / "d" / "rdface")
    out = tmp_path / "run"
    argv = train_args(dataset, out, "--fold", "0", "--epochs", "1")
    assert main(argv) == 0
    user_file_survives(argv, out, capsys)
    shutil.rmtree(dataset)
    make_colour_dataset(dataset, test_variant=1)  # rebuilt at the same path
    input_change_refused(argv, capsys, "dataset")
    saved = json.loads((out / "train_config.json").read_text())
    assert "overwrite" not in saved, "--overwrite is a run-time switch, never saved"


def test_report_to_tensorboard_logs_losses_and_validation_metrics(
    colour_dataset, tmp_path, train_args, tensorboard_run
):
    """--report-to tensorboard, offline: per fold and epoch the training loss, learning rate,
    throughput and validation metrics, then the selected epoch's test figures; the config as
    hyperparameters."""
    out = tmp_path / "tracked"
    assert main(train_args(colour_dataset, out, "--fold", "0", "--report-to", "tensorboard")) == 0
    scalars, _, _ = tensorboard_run(out)
    assert [s for s, _ in scalars["fold_0/train_loss"]] == [1, 2, 3], "epochs counted from 1, as in results.json"
    for tag in ("fold_0/learning_rate", "fold_0/train_images_per_s", "fold_0/validation_top_1"):
        assert len(scalars[tag]) == 3, tag
    best = _results(out)["best_epoch"]
    assert scalars["fold_0/test_top_1"] == [(best, pytest.approx(_results(out)["test"]["top_1"]))]
    assert all(v > 0 for _, v in scalars["fold_0/train_loss"])
    hparams = next((out / "logs").rglob("hparams.yml")).read_text()
    assert "epochs: 3" in hparams and str(tmp_path) not in hparams
