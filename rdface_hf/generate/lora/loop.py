"""The training loop of one group of conditions, trained concurrently in one batch.

Every random draw of a condition (its LoRA's start, and at each step the image,
the flip, the timestep, the noise) comes from a generator seeded by
``(seed, abbr, step)``, so a condition's adapter does not depend on which other
conditions share its batch, and a run resumed from a checkpoint continues
exactly where it stopped.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import safetensors.torch
import torch
import torch.nn.functional as F
from torch.profiler import record_function

from ..._io import atomic_write_bytes
from . import stacked


def derive_seed(*parts: Any) -> int:
    """A 63-bit seed from any parts (stable across machines and Python runs)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


@dataclass
class Latents:
    """VAE posteriors of some images: mean and std ``[n, views, C, h, w]`` (views: as is, flipped)."""

    mean: torch.Tensor
    std: torch.Tensor

    def __len__(self) -> int:
        return self.mean.shape[0]


@dataclass
class Condition:
    """One condition, ready to train: its latents and its prompt (token ids or embeddings)."""

    abbr: str
    latents: Latents
    prompt: torch.Tensor


@dataclass
class Trainer:
    """The shared parts: the base (loaded once), the stacked LoRA layers and the settings."""

    unet: Any
    text_encoder: Any
    unet_layers: dict
    text_layers: dict
    scheduler: Any
    accelerator: Any
    optimizer: Any
    seed: int
    scaling_factor: float
    shift_factor: float
    weight_dtype: torch.dtype
    max_grad_norm: float
    class_latents: Latents | None = None
    class_prompt: torch.Tensor | None = None
    prior_loss_weight: float = 1.0

    @property
    def params(self) -> list[torch.nn.Parameter]:
        return stacked.parameters(self.unet_layers) + stacked.parameters(self.text_layers)

    @property
    def device(self) -> torch.device:
        return self.accelerator.device


@torch.no_grad()
def encode_latents(vae, pixels: np.ndarray, *, flip: bool, device, batch_size: int = 8) -> Latents:
    """Posterior mean and std of ``pixels`` (uint8 ``[n, R, R, 3]``), and of their mirror images."""
    x = torch.from_numpy(np.ascontiguousarray(pixels)).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    views = [x, x.flip(-1)] if flip else [x]
    means, stds = [], []
    for view in views:
        m, s = [], []
        for chunk in view.split(batch_size):
            dist = vae.encode(chunk.to(device=device, dtype=vae.dtype)).latent_dist
            m.append(dist.mean.float())
            s.append(dist.std.float())
        means.append(torch.cat(m))
        stds.append(torch.cat(s))
    return Latents(torch.stack(means, 1), torch.stack(stds, 1))


def tokenize(tokenizer, prompts: Sequence[str]) -> torch.Tensor:
    return tokenizer(
        list(prompts), padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
        return_tensors="pt",
    ).input_ids  # fmt: skip


def _draw(trainer: Trainer, abbr: str, step: int, latents: Latents, salt: str) -> tuple:
    """One sample of a condition at a step: latent, noise, timestep (on the device)."""
    g = torch.Generator().manual_seed(derive_seed(trainer.seed, abbr, step, salt))
    i = int(torch.randint(len(latents), (1,), generator=g))
    v = int(torch.randint(latents.mean.shape[1], (1,), generator=g))
    t = int(torch.randint(trainer.scheduler.config.num_train_timesteps, (1,), generator=g))
    shape = latents.mean.shape[2:]
    eps, noise = torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    dev = latents.mean.device
    latent = latents.mean[i, v] + latents.std[i, v] * eps.to(dev)
    latent = (latent - trainer.shift_factor) * trainer.scaling_factor
    return latent, noise.to(dev), t


def make_batch(trainer: Trainer, conditions: Sequence[Condition], step: int) -> dict[str, Any]:
    """Slot ``k`` holds one image of ``conditions[k]`` (and one class image with prior preservation)."""
    rows = [(k, c.prompt, 1.0, *_draw(trainer, c.abbr, step, c.latents, "instance")) for k, c in enumerate(conditions)]
    if trainer.class_latents is not None:
        weight = trainer.prior_loss_weight
        rows += [
            (k, trainer.class_prompt, weight, *_draw(trainer, c.abbr, step, trainer.class_latents, "class"))
            for k, c in enumerate(conditions)
        ]
    device, route = trainer.device, [r[0] for r in rows]
    return {
        "route": torch.tensor(route, device=device),
        "identity": route == list(range(len(route))),
        "prompt": torch.stack([r[1] for r in rows]).to(device),
        "weight": torch.tensor([r[2] for r in rows], device=device),
        "latents": torch.stack([r[3] for r in rows]).to(device),
        "noise": torch.stack([r[4] for r in rows]).to(device),
        "timesteps": torch.tensor([r[5] for r in rows], device=device, dtype=torch.long),
    }


