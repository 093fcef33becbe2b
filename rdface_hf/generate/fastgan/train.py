"""``rdface train-fastgan``: a FastGAN on the training split of one fold, resumable.

Runs in one process or under ``accelerate launch -m rdface_hf.cli train-fastgan``
(each process draws its own batch; gradients are averaged). The output folder::

    O/config.json, model.safetensors, README.md   the EMA generator (FastGANGenerator.from_pretrained(O))
    O/discriminator/                               the discriminator (for further training)
    O/samples/step-<N>.png, final.png              sample grids written during training
    O/checkpoints/checkpoint-<N>/                  resumable state (safetensors + JSON)
    O/trainer_state.json                           losses over the steps
    O/train_fastgan_config.json                    the settings (owner marker; a rerun resumes)
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ... import _tracking as tracking
from ..._io import atomic_write_json, input_digest
from ..._runs import shared_run_dir
from ..._version import __version__
from ...dataset.facade import RDFaceDataset
from .config import TrainFastGANConfig, TrainFastGANResult
from .data import TrainingData, load_training_data
from .hub import push_model
from .losses import reconstruction_loss
from .models import FastGANDiscriminator, FastGANGenerator
from .trainer import Trainer, init_weights

LOG_STEPS = 50


def build_models(config: TrainFastGANConfig, dataset: RDFaceDataset, data: TrainingData, recon_name: str):
    """A freshly initialised generator (carrying classes, prototypes and provenance) and discriminator."""
    torch.manual_seed(config.seed)
    conditional = config.mode == "conditional"
    provenance = {
        "dataset": dataset.repo_id or dataset.root.name,
        "dataset_repo_id": dataset.repo_id,
        "trained_on": data.trained_on,
        "training_digest": data.digest,
        "steps": config.max_train_steps,
        "reconstruction_loss": recon_name,
        "rdface_hf_version": __version__,
        "repo_id": config.push_to_hub,
        **{k: getattr(config, k) for k in ("mode", "seed", "batch_size", "learning_rate", "ema_decay", "augment")},
        **{k: getattr(config, k) for k in ("ngf", "ndf")},
    }
    generator = FastGANGenerator(
        resolution=config.resolution, nz=config.nz, ngf=config.ngf, num_classes=dataset.num_classes,
        conditional=conditional, class_names=dataset.class_names, abbreviations=dataset.abbreviations,
        trained_conditions=data.conditions, training_ids=data.ids_by_class(dataset.num_classes),
        provenance=provenance,
    )  # fmt: skip
    discriminator = FastGANDiscriminator(config.resolution, config.ndf, dataset.num_classes, conditional)
    init_weights(generator)
    init_weights(discriminator)
    with torch.no_grad():
        generator.template.copy_(torch.from_numpy(data.template))
        generator.prototypes.copy_(torch.from_numpy(data.prototypes))
    return generator, discriminator


def _loss_digest(config: TrainFastGANConfig, recon_name: str) -> str:
    """The reconstruction loss is an input too: which one, and a local perceptual model's contents."""
    if recon_name.startswith("backbone:") and Path(config.perceptual_model).is_dir():
        return f"{recon_name}:{input_digest(config.perceptual_model)}"
    return recon_name


def save_final(folder: Path, trainer: Trainer) -> None:
    """The EMA generator (Hub layout, with its card) and the discriminator, file by file atomically."""
    staging = folder / ".final.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    trainer.ema.model.save_pretrained(staging)
    trainer.discriminator.save_pretrained(staging / "discriminator")
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        target = folder / path.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    shutil.rmtree(staging, ignore_errors=True)
    trainer.sample_grid(folder / "samples" / "final.png")
    atomic_write_json(folder / "trainer_state.json", {"history": trainer.history})


def _loop(trainer: Trainer, folder: Path, first: int, progress: bool) -> None:
    cfg, acc = trainer.config, trainer.accelerator
    main = acc.is_main_process
    bar = tqdm(
        total=cfg.max_train_steps, initial=first, desc="train-fastgan", unit="step", disable=not (progress and main)
    )
    since, last = time.perf_counter(), first
    with bar:
        for step in range(first + 1, cfg.max_train_steps + 1):
            losses = trainer.step(step)
            bar.update(1)
            if step % LOG_STEPS == 0 or step == cfg.max_train_steps:
                record = trainer.log(step, losses)
                bar.set_postfix(record, refresh=False)
                _track(trainer, record, (step - last) * cfg.batch_size / max(time.perf_counter() - since, 1e-9))
                since, last = time.perf_counter(), step
            if main and step % cfg.sample_steps == 0:
                trainer.sample_grid(folder / "samples" / f"step-{step:06d}.png")
                tracking.log_image(acc, "samples", folder / "samples" / f"step-{step:06d}.png", step)
            if step % cfg.checkpointing_steps == 0 or step == cfg.max_train_steps:
                acc.wait_for_everyone()
                if main:
                    trainer.checkpoint(folder / "checkpoints", step)


def _track(trainer: Trainer, record: dict, images_per_second: float) -> None:
    """The losses, learning rate and throughput to the trackers (``--report-to``)."""
    values = {f"train/{k}": v for k, v in record.items() if k != "step"}
    values["train/learning_rate"] = trainer.opt_g.param_groups[0]["lr"]
    values["train/images_per_second"] = images_per_second * trainer.accelerator.num_processes
    trainer.accelerator.log(values, step=record["step"])


def train_fastgan(config: TrainFastGANConfig, *, progress: bool = True) -> TrainFastGANResult:
    """Train (or resume) a FastGAN; see the module docstring."""
    from accelerate import Accelerator, DistributedDataParallelKwargs  # torch.distributed: only when training

    start = time.perf_counter()
    # The discriminator's decoders run on real images only: unused parameters in the other passes.
    accelerator = Accelerator(
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
        **tracking.accelerator_kwargs(config),  # a tracker that is not installed: refused here, before any work
    )
    dataset = RDFaceDataset(config.dataset)
    data = load_training_data(dataset, config.fold, config.conditions, config.resolution)
    recon, recon_name = reconstruction_loss(config.recon_loss, config.perceptual_model)
    generator, discriminator = build_models(config, dataset, data, recon_name)
    inputs = [dataset.root] if dataset.repo_id is None else []
    pushed = None
    digests = {"dataset": dataset.digest, "reconstruction loss": _loss_digest(config, recon_name)}
    with shared_run_dir(
        config, accelerator, inputs=inputs, digests=digests, dataset_digest=dataset.digest, training_digest=data.digest
    ) as (folder, _resumed):
        trainer = Trainer(config, data, generator, discriminator, recon, accelerator)
        first = trainer.resume(folder / "checkpoints")
        with tracking.tracked(accelerator, config, folder):
            _loop(trainer, folder, first, progress)
            if accelerator.is_main_process:
                save_final(folder, trainer)
                tracking.log_image(accelerator, "samples", folder / "samples" / "final.png", config.max_train_steps)
        if accelerator.is_main_process and config.push_to_hub:
            pushed = push_model(folder, config.push_to_hub)
    return TrainFastGANResult(
        out=str(folder), mode=config.mode, resolution=config.resolution, steps=config.max_train_steps,
        resumed_from=first, images=len(data.labels), conditions=len(data.conditions),
        reconstruction_loss=recon_name, pushed_to=pushed, seconds=time.perf_counter() - start,
    )  # fmt: skip
