"""Validation pictures of ``train-lora``: what each adapter draws, while it trains and at the end.

``--validation-images N`` images per condition (its instance prompt, fixed seeds,
DDIM with classifier-free guidance) are drawn with the training UNet itself: sample
``i`` goes through its condition's LoRA slot (:func:`.stacked.routed`), so no
pipeline is loaded and nothing is saved first. They go to
``O/<abbr>/validation.png`` (one row per validation of this run: ``step N``, then
``final``) every ``--validation-steps`` steps and at the end; ``O/samples.png`` is
the overview, one row per condition (its final images). The random state of
training is untouched (the draws fork it), so adapters do not depend on these
settings. These pictures show faces derived from gated data: they stay in the
output folder and go only to the gated repo that ``--push-to-hub`` creates.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ..._sheets import CELL, LABEL_WIDTH, Row, write_sheets
from . import stacked
from .config import SAMPLES_FILE, VALIDATION_FILE
from .loop import derive_seed, tokenize

SAMPLING_STEPS = 25  # DDIM steps per validation image
GUIDANCE = 7.5


class Validator:
    """Draws and writes the validation grids of a run (one per process)."""

    def __init__(self, config, trainer, base, folder: Path) -> None:
        from diffusers import DDIMScheduler  # the sampler of the validation images only

        self.count, self.every, self.folder = config.validation_images, config.validation_steps, folder
        self.trainer, self.vae, self.tokenizer = trainer, base.vae, base.tokenizer
        self.scheduler = DDIMScheduler.from_config(trainer.scheduler.config)
        self.rows: dict[str, list[Row]] = {}

    def due(self, done: int, total: int) -> bool:
        return self.count > 0 and (done == total or (self.every > 0 and done % self.every == 0))

    def __call__(self, group: Sequence, done: int, total: int) -> None:
        """Draw every condition of ``group`` at step ``done`` and rewrite its grid."""
        label = "final" if done == total else f"step {done}"
        for slot, cond in enumerate(group):
            images = self.draw(cond, slot)
            rows = self.rows.setdefault(cond.abbr, [])
            rows.append(Row(label, list(images)))
            write_sheets(self.folder / cond.abbr / VALIDATION_FILE, rows, rows_per_page=len(rows))

    def _states(self, ids: torch.Tensor, route: torch.Tensor) -> torch.Tensor:
        t = self.trainer
        device = next(t.text_encoder.parameters()).device
        with stacked.routed(t.text_layers.values(), route.to(device)):
            return t.text_encoder(ids.to(device), return_dict=False)[0].to(t.device)

    @torch.no_grad()
    def draw(self, cond, slot: int) -> np.ndarray:
        """``count`` images (uint8 [n, H, W, 3]) of one condition through its LoRA slot."""
        t, n = self.trainer, self.count
        route = torch.full((2 * n,), slot, dtype=torch.long, device=t.device)
        empty = tokenize(self.tokenizer, [""])
        if t.text_layers:  # token ids: the text encoder's LoRA applies to both prompts
            states = self._states(torch.cat([cond.prompt[None]] * n + [empty] * n), route)
        else:
            states = torch.cat([cond.prompt[None].to(t.device)] * n + [self._states(empty, route[:1])] * n)
        shape = cond.latents.mean.shape[2:]
        gens = [torch.Generator().manual_seed(derive_seed(t.seed, cond.abbr, "validation", k)) for k in range(n)]
        latents = torch.stack([torch.randn(shape, generator=g) for g in gens]).to(t.device)
        sched = self.scheduler
        sched.set_timesteps(SAMPLING_STEPS)
        latents = latents * sched.init_noise_sigma
        modes = (t.unet.training, t.text_encoder.training)
        t.unet.eval(), t.text_encoder.eval()
        devices = [t.device] if t.device.type == "cuda" else []
        try:
            with torch.random.fork_rng(devices=devices), t.accelerator.autocast():
                with stacked.routed(t.unet_layers.values(), route):
                    for step in sched.timesteps:
                        x = sched.scale_model_input(torch.cat([latents, latents]), step).to(t.weight_dtype)
                        pred = t.unet(x, step, states.to(t.weight_dtype), return_dict=False)[0].float()
                        cond_pred, uncond_pred = pred.chunk(2)
                        guided = uncond_pred + GUIDANCE * (cond_pred - uncond_pred)
                        latents = sched.step(guided, step, latents).prev_sample
                return self._decode(latents)
        finally:
            t.unet.train(modes[0]), t.text_encoder.train(modes[1])

    def _decode(self, latents: torch.Tensor) -> np.ndarray:
        t, home = self.trainer, next(self.vae.parameters()).device
        self.vae.to(t.device)
        try:
            z = latents / t.scaling_factor + t.shift_factor
            pixels = self.vae.decode(z.to(next(self.vae.parameters()).dtype), return_dict=False)[0].float()
        finally:
            self.vae.to(home)
        pixels = ((pixels.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return pixels.permute(0, 2, 3, 1).cpu().numpy()


def last_row(path: Path) -> list[Image.Image]:
    """The cells of the bottom row of a grid written by :class:`Validator` (its final images)."""
    with Image.open(path) as im:
        sheet = im.convert("RGB")
    top = sheet.height - CELL
    cells = (sheet.width - LABEL_WIDTH) // CELL
    return [sheet.crop((LABEL_WIDTH + c * CELL, top, LABEL_WIDTH + (c + 1) * CELL, sheet.height)) for c in range(cells)]


def write_samples(folder: Path, conditions: Sequence[str]) -> Path | None:
    """``O/samples.png``: one row per condition with its final validation images (None without any)."""
    grids = [(a, folder / a / VALIDATION_FILE) for a in conditions]
    rows = [Row(a, last_row(grid)) for a, grid in grids if grid.is_file()]
    if not rows:
        return None
    return write_sheets(folder / SAMPLES_FILE, rows, rows_per_page=len(rows))[0]
