"""``rdface train-lora``: one LoRA DreamBooth adapter per condition, all in one launch.

The base model is loaded once. Conditions train in groups of
``--conditions-per-batch``: a step takes one image of every condition of the
group, and each sample goes through its own condition's LoRA (stacked LoRA
layers, :mod:`.stacked`). Under ``accelerate launch`` with several processes the
groups are shared out between them. Finished conditions are skipped on resume;
an interrupted group resumes from its LoRA-only checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from accelerate import Accelerator
from accelerate.state import AcceleratorState
from tqdm.auto import tqdm

from ... import _tracking as tracking
from ..._io import atomic_write_text
from ..._results import StageResult
from ..._runs import shared_run_dir
from ..._version import __version__
from ...dataset import RDFaceDataset
from ...dataset.facade import parse_fold
from . import loop, stacked
from .card import render_card
from .config import CHECKPOINTS, TEXT_TARGETS, UNET_TARGETS, VAE_HINT, VALIDATION_FILE, TrainLoraConfig
from .data import load_training_images
from .export import check_folder_names, read_record, write_adapter, write_index
from .hub import push_adapters
from .models import check_spec, load_base, model_digest
from .prior import class_latents
from .validation import Validator, write_samples

LOG_STEPS = 10  # steps between two logs to the trackers (--report-to)


@dataclass(frozen=True)
class TrainLoraResult(StageResult):
    out: Path
    trained: list[str]  # conditions trained (or finished) by this run
    already_done: list[str]  # finished by an earlier run, skipped
    skipped: dict[str, str]  # not trained, and why
    steps: int  # optimisation steps run by this process
    samples: int  # instance samples seen by this process (steps x conditions per step)
    seconds: float
    train_seconds: float = 0.0  # the optimisation loop alone (no loading, encoding or writing)
    pushed: str | None = None
    adapters: int = 0  # adapters in the folder's index (main process)
    main_process: bool = True  # False in the other processes of a multi-process launch


def trained_on(fold: str) -> str:
    k = parse_fold(fold)
    return "test" if k is None else f"fold_{k}"


def _accelerator(config: TrainLoraConfig) -> Accelerator:
    """accelerate's state is one per process; a second run in the same process (a notebook, the
    tests) that asks for another mixed precision gets a fresh one (the process group is kept).
    Without --mixed-precision, the launcher's setting (``ACCELERATE_MIXED_PRECISION``) or none."""
    precision = config.mixed_precision or os.environ.get("ACCELERATE_MIXED_PRECISION") or "no"
    trackers = tracking.accelerator_kwargs(config)  # a tracker that is not installed: refused before any work
    try:
        return Accelerator(mixed_precision=precision, **trackers)
    except ValueError:
        AcceleratorState._reset_state(reset_partial_state=False)
        return Accelerator(mixed_precision=precision, **trackers)


def train_lora(config: TrainLoraConfig) -> TrainLoraResult:
    """Train the adapters of ``config``; see the module docstring."""
    start = time.monotonic()
    accelerator = _accelerator(config)
    rd = RDFaceDataset(config.dataset)
    indices = rd.select_conditions(config.conditions)
    abbreviations = rd.abbreviations
    selected = [abbreviations[i] for i in indices]
    check_folder_names(selected)
    split = rd.training_split(config.fold)  # the only rows an adapter may see
    check_spec(config.base_model, "base model")
    if not config.own_vae:
        check_spec(config.vae_spec, "VAE", hint=VAE_HINT)
    inputs = [config.dataset] if Path(config.dataset).is_dir() else []
    digests = {"dataset": rd.digest, "base model": model_digest(config.base_model)}
    if not config.own_vae:
        digests["VAE"] = model_digest(config.vae_spec)
    with (
        shared_run_dir(config, accelerator, inputs=inputs, digests=digests, dataset_digest=rd.digest) as (
            folder,
            _resumed,
        ),
        tracking.tracked(accelerator, config, folder),
    ):
        done = [a for a in selected if read_record(folder, a) is not None]
        pending = [i for i in indices if abbreviations[i] not in done]
        header = _header(config, rd)
        stats = {"steps": 0, "samples": 0, "trained": [], "skipped": {}, "train_seconds": 0.0}
        if pending:
            stats = _train_pending(config, accelerator, rd, split, pending, folder, header)
        accelerator.wait_for_everyone()
        index = _finish(config, accelerator, folder, header, selected, stats["skipped"])
        accelerator.wait_for_everyone()
    pushed = None
    if config.push_to_hub and accelerator.is_main_process:
        pushed = push_adapters(folder, config.push_to_hub, token=config.hub_token)
    return TrainLoraResult(
        out=folder, trained=stats["trained"], already_done=done, skipped=stats["skipped"], steps=stats["steps"],
        samples=stats["samples"], seconds=time.monotonic() - start, train_seconds=stats["train_seconds"], pushed=pushed,
        adapters=len(index.get("adapters", {})) if index else 0, main_process=accelerator.is_main_process,
    )  # fmt: skip


