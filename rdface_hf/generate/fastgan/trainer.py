"""One FastGAN training step, the EMA generator, checkpoints and sample grids.

Every step reseeds torch and numpy from ``(seed, step, process)``: the batch,
the flips, the latent vectors, DiffAugment and the reconstructed quarter are
functions of the step number alone, so a resumed run continues exactly where
an uninterrupted one would be (bit for bit on a CPU).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from ..._sheets import Row, write_sheets
from .checkpoint import checkpoints, load_checkpoint, prune_checkpoints, save_checkpoint
from .config import TrainFastGANConfig
from .data import TrainingData, sample_batch
from .diffaug import diff_augment, parse_policy
from .losses import d_hinge_fake, d_hinge_real, g_hinge
from .models import crop_part

LOSSES = ("loss_d_real", "loss_d_fake", "loss_rec", "loss_g")
GRID_TILE = 128  # px per sample in a grid
GRID_SEEDS = 8  # samples per condition in a grid


def init_weights(module: nn.Module) -> None:
    """The reference code's initialisation: N(0, 0.02) convolutions, N(1, 0.02) batch-norm scales."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            weight = m.parametrizations.weight.original if parametrize.is_parametrized(m, "weight") else m.weight
            nn.init.normal_(weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class EMA:
    """Exponential moving average of a generator's parameters (buffers copied): what is saved."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.decay = decay

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        for ema, live in zip(self.model.parameters(), model.parameters()):
            ema.lerp_(live.detach(), 1.0 - self.decay)
        for ema, live in zip(self.model.buffers(), model.buffers()):
            ema.copy_(live)


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    if x.shape[-1] == size:
        return x
    mode = "area" if x.shape[-1] > size else "bilinear"
    return F.interpolate(x, size=(size, size), mode=mode, **({"align_corners": False} if mode == "bilinear" else {}))


def seed_step(seed: int, step: int, process: int) -> np.random.Generator:
    """Seed torch (every device) for this step; return the numpy generator of the batch."""
    entropy = np.random.SeedSequence([seed, step, process]).generate_state(2)
    torch.manual_seed(int(entropy[0]) << 32 | int(entropy[1]))
    return np.random.default_rng([seed, step, process])


class Trainer:
    """Generator, discriminator, their optimisers and the EMA, prepared by ``accelerator``."""

    def __init__(self, config: TrainFastGANConfig, data: TrainingData, generator, discriminator, recon, accelerator):
        self.config, self.data, self.accelerator = config, data, accelerator
        self.policy = parse_policy(config.augment)
        betas = (0.5, 0.999)
        opt_g = torch.optim.Adam(generator.parameters(), lr=config.learning_rate, betas=betas)
        opt_d = torch.optim.Adam(discriminator.parameters(), lr=config.learning_rate, betas=betas)
        self.ema = EMA(generator.to(accelerator.device), config.ema_decay)
        self.G, self.D, self.opt_g, self.opt_d = accelerator.prepare(generator, discriminator, opt_g, opt_d)
        self.recon = recon.to(accelerator.device)
        self.history: list[dict] = []

    @property
    def generator(self) -> nn.Module:
        return self.accelerator.unwrap_model(self.G)

    @property
    def discriminator(self) -> nn.Module:
        return self.accelerator.unwrap_model(self.D)

    def _modules(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "generator_ema": self.ema.model, "discriminator": self.discriminator}

    def _optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"optimizer_g": self.opt_g, "optimizer_d": self.opt_d}

    def _d_real(self, real: torch.Tensor, labels, part: int) -> tuple[torch.Tensor, torch.Tensor]:
        logits, (rec_big, rec_small, rec_part) = self.D(real, labels, part=part)
        size = rec_big.shape[-1]
        whole, quarter = _resize(real, size), _resize(crop_part(real, part), size)
        rec = self.recon(rec_big, whole).sum() + self.recon(rec_small, whole).sum()
        rec = rec + self.recon(rec_part, quarter).sum()
        return d_hinge_real(logits) + rec, rec

    def step(self, step: int) -> dict[str, torch.Tensor]:
        """One discriminator and one generator update (the reference code's order)."""
        acc, cfg = self.accelerator, self.config
        rng = seed_step(cfg.seed, step, acc.process_index)
        real, labels = sample_batch(self.data, rng, cfg.batch_size, acc.device)
        labels = labels if cfg.mode == "conditional" else None
        part = int(rng.integers(4))
        with acc.autocast():
            fake_big, fake_small = self.G(torch.randn(cfg.batch_size, cfg.nz, device=acc.device), labels)
            real = diff_augment(real, self.policy)
            fakes = [diff_augment(fake_big, self.policy), diff_augment(fake_small, self.policy)]
        self.opt_d.zero_grad(set_to_none=True)
        with acc.autocast():
            loss_real, rec = self._d_real(real, labels, part)
        acc.backward(loss_real)
        with acc.autocast():
            loss_fake = d_hinge_fake(self.D([f.detach() for f in fakes], labels))
        acc.backward(loss_fake)
        self.opt_d.step()
        self.opt_g.zero_grad(set_to_none=True)
        with acc.autocast():
            loss_g = g_hinge(self.D(fakes, labels))
        acc.backward(loss_g)
        self.opt_g.step()
        self.ema.update(self.generator)
        losses = (loss_real.detach() - rec.detach(), loss_fake.detach(), rec.detach(), loss_g.detach())
        return dict(zip(LOSSES, losses))

    def log(self, step: int, losses: dict[str, torch.Tensor]) -> dict[str, float]:
        record = {"step": step, **{k: round(float(v), 5) for k, v in losses.items()}}
        self.history.append(record)
        return record

    def resume(self, root: Path) -> int:
        """Restore the latest checkpoint under ``root``; returns its step (0 without one)."""
        found = checkpoints(root)
        if not found:
            return 0
        step, path = found[-1]
        state = load_checkpoint(path, self._modules(), self._optimizers())
        self.history = list(state.get("history", []))
        return step

    def checkpoint(self, root: Path, step: int) -> None:
        save_checkpoint(root, step, self._modules(), self._optimizers(), {"history": self.history})
        prune_checkpoints(root, self.config.checkpoints_total_limit)

    def sample_grid(self, path: Path) -> list[Path]:
        """EMA samples, one row per trained condition (all of them, labelled with their
        abbreviations; paged by 16 rows: ``final.png``, ``final-2.png``, ...), 8 seeds per row;
        a pooled model: 4 unlabelled rows."""
        g = self.ema.model
        if g.conditional:
            labels = [g.abbreviations[c] for c in self.data.conditions]
            seeds, conditions = list(range(GRID_SEEDS)) * len(labels), [c for c in labels for _ in range(GRID_SEEDS)]
        else:
            labels = ["pooled"] * 4
            seeds, conditions = list(range(GRID_SEEDS * 4)), None
        images = g.sample(seeds, conditions, device=self.accelerator.device)
        rows = [Row(label, list(images[i * GRID_SEEDS : (i + 1) * GRID_SEEDS])) for i, label in enumerate(labels)]
        return write_sheets(path, rows, cell=GRID_TILE)
