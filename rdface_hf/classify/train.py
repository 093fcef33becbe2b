"""One fold of fine-tuning under ``accelerate``: train, keep the best epoch on validation,
score it once on the fixed test split.

Images are uint8 tensors on the device (decoded once, :mod:`.images`); a batch is an index
tensor from a :class:`~torch.utils.data.DataLoader` that ``accelerate`` shards across
processes. The order of epoch ``e`` and its random draws (dropout, augmentation) derive from
``(seed, fold, e)`` alone, so a resumed fold trains exactly as an uninterrupted one. Only the
main process evaluates, selects, saves and scores; the test split is read after the last
epoch, with the selected weights, and never before.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .._outputs import note
from .augment import augment_batch
from .images import channel_stats, normalise
from .models import load_classifier
from .scoring import split_scores
from .state import Progress, cpu_copy, load_state, save_state


class IndexSet(torch.utils.data.Dataset):
    """Row numbers: the loader yields index tensors into the images already on the device."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


class EpochOrder(torch.utils.data.Sampler):
    """A permutation of the rows that depends on ``(seed, epoch)`` only (the same on every process)."""

    def __init__(self, n: int, seed: int) -> None:
        self.n, self.seed, self.epoch = n, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        return iter(torch.randperm(self.n, generator=generator).tolist())


def cosine_with_warmup(total_steps: int, warmup_steps: int, floor: float):
    """Learning-rate factor per optimiser step: linear warm-up, then cosine from 1 to ``floor``."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return factor


@dataclass
class FoldJob:
    """Everything one fold needs."""

    config: Any  # TrainClassifierConfig
    accelerator: Any
    fold: int
    class_names: list[str]
    train_x: torch.Tensor  # uint8 (N, 3, S, S), real training images then extra ones
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: np.ndarray
    processor: Any
    folder: Any  # Path of O/fold_K

    def seed_for(self, epoch: int) -> int:
        return (self.config.seed * 1_000_003 + self.fold * 10_007 + epoch) * 8 + self.accelerator.process_index


@torch.inference_mode()
def predict(model, pixels: torch.Tensor, *, mean, std, batch_size: int, accelerator) -> np.ndarray:
    """Logits (float32, on the CPU) of uint8 images, in eval mode."""
    was_training = model.training
    model.eval()
    out = []
    for start in range(0, len(pixels), batch_size):
        x = normalise(pixels[start : start + batch_size].to(accelerator.device), mean, std)
        with accelerator.autocast():
            out.append(model(pixel_values=x).logits.float().cpu())
    model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros((0, 0), np.float32)


def _setup(job: FoldJob):
    """Model (seeded head), AdamW, schedule and the sharded loader, prepared by accelerate."""
    config, accelerator = job.config, job.accelerator
    torch.manual_seed(config.seed)
    model = load_classifier(config.model, job.class_names, revision=config.model_revision, token=config.token)
    model.to(accelerator.device)
    fused = accelerator.device.type == "cuda"
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay, fused=fused or None
    )
    sampler = EpochOrder(len(job.train_x), config.seed * 31 + job.fold)
    loader = torch.utils.data.DataLoader(IndexSet(len(job.train_x)), batch_size=config.batch_size, sampler=sampler)
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    steps_per_epoch = math.ceil(len(loader) / config.gradient_accumulation_steps)
    total = steps_per_epoch * config.epochs
    warmup = round(config.warmup_epochs * steps_per_epoch)
    floor = config.min_learning_rate / config.learning_rate
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer.optimizer, cosine_with_warmup(total, warmup, floor))
    return model, optimizer, scheduler, loader, sampler


def _track(accelerator, fold: int, record: dict) -> None:
    """An epoch's training and validation figures to the trackers (``--report-to``), per fold."""
    values = {
        f"fold_{fold}/{key}": value
        for key, value in record.items()
        if key not in ("epoch", "best") and isinstance(value, (int, float))
    }
    accelerator.log(values, step=record["epoch"])


def _train_epoch(job: FoldJob, model, optimizer, scheduler, loader, mean, std) -> dict[str, float]:
    config, accelerator = job.config, job.accelerator
    model.train()
    loss_sum = torch.zeros((), device=accelerator.device)
    correct = torch.zeros((), device=accelerator.device)
    seen = torch.zeros((), device=accelerator.device)
    start = time.perf_counter()
    for index in loader:
        with accelerator.accumulate(model):
            pixels, labels = job.train_x[index], job.train_y[index]
            x = augment_batch(pixels) if config.augment else pixels.float() / 255.0
            x = (x - mean) / std
            logits = model(pixel_values=x).logits.float()
            loss = F.cross_entropy(logits, labels, label_smoothing=config.label_smoothing)
            accelerator.backward(loss)
            optimizer.step()
            if accelerator.sync_gradients:
                scheduler.step()
            optimizer.zero_grad(set_to_none=True)
        loss_sum += loss.detach() * len(labels)
        correct += (logits.argmax(1) == labels).sum()
        seen += len(labels)
    totals = accelerator.reduce(torch.stack([loss_sum, correct, seen]), reduction="sum")
    seconds = time.perf_counter() - start
    loss_total, correct_total, seen_total = (float(v) for v in totals.cpu())
    return {
        "train_loss": loss_total / max(seen_total, 1),
        "train_top_1": correct_total / max(seen_total, 1),
        "train_images_per_s": seen_total / max(seconds, 1e-9),
        "learning_rate": scheduler.get_last_lr()[0],
        "seconds": seconds,
    }


