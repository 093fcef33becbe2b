"""``rdface train-fastgan``: tiny runs in both modes, resume, leak-freedom, push, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from types import SimpleNamespace
from typing import ClassVar

import numpy as np
import pytest
import torch

from rdface_hf._config import ConfigError
from rdface_hf._errors import InputError
from rdface_hf._sheets import LABEL_WIDTH
from rdface_hf.cli import main
from rdface_hf.dataset import RDFaceDataset
from rdface_hf.generate.fastgan import train as train_module
from rdface_hf.generate.fastgan.models import FastGANDiscriminator, FastGANGenerator
from rdface_hf.generate.fastgan.train import train_fastgan
from rdface_hf.generate.fastgan.trainer import GRID_SEEDS, GRID_TILE


def test_conditional_run_writes_a_hub_model(conditional_gan, sim_build, assert_picture):
    out = conditional_gan
    assert {"config.json", "model.safetensors", "README.md", "train_fastgan_config.json", "trainer_state.json"} <= {
        p.name for p in out.iterdir()
    }
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["final.png", "step-000002.png", "step-000004.png"]
    assert [p.name for p in sorted((out / "checkpoints").iterdir())] == ["checkpoint-000002", "checkpoint-000004"]
    assert not list(out.rglob("*.bin")) and not list(out.rglob("*.pt*"))  # safetensors and JSON only
    g = FastGANGenerator.from_pretrained(out)
    rd = RDFaceDataset(sim_build)
    trained = sorted({int(y) for y in rd.labels("train", 0)})
    grid = assert_picture(out / "samples" / "final.png")  # a labelled row per trained condition, 8 seeds each
    assert grid.shape[:2] == (len(trained) * GRID_TILE, LABEL_WIDTH + GRID_SEEDS * GRID_TILE)
    assert g.conditional and g.resolution == 64
    assert g.class_names == rd.class_names and g.abbreviations == rd.abbreviations
    assert g.provenance["trained_on"] == "fold_0" and g.provenance["reconstruction_loss"] == "l1"
    assert sorted(i for ids in g.training_ids for i in ids) == sorted(rd.training_split(0)["image_id"])
    assert FastGANDiscriminator.from_pretrained(out / "discriminator").resolution == 64
    history = json.loads((out / "trainer_state.json").read_text())["history"]
    assert [h["step"] for h in history] == [4] and np.isfinite(history[0]["loss_g"])
    card = (out / "README.md").read_text()
    assert "Privacy warning" in card and "fold_0" in card and "class-conditional" in card


def test_pooled_run_stores_landmark_prototypes(pooled_gan, sim_build):
    g = FastGANGenerator.from_pretrained(pooled_gan)
    rd = RDFaceDataset(sim_build)
    assert not g.conditional and g.embed is None
    faced = {int(y) for y, lm in zip(rd.labels("train", 0), rd.landmarks("train", 0)) if not np.isnan(lm).any()}
    has_prototype = {c for c in range(rd.num_classes) if not torch.isnan(g.prototypes[c]).any()}
    assert has_prototype == faced and len(faced) >= 2
    assert torch.isfinite(g.template).all() and g.template.abs().sum() > 0
    assert "Pooled (unconditional)" in (pooled_gan / "README.md").read_text()


def test_interrupted_run_resumes_to_the_same_model(conditional_gan, sim_build, tmp_path, tiny_config, monkeypatch):
    """Interrupted at step 3 of 4, rerun: it resumes from checkpoint 2 and ends with the model of
    the uninterrupted run (``conditional_gan``: the same settings in another folder)."""
    real_step = train_module.Trainer.step

    def crash_at_3(self, step):
        if step == 3:
            raise KeyboardInterrupt
        return real_step(self, step)

    monkeypatch.setattr(train_module.Trainer, "step", crash_at_3)
    with pytest.raises(KeyboardInterrupt):
        train_fastgan(tiny_config(sim_build, tmp_path / "cut"), progress=False)
    assert not (tmp_path / "cut" / "model.safetensors").exists()
    monkeypatch.setattr(train_module.Trainer, "step", real_step)
    resumed = train_fastgan(tiny_config(sim_build, tmp_path / "cut"), progress=False)
    assert resumed.resumed_from == 2
    for name in ("model.safetensors", "config.json", "discriminator/model.safetensors"):
        assert (tmp_path / "cut" / name).read_bytes() == (conditional_gan / name).read_bytes(), name
    with pytest.raises(InputError, match="other settings"):
        train_fastgan(tiny_config(sim_build, tmp_path / "cut", max_train_steps=5), progress=False)


def test_a_rerun_of_a_finished_run_says_it_is_already_done(conditional_gan, sim_build, tiny_config, capsys):
    from rdface_hf.commands import train_fastgan as command

    assert command.run(tiny_config(sim_build, conditional_gan)) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("already done:") and "nothing to train" in printed and "trained" not in printed


@pytest.mark.parametrize("mode", ["conditional", "pooled"])
def test_leak_free_the_test_split_never_reaches_the_model(rebuilt, tmp_path, tiny_config, mode):
    """Poisoning the test split's images and landmarks leaves the model byte-identical."""
    clean = rebuilt(tmp_path / "a" / "rdface")
    poisoned = rebuilt(tmp_path / "b" / "rdface", poison=True)
    assert RDFaceDataset(clean).digest != RDFaceDataset(poisoned).digest
    for build, out in ((clean, "ga"), (poisoned, "gb")):
        train_fastgan(tiny_config(build, tmp_path / out, max_train_steps=1, mode=mode, fold="test"), progress=False)
    for name in ("model.safetensors", "config.json", "README.md", "discriminator/model.safetensors"):
        assert (tmp_path / "ga" / name).read_bytes() == (tmp_path / "gb" / name).read_bytes(), name


