"""Fixtures of the LoRA tests: a tiny seeded Stable Diffusion folder, a small built dataset,
and one 3-condition training run shared by the tests that only read it."""

from __future__ import annotations

from pathlib import Path

import pytest

CONDITIONS = ("AAS", "BBS", "CCS")


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """Two xdist workers on two shared cores: one torch thread each avoids oversubscription."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_sd(tmp_path_factory) -> Path:
    """A tiny seeded Stable Diffusion folder (diffusers layout, 64 px)."""
    from tests.generate.lora.tiny_pipelines import save_tiny_pipeline

    return save_tiny_pipeline(tmp_path_factory.mktemp("tiny_sd") / "sd")


@pytest.fixture(scope="session")
def lora_build(tmp_path_factory) -> Path:
    """3 conditions (AAS, BBS, CCS); each 3 always-train, 1 fold-0 validation, 2 test images."""
    from tests.generate.lora.tiny_pipelines import write_tiny_build

    return write_tiny_build(tmp_path_factory.mktemp("lora_build") / "rdface", CONDITIONS)


@pytest.fixture
def make_lora_build():
    """``(root, poison_test=False)`` -> the lora_build layout (poisoned: undecodable test images)."""
    from tests.generate.lora.tiny_pipelines import write_tiny_build

    return lambda root, **kw: write_tiny_build(root, CONDITIONS, **kw)


@pytest.fixture(scope="session")
def train_args(tiny_sd, lora_build):
    """Flags of a small, fast training run on the tiny model (add --output-dir)."""

    def args(**extra) -> list[str]:
        values = {
            "dataset": str(lora_build), "base_model": str(tiny_sd), "vae": "base", "max_train_steps": "4",
            "learning_rate": "0.01", "checkpointing_steps": "2", "seed": "3", **{k: str(v) for k, v in extra.items()},
        }  # fmt: skip
        out = ["train-lora"]
        for key, value in values.items():
            out += [f"--{key.replace('_', '-')}", value]
        return [*out, "--no-progress"] if "--no-progress" not in out else out

    return args


@pytest.fixture(scope="session")
def trained(tmp_path_factory, train_args) -> Path:
    """3 conditions trained together for 4 steps on fold 0 (read-only for the tests)."""
    from rdface_hf.cli import main

    out = tmp_path_factory.mktemp("trained") / "adapters"
    assert main([*train_args(output_dir=out)]) == 0
    return out