def _resume(job: FoldJob, model, optimizer, scheduler) -> tuple[Progress, dict]:
    """The saved state of the fold, loaded into the prepared objects (or a fresh start)."""
    saved = load_state(job.folder)
    unwrapped = job.accelerator.unwrap_model(model)
    if saved is None:  # only the main process keeps the best weights
        return Progress(), cpu_copy(unwrapped.state_dict()) if job.accelerator.is_main_process else {}
    unwrapped.load_state_dict(saved.model_state)
    optimizer.load_state_dict(saved.optimizer)
    scheduler.load_state_dict({**scheduler.state_dict(), **saved.scheduler})
    if saved.scaler is not None and job.accelerator.scaler is not None:
        job.accelerator.scaler.load_state_dict(saved.scaler)
    return saved.progress, saved.best_state


class SavePolicy:
    """``--save-state-every``: N epochs, or ``auto`` (while saving costs < 1/10 of the time)."""

    def __init__(self, every: str) -> None:
        self.every = None if every == "auto" else int(every)
        self.last_save = time.perf_counter()
        self.cost = 0.0

    def due(self, epoch: int, last_epoch: int) -> bool:
        if epoch >= last_epoch:
            return False  # the fold is finished next: results follow at once
        if self.every is not None:
            return (epoch + 1) % self.every == 0
        return time.perf_counter() - self.last_save >= 10 * self.cost

    def saved(self, seconds: float) -> None:
        self.cost, self.last_save = seconds, time.perf_counter()


def run_epochs(job: FoldJob, *, progress_bar: bool = True) -> tuple[Any, Progress, dict]:
    """Train every remaining epoch; returns ``(unwrapped model, progress, best weights)``."""
    config, accelerator = job.config, job.accelerator
    model, optimizer, scheduler, loader, sampler = _setup(job)
    progress, best = _resume(job, model, optimizer, scheduler)
    if progress.epoch >= 0 and accelerator.is_main_process:
        note(f"fold {job.fold}: resuming after epoch {progress.epoch + 1} of {config.epochs} (saved training state)")
    mean, std = channel_stats(job.processor, accelerator.device)
    unwrapped, policy = accelerator.unwrap_model(model), SavePolicy(config.save_state_every)
    epochs = range(progress.epoch + 1, config.epochs)
    bar = tqdm(
        epochs, desc=f"fold {job.fold}", unit="epoch", disable=not (progress_bar and accelerator.is_main_process)
    )
    for epoch in bar:
        torch.manual_seed(job.seed_for(epoch))
        sampler.set_epoch(epoch)
        loader.set_epoch(epoch)  # accelerate's loader re-sets its sampler's epoch from its own counter
        record = {"epoch": epoch + 1, **_train_epoch(job, model, optimizer, scheduler, loader, mean, std)}
        if accelerator.is_main_process:
            logits = predict(
                unwrapped, job.val_x, mean=mean, std=std, batch_size=config.eval_batch_size, accelerator=accelerator
            )
            val = split_scores(logits, job.val_y, logits=True)
            record.update(
                {"validation_loss": val["loss"], "validation_top_1": val["top_1"], "validation_top_5": val["top_5"]}
            )
            record["best"] = progress.improves(val["top_1"], val["loss"])
            if record["best"]:
                progress.best_epoch, progress.best_top_1, progress.best_loss = epoch, val["top_1"], val["loss"]
                best = cpu_copy(unwrapped.state_dict())
            progress.epoch = epoch
            progress.log.append(record)
            _track(accelerator, job.fold, record)
            bar.set_postfix(val_top1=f"{val['top_1']:.3f}", best=progress.best_epoch + 1)
            if policy.due(epoch, config.epochs - 1):
                started = time.perf_counter()
                save_state(
                    job.folder,
                    model_state=unwrapped.state_dict(),
                    best_state=best,
                    optimizer=optimizer,
                    scheduler=scheduler,
                    progress=progress,
                    scaler=accelerator.scaler,
                )
                policy.saved(time.perf_counter() - started)
        accelerator.wait_for_everyone()
    bar.close()
    return unwrapped, progress, best
