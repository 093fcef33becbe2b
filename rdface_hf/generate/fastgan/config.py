"""Settings of ``rdface train-fastgan`` (light: no torch)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar, Literal

from ..._config import StageConfig, is_hub_repo_id, option, require
from ..._results import StageResult
from ..._tracking import REPORT_TO_HELP, RUN_NAME_HELP
from ...dataset.folds import check_fold

RESOLUTIONS = (64, 128, 256, 512, 1024)
AUGMENTATIONS = ("color", "translation", "cutout")
REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class TrainFastGANConfig(StageConfig):
    """One FastGAN training run (saved as ``train_fastgan_config.json`` in O)."""

    stage: ClassVar[str] = "train-fastgan"
    output_files: ClassVar[tuple[str, ...]] = (
        "config.json", "model.safetensors", "README.md", "discriminator/*", "samples/*", "checkpoints/*",
        "trainer_state.json", ".final.tmp/*",
    )  # fmt: skip

    dataset: str = option(help="RDFace build folder or Hub dataset id")
    output_dir: str = option(help="the model folder O (a run of the same settings resumes)", metavar="O")
    fold: str = option("0", help="train on fold K's training split, or 'test' for every non-test image")
    resolution: int = option(256, help="image side in pixels: 64, 128, 256, 512 or 1024")
    max_train_steps: int = option(20000, help="optimisation steps (the paper: tens of thousands at batch 8)")
    batch_size: int = option(8, help="images per step and process")
    mode: Literal["conditional", "pooled"] = option(
        "conditional",
        help="conditional: one model with a condition embedding; pooled: the paper's unconditional model "
        "whose samples are labelled by the nearest condition landmark prototype",
    )
    conditions: str = option("all", help="'all' or comma-separated condition abbreviations to train on")
    seed: int = option(0, help="random seed; the same seed on the same hardware gives the same model")
    learning_rate: float = option(2e-4, help="Adam learning rate of both networks (betas 0.5, 0.999)")
    ema_decay: float = option(0.999, help="decay of the generator's exponential moving average (what is saved)")
    ngf: int = option(64, help="generator width")
    ndf: int = option(64, help="discriminator width")
    nz: int = option(256, help="latent size")
    augment: str = option("color,translation,cutout", help="DiffAugment policy (comma-separated)")
    recon_loss: Literal["auto", "lpips", "backbone", "l1"] = option(
        "auto", help="discriminator reconstruction loss: LPIPS if its weights are at hand, else a frozen backbone"
    )
    perceptual_model: str = option(
        "facebook/convnext-tiny-224", help="transformers vision backbone for --recon-loss backbone / auto"
    )
    checkpointing_steps: int = option(1000, help="save a resumable checkpoint every N steps", run_only=True)
    checkpoints_total_limit: int = option(2, help="keep the N latest checkpoints", run_only=True)
    sample_steps: int = option(500, help="write a sample grid every N steps (samples/)", run_only=True)
    push_to_hub: str | None = option(
        None, help="after training, upload the model to this private Hub repo", metavar="ORG/NAME", run_only=True
    )
    overwrite: bool = option(False, help="start again in O (only a folder this command wrote)", run_only=True)
    report_to: Literal["none", "tensorboard", "wandb", "trackio", "all"] = option(
        "none", help=REPORT_TO_HELP, run_only=True
    )
    run_name: str | None = option(None, help=RUN_NAME_HELP, run_only=True)

    def validate(self) -> None:
        require(bool(str(self.dataset).strip()), "dataset", "must name a build folder or Hub dataset id")
        require(bool(str(self.output_dir).strip()), "output_dir", "must name a folder")
        check_fold(self.fold)
        require(self.resolution in RESOLUTIONS, "resolution", f"must be one of {RESOLUTIONS}, got {self.resolution}")
        for name in ("max_train_steps", "batch_size", "ngf", "ndf", "nz", "checkpointing_steps", "sample_steps"):
            require(getattr(self, name) >= 1, name, f"must be at least 1, got {getattr(self, name)}")
        require(self.checkpoints_total_limit >= 1, "checkpoints_total_limit", "must be at least 1")
        require(self.mode in ("conditional", "pooled"), "mode", f"must be conditional or pooled, got {self.mode!r}")
        require(self.seed >= 0, "seed", f"must be non-negative, got {self.seed}")
        require(0 < self.learning_rate < 1, "learning_rate", f"must be within (0, 1), got {self.learning_rate}")
        require(0 <= self.ema_decay < 1, "ema_decay", f"must be within [0, 1), got {self.ema_decay}")
        names = [p.strip() for p in self.augment.split(",") if p.strip()]
        unknown = [n for n in names if n not in AUGMENTATIONS]
        require(not unknown, "augment", f"has unknown policies {unknown} (known: {', '.join(AUGMENTATIONS)})")
        require(
            self.recon_loss in ("auto", "lpips", "backbone", "l1"), "recon_loss", "must be auto, lpips, backbone or l1"
        )
        if self.push_to_hub is not None:
            require(is_hub_repo_id(self.push_to_hub), "push_to_hub", f"must be ORG/NAME, got {self.push_to_hub!r}")


@dataclass(frozen=True)
class TrainFastGANResult(StageResult):
    """What a training run made."""

    out: str
    mode: str
    resolution: int
    steps: int  # steps done in total (including a resumed run's)
    resumed_from: int  # step of the checkpoint this run started from (0: a new run)
    images: int  # training images
    conditions: int  # conditions trained
    reconstruction_loss: str
    pushed_to: str | None
    seconds: float