class FakeHfApi:
    calls: ClassVar[list] = []
    public = False

    def __init__(self, token=None):
        self.token = token

    def create_repo(self, repo_id, **kw):
        FakeHfApi.calls.append(("create_repo", repo_id, kw))

    def model_info(self, repo_id):
        return type("Info", (), {"private": not FakeHfApi.public})()

    def update_repo_settings(self, repo_id, **kw):
        FakeHfApi.calls.append(("update_repo_settings", repo_id, kw))

    def upload_folder(self, **kw):
        FakeHfApi.calls.append(("upload_folder", kw))
        return type("Commit", (), {"commit_url": f"https://huggingface.co/{kw['repo_id']}/commit/1"})()


def test_push_to_hub_is_private(sim_build, tmp_path, tiny_config, monkeypatch):
    FakeHfApi.calls, FakeHfApi.public = [], False
    monkeypatch.setattr("rdface_hf.generate.fastgan.hub.HfApi", FakeHfApi)
    result = train_fastgan(
        tiny_config(sim_build, tmp_path / "o", max_train_steps=1, push_to_hub="org/gan"), progress=False
    )
    assert result.pushed_to == "https://huggingface.co/org/gan/commit/1"
    (_, repo, kw), (_, gated_repo, settings), (_, upload) = FakeHfApi.calls
    assert repo == gated_repo == "org/gan" and kw["private"] is True and settings["gated"] == "manual"
    assert upload["repo_id"] == "org/gan" and "model.safetensors" in upload["allow_patterns"]
    assert not any("checkpoint" in p or "train_fastgan" in p for p in upload["allow_patterns"])
    assert json.loads((tmp_path / "o" / "config.json").read_text())["provenance"]["repo_id"] == "org/gan"
    FakeHfApi.public = True
    with pytest.raises(InputError, match="public"):
        train_module.push_model(tmp_path / "o", "org/gan")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--resolution", "100"], "--resolution must be one of"),
        (["--push-to-hub", "not a repo"], "--push-to-hub must be ORG/NAME"),
        (["--fold", "x"], "--fold must be a fold number"),
        (["--augment", "color,zoom"], "--augment has unknown policies"),
        (["--conditions", "NOPE"], "unknown condition"),
        (["--fold", "9"], "has no fold 9"),
    ],
)
def test_bad_input_is_one_line(sim_build, tmp_path, flags, message, capsys):
    code = main(["train-fastgan", "--dataset", str(sim_build), "--output-dir", str(tmp_path / "o"), *flags])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0], err
    assert not (tmp_path / "o").exists()


def test_config_validation():
    from rdface_hf.generate.fastgan.config import TrainFastGANConfig

    with pytest.raises(ConfigError, match="ema_decay"):
        TrainFastGANConfig(dataset="d", output_dir="o", ema_decay=1.0)
    with pytest.raises(ConfigError, match="mode"):
        TrainFastGANConfig(dataset="d", output_dir="o", mode="stylegan")


def test_accelerate_launch_entry_point(sim_build, tmp_path):
    """The command runs as `accelerate launch -m rdface_hf.cli train-fastgan` (one CPU process)."""
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "1", "-m",
           "rdface_hf.cli", "train-fastgan", "--dataset", str(sim_build), "--output-dir", str(tmp_path / "o"),
           "--resolution", "64", "--max-train-steps", "1", "--batch-size", "2", "--ngf", "4", "--ndf", "4",
           "--nz", "8", "--recon-loss", "l1", "--mode", "pooled"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # two xdist workers share two cores
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "trained a pooled FastGAN at 64 px for 1 steps" in proc.stdout
    assert FastGANGenerator.from_pretrained(tmp_path / "o").resolution == 64


