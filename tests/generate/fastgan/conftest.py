"""Fixtures of the FastGAN tests: tiny settings, two tiny trained models (one per mode),
and an offline Hub cache (rebuilt datasets: tests/generate/conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TINY = dict(
    resolution=64, max_train_steps=4, batch_size=2, ngf=4, ndf=4, nz=8, recon_loss="l1",
    checkpointing_steps=2, sample_steps=2,
)  # fmt: skip


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """Two xdist workers on two shared cores: one torch thread each."""
    import torch

    torch.set_num_threads(1)


def _config(dataset, out, **kw):
    from rdface_hf.generate.fastgan.config import TrainFastGANConfig

    return TrainFastGANConfig(dataset=str(dataset), output_dir=str(out), **{**TINY, **kw})


@pytest.fixture
def tiny_config():
    """``tiny_config(dataset, out, **overrides)``: a TrainFastGANConfig that trains in seconds."""
    return _config


def _train(dataset, out, **kw) -> Path:
    from rdface_hf.generate.fastgan.train import train_fastgan

    train_fastgan(_config(dataset, out, **kw), progress=False)
    return Path(out)


@pytest.fixture(scope="session")
def conditional_gan(tmp_path_factory, sim_build) -> Path:
    """A tiny class-conditional FastGAN trained on ``sim_build``'s fold 0 (read-only)."""
    return _train(sim_build, tmp_path_factory.mktemp("gan") / "conditional", mode="conditional")


@pytest.fixture(scope="session")
def pooled_gan(tmp_path_factory, sim_build) -> Path:
    """A tiny pooled (unconditional) FastGAN on ``sim_build``'s fold 0 (read-only)."""
    return _train(sim_build, tmp_path_factory.mktemp("gan") / "pooled", mode="pooled", max_train_steps=2)


@pytest.fixture
def hub_cache(tmp_path, monkeypatch):
    """``hub_cache(folder, "org/name")``: the model files of ``folder`` as a cached Hub snapshot
    (``HF_HUB_CACHE``, offline); returns the snapshot's revision."""

    def make(folder: Path, repo_id: str, revision: str = "0123456789abcdef0123456789abcdef01234567") -> str:
        cache = tmp_path / "hub"
        repo = cache / f"models--{repo_id.replace('/', '--')}"
        snap = repo / "snapshots" / revision
        snap.mkdir(parents=True)
        for name in ("config.json", "model.safetensors", "README.md"):
            shutil.copy(folder / name, snap / name)
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(revision)
        monkeypatch.setenv("HF_HUB_CACHE", str(cache))
        monkeypatch.setenv("HF_HUB_OFFLINE", "1")
        import huggingface_hub.constants as constants

        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
        return revision

    return make
