"""Resumable training checkpoints: safetensors for every tensor, JSON for the rest (no pickle).

``O/checkpoints/checkpoint-<step>/`` holds ``generator.safetensors``,
``generator_ema.safetensors``, ``discriminator.safetensors``,
``optimizer_g.safetensors`` / ``optimizer_d.safetensors`` (Adam moments, keyed
``state.<param>.<name>``), ``optimizers.json`` (their parameter groups and
scalars) and ``state.json`` (step, losses). A checkpoint is written in a
hidden folder and renamed into place, so one that exists is complete.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, load_model, save_file, save_model

from ..._errors import InputError
from ..._io import atomic_write_json

NAME = re.compile(r"^checkpoint-(\d+)$")
MODULES = ("generator", "generator_ema", "discriminator")
OPTIMIZERS = ("optimizer_g", "optimizer_d")


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for index, values in state["state"].items():
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"state.{index}.{key}"] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def _load_optimizer(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    state: dict[int, dict[str, Any]] = {}
    for flat, value in [*tensors.items(), *meta["scalars"].items()]:
        _, index, key = flat.split(".", 2)
        state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": meta["param_groups"]})


def save_checkpoint(root: Path, step: int, modules: dict[str, torch.nn.Module], optimizers, state: dict) -> Path:
    """Write ``root/checkpoint-<step>`` whole (temporary folder, then a rename)."""
    final = root / f"checkpoint-{step:06d}"
    tmp = root / f".checkpoint-{step:06d}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in MODULES:
        save_model(modules[name], str(tmp / f"{name}.safetensors"))
    meta = {}
    for name in OPTIMIZERS:
        tensors, meta[name] = _optimizer_tensors(optimizers[name])
        save_file(tensors, str(tmp / f"{name}.safetensors"))
    atomic_write_json(tmp / "optimizers.json", meta)
    atomic_write_json(tmp / "state.json", {"step": step, **state})
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    return final


def checkpoints(root: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints under ``root``, oldest first."""
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if (m := NAME.match(p.name)) and (p / "state.json").is_file()]
    return sorted(found)


def prune_checkpoints(root: Path, keep: int) -> None:
    for _, path in checkpoints(root)[:-keep]:
        shutil.rmtree(path, ignore_errors=True)
    for leftover in root.glob(".checkpoint-*.tmp-*"):  # an interrupted save
        shutil.rmtree(leftover, ignore_errors=True)


def load_checkpoint(path: Path, modules: dict[str, torch.nn.Module], optimizers) -> dict[str, Any]:
    """Restore modules and optimizers from ``path``; returns ``state.json``."""
    try:
        for name in MODULES:
            load_model(modules[name], str(path / f"{name}.safetensors"), strict=True)
        meta = json.loads((path / "optimizers.json").read_text(encoding="utf-8"))
        for name in OPTIMIZERS:
            _load_optimizer(optimizers[name], load_file(str(path / f"{name}.safetensors")), meta[name])
        return json.loads((path / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        first = (str(exc).splitlines() or [""])[0]
        raise InputError(f"cannot resume from {path}: {type(exc).__name__}: {first[:200]}") from None