def test_overwrite_keeps_a_users_file_and_a_rebuilt_dataset_is_not_resumed(
    rebuilt, tmp_path, capsys, user_file_survives, input_change_refused
):
    """A FastGAN must never resume from images that a rebuild made test images."""
    import shutil

    build = rebuilt(tmp_path / "d" / "rdface")
    flags = ["--resolution=64", "--max-train-steps=4", "--batch-size=2", "--ngf=4", "--ndf=4", "--nz=8",
             "--recon-loss=l1", "--checkpointing-steps=2", "--sample-steps=2"]  # fmt: skip
    argv = ["train-fastgan", "--dataset", str(build), "--fold", "test", "--output-dir", str(tmp_path / "o"), *flags]
    assert main(argv) == 0
    user_file_survives(argv, tmp_path / "o", capsys)
    shutil.rmtree(build)
    rebuilt(build, poison=True)
    input_change_refused(argv, capsys, "dataset")


def test_sample_grids_label_every_condition_and_page(conditional_gan, monkeypatch, tmp_path, assert_picture):
    """Every trained condition gets a row, labelled with its abbreviation; many conditions: pages."""
    from rdface_hf import _sheets
    from rdface_hf.generate.fastgan import trainer as trainer_module

    g = FastGANGenerator.from_pretrained(conditional_gan)
    drawn = []
    real_write = _sheets.write_sheets
    monkeypatch.setattr(trainer_module, "write_sheets", lambda path, rows, **kw: drawn.append(rows) or
                        real_write(path, rows, rows_per_page=1, **kw))  # fmt: skip
    conditions = sorted(g.trained_conditions)
    fake = SimpleNamespace(ema=SimpleNamespace(model=g), accelerator=SimpleNamespace(device="cpu"),
                           data=SimpleNamespace(conditions=conditions))  # fmt: skip
    paths = trainer_module.Trainer.sample_grid(fake, tmp_path / "final.png")
    assert [r.label for r in drawn[0]] == [g.abbreviations[c] for c in sorted(g.trained_conditions)]
    assert [p.name for p in paths] == ["final.png"] + [f"final-{k}.png" for k in range(2, len(paths) + 1)]
    assert len(paths) == len(g.trained_conditions) >= 2
    for p in paths:
        assert_picture(p)


def test_report_to_tensorboard_logs_losses_learning_rate_throughput_and_samples(
    sim_build, tmp_path, tiny_config, tensorboard_run
):
    """--report-to tensorboard, offline: the event file holds the losses, learning rate,
    throughput and the sample grids; the run-only flags leave the run's identity alone."""
    out = tmp_path / "tracked"
    config = tiny_config(sim_build, out, report_to="tensorboard", run_name="try-1")
    train_fastgan(config, progress=False)
    assert (out / "logs" / "try-1").is_dir()
    scalars, images, _ = tensorboard_run(out)
    losses = [t for t in scalars if t.startswith("train/loss")]
    assert len(losses) == 4 and all(np.isfinite(v) for t in losses for _, v in scalars[t])
    assert [s for s, _ in scalars["train/loss_g"]] == [4]
    assert scalars["train/learning_rate"][0][1] == pytest.approx(config.learning_rate)
    assert scalars["train/images_per_second"][0][1] > 0
    assert images, "the sample grids go to TensorBoard"
    hparams = next((out / "logs").rglob("hparams.yml")).read_text()  # the config as hyperparameters
    assert "max_train_steps: 4" in hparams and "mode: conditional" in hparams
    assert str(tmp_path) not in hparams and str(sim_build) not in hparams, "no local path"
    saved = json.loads((out / "train_fastgan_config.json").read_text())
    assert saved["report_to"] == "tensorboard" and "report_to" in config.run_only_fields()
    assert "run_name" in config.run_only_fields()


def test_report_to_a_tracker_that_is_not_installed_is_one_line(sim_build, tmp_path, capsys, monkeypatch):
    from rdface_hf import _tracking

    monkeypatch.setattr(_tracking, "installed", lambda tracker: tracker == "tensorboard")
    out = tmp_path / "o"
    code = main(["train-fastgan", "--dataset", str(sim_build), "--output-dir", str(out), "--report-to", "wandb"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "wandb" in err[0] and "not installed" in err[0], err
    assert not out.exists(), "refused before any work"
    assert _tracking.check_report_to("all") == ["tensorboard"] and _tracking.check_report_to("none") == []