def train_step(trainer: Trainer, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """One optimisation step; returns the per-sample losses (detached)."""
    sched, dtype = trainer.scheduler, trainer.weight_dtype
    latents, noise, timesteps = batch["latents"], batch["noise"], batch["timesteps"]
    noisy = sched.add_noise(latents, noise, timesteps)
    route, identity = batch["route"], batch["identity"]
    with record_function("lora.forward"):  # named ranges for torch.profiler (benchmarks/lora_speed.py --profile)
        with (
            trainer.accelerator.autocast(),
            stacked.routed(trainer.unet_layers.values(), route, identity=identity),
            stacked.routed(trainer.text_layers.values(), route, identity=identity),
        ):
            if trainer.text_layers:
                states = trainer.text_encoder(batch["prompt"], return_dict=False)[0]
            else:
                states = batch["prompt"]
            pred = trainer.unet(noisy.to(dtype), timesteps, states.to(dtype), return_dict=False)[0]
        if sched.config.prediction_type == "v_prediction":
            target = sched.get_velocity(latents, noise, timesteps)
        else:
            target = noise
        per_sample = F.mse_loss(pred.float(), target.float(), reduction="none").mean(dim=(1, 2, 3))
        loss = (per_sample * batch["weight"]).sum()  # a sum: each slot's gradient is its own batch-1 gradient
    with record_function("lora.backward"):
        trainer.accelerator.backward(loss)
    with record_function("lora.optimizer"):
        if trainer.accelerator.scaler is not None:
            trainer.accelerator.unscale_gradients()
        stacked.clip_per_slot(trainer.params, trainer.max_grad_norm)
        trainer.optimizer.step()
        trainer.optimizer.zero_grad(set_to_none=True)
    return per_sample.detach()


def reset_group(trainer: Trainer, conditions: Sequence[Condition]) -> None:
    """Fresh LoRA slots for ``conditions`` and a fresh optimizer state."""
    for slot, cond in enumerate(conditions):
        stacked.reset_slot(trainer.unet_layers, slot, derive_seed(trainer.seed, cond.abbr, "init-unet"))
        if trainer.text_layers:
            stacked.reset_slot(trainer.text_layers, slot, derive_seed(trainer.seed, cond.abbr, "init-text"))
    inner = getattr(trainer.optimizer, "optimizer", trainer.optimizer)
    inner.state.clear()


def save_checkpoint(trainer: Trainer, path: Path, step: int, abbrs: Sequence[str]) -> None:
    """LoRA-only checkpoint (safetensors): the group's LoRA slots and their Adam moments."""
    n = len(abbrs)
    tensors = {f"param.{i}": p.detach()[:n].float().cpu().contiguous() for i, p in enumerate(trainer.params)}
    inner = getattr(trainer.optimizer, "optimizer", trainer.optimizer)
    for i, state in inner.state_dict()["state"].items():
        for key, value in state.items():
            value = torch.as_tensor(value).detach()
            tensors[f"optim.{i}.{key}"] = (value[:n] if value.dim() else value).cpu().contiguous()
    scaler = trainer.accelerator.scaler
    metadata = {
        "step": str(step),
        "conditions": json.dumps(list(abbrs)),
        "scaler": json.dumps(scaler.state_dict() if scaler is not None else {}),
    }
    atomic_write_bytes(path, safetensors.torch.save(tensors, metadata=metadata))


def load_checkpoint(trainer: Trainer, path: Path, abbrs: Sequence[str]) -> int:
    """Continue from ``path`` if it holds these conditions; returns the steps already done (0 if none)."""
    if not path.is_file():
        return 0
    with safetensors.safe_open(str(path), "pt") as fh:
        meta = fh.metadata() or {}
        if json.loads(meta.get("conditions", "[]")) != list(abbrs):
            return 0
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - safe_open has no iterator
    n, params = len(abbrs), trainer.params
    with torch.no_grad():
        for i, p in enumerate(params):
            p[:n].copy_(tensors[f"param.{i}"].to(p.device, p.dtype))
    inner = getattr(trainer.optimizer, "optimizer", trainer.optimizer)
    state: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, i, name = key.split(".", 2)
            if value.dim():  # moments of the group's slots, zero for the others
                full = torch.zeros_like(params[int(i)], dtype=value.dtype, device="cpu")
                full[:n] = value
                value = full
            state.setdefault(int(i), {})[name] = value
    current = inner.state_dict()
    current["state"] = state
    inner.load_state_dict(current)
    scaler_state = json.loads(meta.get("scaler") or "{}")
    if scaler_state and trainer.accelerator.scaler is not None:
        trainer.accelerator.scaler.load_state_dict(scaler_state)
    return int(meta.get("step", 0))
