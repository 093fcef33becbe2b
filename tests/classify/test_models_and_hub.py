"""timm checkpoints through transformers' wrapper (offline Hub cache), and the push to the Hub."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rdface_hf.cli import main


def _fake_cache(cache: Path, repo_id: str, source: Path) -> None:
    """The Hub cache layout: models--org--name/snapshots/<rev>/..., refs/main."""
    revision = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / revision
    snapshot.mkdir(parents=True)
    for path in source.iterdir():
        shutil.copy(path, snapshot / path.name)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)


def test_timm_checkpoint_from_the_offline_hub_cache(colour_dataset, tmp_path, monkeypatch, capsys):
    import timm
    import torch
    from timm.models import save_for_hf
    from transformers import pipeline

    torch.manual_seed(0)
    save_for_hf(timm.create_model("test_vit", pretrained=False), tmp_path / "src", safe_serialization=True)
    assert sorted(p.name for p in (tmp_path / "src").iterdir()) == ["config.json", "model.safetensors"]
    cache = tmp_path / "hub"
    _fake_cache(cache, "timm/test_vit.tiny", tmp_path / "src")
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(cache))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    out = tmp_path / "out"
    args = [
        "train-classifier",
        "--dataset",
        str(colour_dataset),
        "--model",
        "timm/test_vit.tiny",
        "--fold",
        "0",
        "--epochs",
        "1",
        "--batch-size",
        "8",
        "--output-dir",
        str(out),
        "--no-progress",
    ]
    assert main(args) == 0, capsys.readouterr().err
    config = json.loads((out / "fold_0" / "config.json").read_text())
    assert config["model_type"] == "timm_wrapper" and config["num_classes"] == 4
    assert config["label_names"] == ["Alpha syndrome", "Beta syndrome", "Gamma syndrome", "Delta syndrome"]
    processor = json.loads((out / "fold_0" / "preprocessor_config.json").read_text())
    assert processor["size"] == {"height": 160, "width": 160}, "the timm checkpoint's own input size"
    classify = pipeline("image-classification", model=str(out / "fold_0"), device="cpu")
    from datasets import load_dataset

    labels = {p["label"] for p in classify(load_dataset(str(colour_dataset), "fold_0", split="test")[0]["image"])}
    assert labels <= {"Alpha syndrome", "Beta syndrome", "Gamma syndrome", "Delta syndrome"}


def test_push_is_private_gated_and_round_trips(colour_dataset, tmp_path, train_args, monkeypatch, capsys, fake_hub):
    from huggingface_hub import ModelCard
    from transformers import pipeline

    hub = fake_hub(tmp_path / "hub")
    monkeypatch.setattr("rdface_hf.classify.hub.HfApi", lambda token=None: hub)
    out = tmp_path / "run"
    code = main(
        train_args(
            colour_dataset, out, "--epochs", "1", "--push-to-hub", "lab/rdface-vit", "--token", "hf_secret_token"
        )
    )
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "hf_secret_token" not in printed.out + printed.err
    assert [c[0] for c in hub.calls] == ["create_repo", "update_repo_settings", "upload_folder"]
    assert hub.calls[0][2]["private"] is True and hub.calls[0][2]["repo_type"] == "model"
    assert hub.calls[1][2]["gated"] == "manual"
    repo = tmp_path / "hub" / "rdface-vit"
    assert {p.name for p in repo.iterdir()} == {
        "config.json",
        "model.safetensors",
        "preprocessor_config.json",
        "README.md",
        "train_config.json",
        "results.json",
        "summary.json",
        "summary.md",
    }
    summary = json.loads((out / "summary.json").read_text())
    pushed = json.loads((repo / "results.json").read_text())
    assert pushed["fold"] == summary["best_fold"]
    for name in ("train_config.json", "results.json", "summary.json", "README.md"):
        text = (repo / name).read_text()
        assert str(tmp_path) not in text and "hf_secret_token" not in text, name
    card = ModelCard.load(repo / "README.md")
    assert card.data.model_name == "rdface-vit" and card.data.pipeline_tag == "image-classification"
    assert card.data.extra_gated_prompt and "lab/rdface-vit" in card.text
    means = {r.metric_name.split(" (")[0]: r.metric_value for r in card.data.eval_results}
    top1 = summary["rows"][0]["test"]["top_1"]["mean"]
    assert means["Top-1 accuracy"] == pytest.approx(round(top1, 4))
    assert set(means) == {
        "Top-1 accuracy",
        "Top-5 accuracy",
        "Top-10 accuracy",
        "Top-30 accuracy",
        "Macro-F1",
        "Balanced accuracy",
    }
    predictions = pipeline("image-classification", model=str(repo), device="cpu")(_an_image(colour_dataset))
    assert predictions[0]["label"].endswith("syndrome")


def _an_image(dataset):
    from datasets import load_dataset

    return load_dataset(str(dataset), "fold_0", split="test")[0]["image"]


def test_push_failure_is_one_line_without_the_token(
    colour_dataset, tmp_path, train_args, monkeypatch, capsys, fake_hub
):
    class Down(fake_hub):
        def create_repo(self, repo_id, **kw):
            raise ConnectionError("hub unreachable with token hf_secret_token")

    monkeypatch.setattr("rdface_hf.classify.hub.HfApi", lambda token=None: Down(tmp_path))
    code = main(
        train_args(
            colour_dataset,
            tmp_path / "run",
            "--fold",
            "0",
            "--epochs",
            "1",
            "--push-to-hub",
            "lab/x",
            "--token",
            "hf_secret_token",
        )
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "could not push to lab/x" in err[0] and "hf_secret_token" not in err[0]
    assert (tmp_path / "run" / "fold_0" / "model.safetensors").is_file(), "the trained model stays"
