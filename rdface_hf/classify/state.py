"""The resumable training state of one fold: safetensors for tensors, JSON for the rest.

``fold_K/checkpoint/training_state.safetensors`` holds the model's current weights
(``model.*``), the best epoch's weights so far (``best.*``) and the optimiser's tensors
(``optim.<param>.<name>``); ``training_state.json`` holds the epoch, the best-so-far
record, the epoch log, the optimiser's other state and the learning-rate schedule's
counters. Nothing is pickled. The JSON file is written last and names the tensor file's
token, so a state is either whole or ignored.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from .._io import atomic_write_json

CHECKPOINT_DIR = "checkpoint"
TENSORS = "training_state.safetensors"
INFO = "training_state.json"


@dataclass
class Progress:
    """Where a fold stands after an epoch (saved in the state's JSON)."""

    epoch: int = -1  # last finished epoch (0-based); -1 before the first
    best_epoch: int = -1
    best_top_1: float = -1.0
    best_loss: float = float("inf")
    log: list[dict[str, Any]] = field(default_factory=list)

    def improves(self, top_1: float, loss: float) -> bool:
        """Better validation top-1, or the same with a lower loss (the first epoch always)."""
        return self.best_epoch < 0 or top_1 > self.best_top_1 or (top_1 == self.best_top_1 and loss < self.best_loss)

    def to_json(self) -> dict[str, Any]:
        best_loss = None if self.best_loss == float("inf") else self.best_loss
        return {
            "epoch": self.epoch,
            "best_epoch": self.best_epoch,
            "best_top_1": self.best_top_1,
            "best_loss": best_loss,
            "log": self.log,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Progress:
        best_loss = data.get("best_loss")
        return cls(
            epoch=int(data["epoch"]),
            best_epoch=int(data["best_epoch"]),
            best_top_1=float(data["best_top_1"]),
            best_loss=float("inf") if best_loss is None else float(best_loss),
            log=list(data.get("log", [])),
        )


def cpu_copy(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Detached, contiguous CPU copies that share no memory (tied weights stay separate)."""
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in state.items()}


def _split_optimizer(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    tensors, plain = {}, {}
    for index, values in state["state"].items():
        for name, value in values.items():
            if torch.is_tensor(value):
                tensors[f"optim.{index}.{name}"] = value.detach().to("cpu", copy=True).contiguous()
            else:
                plain.setdefault(str(index), {})[name] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": plain}


def _join_optimizer(tensors: dict[str, torch.Tensor], saved: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, index, name = key.split(".", 2)
            state.setdefault(int(index), {})[name] = value
    for index, values in saved["scalars"].items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": saved["param_groups"]}


def _scheduler_state(scheduler) -> dict[str, Any]:
    return {k: v for k, v in scheduler.state_dict().items() if k != "lr_lambdas"}


def save_state(folder: Path, *, model_state, best_state, optimizer, scheduler, progress: Progress, scaler=None) -> None:
    """Write the state (tensors first, then the JSON that commits them)."""
    folder = Path(folder) / CHECKPOINT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(8)
    optim_tensors, optim_plain = _split_optimizer(optimizer.state_dict())
    tensors = {f"model.{k}": v for k, v in cpu_copy(model_state).items()}
    tensors.update({f"best.{k}": v for k, v in cpu_copy(best_state).items()})
    tensors.update(optim_tensors)
    tmp = folder / f".{TENSORS}.{token}.tmp"
    save_file(tensors, str(tmp), metadata={"token": token})
    os.replace(tmp, folder / TENSORS)
    info = {
        "token": token,
        "progress": progress.to_json(),
        "optimizer": optim_plain,
        "scheduler": _scheduler_state(scheduler),
        "scaler": scaler.state_dict() if scaler is not None else None,
    }
    atomic_write_json(folder / INFO, info)


@dataclass
class SavedState:
    progress: Progress
    model_state: dict[str, torch.Tensor]
    best_state: dict[str, torch.Tensor]
    optimizer: dict[str, Any]
    scheduler: dict[str, Any]
    scaler: dict[str, Any] | None


def load_state(folder: Path) -> SavedState | None:
    """The saved state of a fold, or ``None`` (none saved, or an incomplete save)."""
    folder = Path(folder) / CHECKPOINT_DIR
    try:
        info = json.loads((folder / INFO).read_text(encoding="utf-8"))
        tensors = load_file(str(folder / TENSORS))
        with open(folder / TENSORS, "rb") as fh:
            header_len = int.from_bytes(fh.read(8), "little")
            header = json.loads(fh.read(header_len))
    except Exception:  # missing, truncated or foreign files: no usable state (the fold starts again)
        return None
    if header.get("__metadata__", {}).get("token") != info.get("token"):
        return None
    return SavedState(
        progress=Progress.from_json(info["progress"]),
        model_state={k[6:]: v for k, v in tensors.items() if k.startswith("model.")},
        best_state={k[5:]: v for k, v in tensors.items() if k.startswith("best.")},
        optimizer=_join_optimizer(tensors, info["optimizer"]),
        scheduler=info["scheduler"],
        scaler=info.get("scaler"),
    )


def remove_state(folder: Path) -> None:
    """Delete a finished fold's state (this run wrote it)."""
    shutil.rmtree(Path(folder) / CHECKPOINT_DIR, ignore_errors=True)
