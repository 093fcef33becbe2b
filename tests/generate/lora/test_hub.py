"""Adapters on the Hub: a private, gated push (fake HfApi) and an offline pull (Hub cache layout)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import datasets
import huggingface_hub
import pytest
from huggingface_hub import ModelCard

from rdface_hf.cli import main
from rdface_hf.generate.lora.hub import push_adapters

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def pushed(trained, tmp_path, train_args, monkeypatch, fake_hub):
    """A finished adapter folder pushed with --push-to-hub (nothing left to train); ``.root``:
    the pushed repo's files."""
    hub = fake_hub(tmp_path / "hub")
    monkeypatch.setattr(huggingface_hub, "HfApi", lambda token=None: hub)
    folder = tmp_path / "adapters"
    shutil.copytree(trained, folder)
    assert main([*train_args(output_dir=folder), "--push-to-hub", "lab/rdface-lora", "--hub-token", "hf_x"]) == 0
    hub.root = hub.repo("lab/rdface-lora")  # the tests read the one repo's files
    return hub


def test_push_creates_one_private_gated_repo_before_uploading(pushed, trained):
    names = [c[0] for c in pushed.calls]
    assert names == ["create_repo", "update_repo_settings", "upload_folder"]
    assert pushed.calls[0][2]["private"] is True and pushed.calls[0][2]["repo_type"] == "model"
    assert pushed.calls[1][2]["gated"] == "manual"
    files = sorted(p.relative_to(pushed.root).as_posix() for p in pushed.root.rglob("*") if p.is_file())
    per_adapter = ("adapter.json", "pytorch_lora_weights.safetensors", "validation.png")
    expected = [f"{a}/{f}" for a in ("AAS", "BBS", "CCS") for f in per_adapter]
    assert files == sorted([*expected, "README.md", "adapters.json", "train_lora_config.json", "samples.png"])
    for path in pushed.root.rglob("*.json"):
        assert str(trained.parent) not in path.read_text(), f"a local path went to the Hub in {path.name}"
    card = ModelCard.load(pushed.root / "README.md")
    assert card.data.extra_gated_fields and "lab/rdface-lora" in card.text
    assert "(samples.png)" in card.text  # the pictures: only in this gated repo, embedded in its card
    assert (pushed.root / "samples.png").read_bytes() == (trained / "samples.png").read_bytes()
    assert (pushed.root / "AAS/pytorch_lora_weights.safetensors").read_bytes() == (
        trained / "AAS/pytorch_lora_weights.safetensors"
    ).read_bytes()


def test_push_failure_is_one_line_without_the_token(trained, tmp_path, capsys, fake_hub):
    class Down(fake_hub):
        def create_repo(self, repo_id, **kw):
            raise ConnectionError("hub unreachable with token hf_secret")

    with pytest.raises(Exception, match="could not push") as exc:
        push_adapters(trained, "lab/x", token="hf_secret", api=Down(tmp_path))
    assert "hf_secret" not in str(exc.value)


def _fake_cache(cache: Path, repo_id: str, files: Path) -> Path:
    """The Hub cache layout: models--org--name/{refs/main, snapshots/<commit>/...}."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    shutil.copytree(files, repo / "snapshots" / COMMIT)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(COMMIT)
    return repo


def test_offline_pull_takes_only_the_needed_subfolders(pushed, tiny_sd, tmp_path, monkeypatch):
    cache = tmp_path / "hub_cache"
    _fake_cache(cache, "lab/rdface-lora", pushed.root)
    _fake_cache(cache, "lab/tiny-sd", tiny_sd)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    real, patterns = huggingface_hub.snapshot_download, []

    def spy(repo_id, **kw):
        patterns.append((repo_id, kw.get("allow_patterns")))
        return real(repo_id, **kw)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", spy)
    out = tmp_path / "synthetic"
    args = ["generate", "--generator", "lora", "--adapters", "lab/rdface-lora", "--base-model", "lab/tiny-sd"]
    assert main([*args, "--conditions", "BBS", "--per-condition", "1", "--steps", "2", "--output-dir", str(out)]) == 0
    assert ("lab/rdface-lora", ["adapters.json", "README.md", "BBS/*"]) in patterns
    row = datasets.load_dataset(str(out), split="train")[0]
    params = json.loads(row["params"])
    assert row["source"] == f"lab/rdface-lora/BBS@{COMMIT}" and params["base_model_revision"] == COMMIT
    assert params["adapters_revision"] == COMMIT and row["trained_on"] == "fold_0"


def test_offline_pull_of_an_uncached_repo_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty_cache"))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    args = ["generate", "--generator", "lora", "--adapters", "lab/missing", "--output-dir", str(tmp_path / "o")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot get adapters lab/missing" in err[0]