def balanced_groups(items: list, per: int, processes: int = 1) -> list[list]:
    """``items`` in consecutive groups of at most ``per``, as even as possible (103 conditions at 32
    per batch: 26, 26, 26, 25, not 32, 32, 32, 7); with several processes, a multiple of
    their number of groups (while there are items enough), so that each gets the same work."""
    if not items:
        return []
    count = -(-len(items) // per)
    if processes > 1:
        count = min(len(items), -(-count // processes) * processes)
    bounds = [round(i * len(items) / count) for i in range(count + 1)]
    return [items[bounds[i] : bounds[i + 1]] for i in range(count)]


def _header(config: TrainLoraConfig, rd: RDFaceDataset) -> dict:
    base = config.base_model
    return {
        "base_model": str(Path(base).resolve()) if Path(base).is_dir() else base,
        "vae": "base"
        if config.own_vae
        else (str(Path(config.vae_spec).resolve()) if Path(config.vae_spec).is_dir() else config.vae_spec),
        "dataset": rd.repo_id or str(rd.root.resolve()),
        "dataset_digest": rd.digest,
        "fold": str(config.fold),
        "trained_on": trained_on(config.fold),
        "class_names": rd.class_names,
        "abbreviations": rd.abbreviations,
        "rdface_hf_version": __version__,
        "settings": {
            "prompt_template": config.instance_prompt,
            "rank": config.rank,
            "lora_alpha": config.alpha,
            "text_encoder": config.train_text_encoder,
            "steps": config.max_train_steps,
            "learning_rate": config.learning_rate,
            "seed": config.seed,
            "crop_margin": config.crop_margin,
            "resolution": config.resolution,
            "prior_preservation": config.with_prior_preservation,
            "class_prompt": config.class_prompt if config.with_prior_preservation else None,
            "prior_loss_weight": config.prior_loss_weight,
        },
    }


def _finish(config, accelerator, folder: Path, header: dict, selected: list[str], skipped: dict) -> dict:
    """Index and card (main process); the checkpoints folder goes once every condition is done."""
    if not accelerator.is_main_process:
        return {}
    records = [read_record(folder, a) for a in selected]
    found = next((r for r in records if r), None)
    if found:  # the base model's revision, as the adapters recorded it
        header = {**header, **{k: found.get(k) for k in ("base_model_revision", "vae_revision")}}
        header["settings"] = {**header["settings"], "resolution": found.get("resolution")}
    index = write_index(folder, header, selected, skipped)
    samples = write_samples(folder, [a for a, r in zip(selected, records) if r is not None])
    atomic_write_text(folder / "README.md", str(render_card(index, samples=samples is not None)))
    if all(r is not None or a in skipped for r, a in zip(records, selected)):
        shutil.rmtree(folder / CHECKPOINTS, ignore_errors=True)
    return index


def _train_pending(config, accelerator, rd, split, pending, folder, header) -> dict:
    """Load the base once, prepare every pending condition, train this process's groups."""
    base = load_base(
        config.base_model, config.vae_spec, own_vae=config.own_vae, token=config.hub_token, vae_hint=VAE_HINT
    )
    size = config.resolution or base.resolution
    images = load_training_images(
        split, pending, abbreviations=rd.abbreviations, class_names=rd.class_names, size=size,
        margin=config.crop_margin,
    )  # fmt: skip
    skipped = dict.fromkeys(images.empty, "no training image in the split")
    for abbr in images.empty:
        print(f"rdface train-lora: note: {abbr} has no training image in the split; no adapter", file=sys.stderr)
    trainer = _make_trainer(config, accelerator, base, slots=min(config.conditions_per_batch, len(pending)))
    validator = Validator(config, trainer, base, folder) if config.validation_images else None
    conditions, records = _prepare(config, trainer, base, images, size)
    if config.with_prior_preservation:
        trainer.class_latents, trainer.class_prompt = class_latents(config, trainer, base, folder, size)
    base.vae.to("cpu")  # encoded once: the VAE (and a frozen text encoder) leave the device
    if not config.train_text_encoder:
        base.text_encoder.to("cpu")
    groups = balanced_groups(conditions, config.conditions_per_batch, accelerator.num_processes)
    mine = groups[accelerator.process_index :: accelerator.num_processes]
    record_base = {
        **{k: header[k] for k in ("base_model", "vae", "fold", "trained_on", "dataset", "dataset_digest")},
        "base_model_revision": base.revision, "vae_revision": base.vae_revision, "resolution": size,
        "seed": config.seed, "steps": config.max_train_steps, "rank": config.rank, "lora_alpha": config.alpha,
        "text_encoder": config.train_text_encoder, "prior_preservation": config.with_prior_preservation,
    }  # fmt: skip
    bar = tqdm(
        total=len(mine) * config.max_train_steps, desc="train-lora", unit="step",
        disable=not (config.progress and accelerator.is_main_process),
    )  # fmt: skip
    trained, seconds = [], 0.0
    with bar:
        for k, group in enumerate(mine):
            records_of = {c.abbr: {**record_base, **records[c.abbr]} for c in group}
            seconds += _run_group(
                config, trainer, group, folder, bar, records_of, validator, offset=k * config.max_train_steps
            )
            trained += [c.abbr for c in group]
    steps = len(mine) * config.max_train_steps
    samples = sum(len(g) for g in mine) * config.max_train_steps
    return {"steps": steps, "samples": samples, "trained": trained, "skipped": skipped, "train_seconds": seconds}


def _make_trainer(config: TrainLoraConfig, accelerator, base, *, slots: int) -> loop.Trainer:
    """Base weights in the mixed-precision dtype on the device, fp32 stacked LoRA, AdamW."""
    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}.get(accelerator.mixed_precision, torch.float32)
    device = accelerator.device
    base.unet.to(device, **({"dtype": dtype} if dtype != torch.float32 else {}))
    base.text_encoder.to(device, **({"dtype": dtype} if dtype != torch.float32 and config.train_text_encoder else {}))
    base.vae.to(device)
    lora = {"slots": slots, "rank": config.rank, "alpha": config.alpha, "dropout": config.lora_dropout}
    unet_layers = stacked.inject(base.unet, UNET_TARGETS, **lora)
    text_layers = stacked.inject(base.text_encoder, TEXT_TARGETS, **lora) if config.train_text_encoder else {}
    params = stacked.parameters(unet_layers) + stacked.parameters(text_layers)
    # foreach: one multi-tensor update per step (PyTorch's default on GPUs; on the CPU it defaults to a
    # Python loop over the tensors); the same arithmetic either way
    optimizer = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay, foreach=True)
    vae_config = base.vae.config
    return loop.Trainer(
        unet=base.unet, text_encoder=base.text_encoder, unet_layers=unet_layers, text_layers=text_layers,
        scheduler=base.noise_scheduler, accelerator=accelerator, optimizer=accelerator.prepare_optimizer(optimizer),
        seed=config.seed, scaling_factor=float(vae_config.scaling_factor),
        shift_factor=float(getattr(vae_config, "shift_factor", None) or 0.0), weight_dtype=dtype,
        max_grad_norm=config.max_grad_norm, prior_loss_weight=config.prior_loss_weight,
    )  # fmt: skip


@torch.no_grad()
def _prepare(config: TrainLoraConfig, trainer: loop.Trainer, base, images, size: int):
    """Latents (VAE once per image) and prompts (token ids, or embeddings of the frozen text encoder)."""
    prompts = loop.tokenize(base.tokenizer, [config.prompt(c.abbr) for c in images.conditions])
    if not trainer.text_layers:
        prompts = torch.cat([base.text_encoder(p[None].to(trainer.device))[0] for p in prompts]).float()
    conditions, records = [], {}
    for cond, prompt in zip(images.conditions, prompts):
        latents = loop.encode_latents(base.vae, cond.pixels, flip=config.random_flip, device=trainer.device)
        conditions.append(loop.Condition(cond.abbr, latents, prompt))
        records[cond.abbr] = {
            "condition": cond.abbr, "class_index": cond.class_index, "class_name": cond.name,
            "prompt": config.prompt(cond.abbr), "image_ids": cond.image_ids, "images": len(cond.image_ids),
            "images_without_face_box": cond.without_box,
        }  # fmt: skip
    return conditions, records


def _track(trainer: loop.Trainer, group, losses, step: int, samples: int, seconds: float) -> None:
    """One logging step to the trackers (``--report-to``): each condition's loss, their mean,
    the learning rate and throughput. ``step`` counts over this process's groups."""
    values = losses[: len(group)].float().tolist()
    record = {f"train/loss/{c.abbr}": v for c, v in zip(group, values)}
    record["train/loss"] = sum(values) / len(values)
    record["train/learning_rate"] = trainer.optimizer.param_groups[0]["lr"]
    record["train/samples_per_second"] = samples / max(seconds, 1e-9)
    trainer.accelerator.log(record, step=step)


def _run_group(
    config, trainer: loop.Trainer, group, folder: Path, bar, records: dict, validator=None, offset: int = 0
) -> float:
    """Train one group from its checkpoint (or fresh) to the end (validation images when due),
    then write its adapters; returns the seconds spent in the optimisation loop. ``offset``: the
    steps of the groups before it (the trackers' step)."""
    abbrs = [c.abbr for c in group]
    ckpt = folder / CHECKPOINTS / f"group-{hashlib.sha256(json.dumps(abbrs).encode()).hexdigest()[:12]}.safetensors"
    loop.reset_group(trainer, group)
    first = loop.load_checkpoint(trainer, ckpt, abbrs)
    bar.update(first)
    window = max(1, min(50, config.max_train_steps - first))
    recent = torch.zeros(len(group), device=trainer.device)
    tracked = bool(trainer.accelerator.log_with) and trainer.accelerator.is_main_process
    started = time.perf_counter()
    for step in range(first, config.max_train_steps):
        losses = loop.train_step(trainer, loop.make_batch(trainer, group, step))
        if step >= config.max_train_steps - window:
            recent += losses[: len(group)]
        done = step + 1
        if config.checkpointing_steps and done % config.checkpointing_steps == 0 and done < config.max_train_steps:
            loop.save_checkpoint(trainer, ckpt, done, abbrs)
        bar.update(1)
        if tracked and (done % LOG_STEPS == 0 or done == config.max_train_steps):
            _track(trainer, group, losses, offset + done, (done - first) * len(group), time.perf_counter() - started)
        if validator is not None and validator.due(done, config.max_train_steps):
            drawing = time.perf_counter()
            validator(group, done, config.max_train_steps)
            for c in group:  # the validation grids to the trackers too
                grid = folder / c.abbr / VALIDATION_FILE
                if tracked and grid.is_file():
                    tracking.log_image(trainer.accelerator, f"validation/{c.abbr}", grid, offset + done)
            started += time.perf_counter() - drawing  # not optimisation time
    mean_loss = (recent / window).tolist()  # .tolist() waits for the device: the loop's time is complete
    seconds = time.perf_counter() - started
    metadata = {
        "unet": stacked.lora_metadata(UNET_TARGETS, config.rank, config.alpha, config.lora_dropout),
        "text_encoder": stacked.lora_metadata(TEXT_TARGETS, config.rank, config.alpha, config.lora_dropout),
    }
    for slot, cond in enumerate(group):
        unet_sd = stacked.slot_state_dict(trainer.unet_layers, slot)
        text_sd = stacked.slot_state_dict(trainer.text_layers, slot) if trainer.text_layers else None
        record = {**records[cond.abbr], "final_loss": round(float(mean_loss[slot]), 6)}
        write_adapter(folder, cond.abbr, unet_sd, text_sd, metadata, record)
    ckpt.unlink(missing_ok=True)
    return seconds
