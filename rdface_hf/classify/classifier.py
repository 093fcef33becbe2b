"""``rdface train-classifier``: fine-tune per fold, select on validation, score once on test.

Runs as ``rdface train-classifier``, ``python -m rdface_hf.cli train-classifier`` and
``accelerate launch -m rdface_hf.cli train-classifier`` (one or several processes); see
:mod:`.train` for the loop and :mod:`.outputs` for the files. A fold whose ``results.json``
exists is done; an interrupted fold resumes from its saved training state.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import datasets
import torch
from accelerate import Accelerator

from .. import _tracking as tracking
from .._errors import InputError
from .._io import atomic_write_text, input_digest
from .._results import StageResult
from .._runs import share_json, shared_run_dir
from .config import TrainClassifierConfig
from .data import ExtraTrain, FoldData, fold_data, open_dataset, resolve_folds
from .hub import MODEL_FILES, push, render_card
from .images import ImageBank, channel_stats, make_processor
from .models import preprocessing, quiet_loading, silence_library_logs
from .outputs import (
    RESULTS,
    SUMMARY_JSON,
    SUMMARY_MD,
    dataset_record,
    plot_curves,
    public_config,
    read_results,
    write_epoch_log,
    write_results,
    write_summary,
)
from .scoring import per_condition, split_scores, summary_markdown, summary_row
from .state import remove_state
from .train import FoldJob, predict, run_epochs


@dataclass(frozen=True)
class TrainResult(StageResult):
    out: Path
    folds: list[int]
    results: dict[int, dict]  # fold -> results.json content (main process; empty on the others)
    summary: dict | None
    pushed: str | None
    seconds: float
    already_done: tuple[int, ...] = ()  # folds finished by an earlier run (nothing trained for them)


def _accelerator(config: TrainClassifierConfig):
    kwargs: dict[str, Any] = {"gradient_accumulation_steps": config.gradient_accumulation_steps}
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.cuda.is_available():
        kwargs["cpu"] = True  # torchrun / 'accelerate launch --multi_gpu' on a machine without GPUs: DDP over gloo
    if config.mixed_precision is not None:
        kwargs["mixed_precision"] = config.mixed_precision
    kwargs.update(tracking.accelerator_kwargs(config))  # a tracker that is not installed: refused before any work
    try:
        return Accelerator(**kwargs)
    except (ValueError, RuntimeError) as exc:  # e.g. bf16 on a device without it
        raise InputError(f"cannot set up accelerate: {str(exc).splitlines()[0]}") from None


def _check_folds(dataset, folds: list[int]) -> None:
    for fold in folds:
        if len(dataset.split("validation", fold)) == 0:
            raise InputError(f"fold {fold} of {dataset.source} has no validation split: no epoch can be selected")


def _save_model(model, processor, folder: Path) -> None:
    """``save_pretrained`` (safetensors) and the image processor, each file replaced atomically."""
    with tempfile.TemporaryDirectory(prefix=".save-", dir=folder) as tmp, quiet_loading():
        model.save_pretrained(tmp, safe_serialization=True)
        processor.save_pretrained(tmp)
        for path in Path(tmp).iterdir():
            os.replace(path, folder / path.name)


def _fold_job(config, accelerator, dataset, data: FoldData, bank: ImageBank, processor, folder: Path) -> FoldJob:
    bank.add(data.train.rows, desc=f"decode fold {data.fold} train")
    ids, labels = data.train.image_ids, list(data.train.labels)
    if data.extra is not None:
        bank.add(data.extra.rows, desc="decode extra-train")
        ids, labels = ids + data.extra.image_ids, labels + list(data.extra.labels)
    bank.add(data.validation.rows, desc=f"decode fold {data.fold} validation")
    device = accelerator.device
    return FoldJob(
        config=config,
        accelerator=accelerator,
        fold=data.fold,
        class_names=dataset.class_names,
        train_x=bank.take(ids).to(device),
        train_y=torch.as_tensor(labels, dtype=torch.int64, device=device),
        val_x=bank.take(data.validation.image_ids).to(device),
        val_y=data.validation.labels,
        processor=processor,
        folder=folder,
    )


def _finish_fold(job: FoldJob, model, progress, best, data: FoldData, bank: ImageBank, info: dict) -> dict:
    """Main process: save the selected epoch's model, then score it once on the test split."""
    model.load_state_dict(best)
    _save_model(model, job.processor, job.folder)
    bank.add(data.test.rows, desc="decode test")  # read only now, after selection
    mean, std = channel_stats(job.processor, job.accelerator.device)
    kw = {"mean": mean, "std": std, "batch_size": job.config.eval_batch_size, "accelerator": job.accelerator}
    val_logits = predict(model, job.val_x, **kw)
    test_logits = predict(model, bank.take(data.test.image_ids), **kw)
    results = {
        "fold": job.fold,
        "model": info["config"]["model"],
        "best_epoch": progress.best_epoch + 1,  # epochs count from 1 everywhere a person reads them
        "epochs": job.config.epochs,
        **data.describe(),
        "validation": split_scores(val_logits, data.validation.labels, logits=True),
        "test": {
            **split_scores(test_logits, data.test.labels, logits=True),
            "per_condition": per_condition(test_logits, data.test.labels, job.class_names),
        },
        "chance_top_1": 1.0 / len(job.class_names),
        "run": {
            "processes": job.accelerator.num_processes,
            "device": job.accelerator.device.type,
            "mixed_precision": job.accelerator.mixed_precision,
            "attention": getattr(model.config, "_attn_implementation", None),
        },
        "extra_train": info["extra"].describe(job.fold) if info["extra"] is not None else None,
        "dataset": info["dataset"],
        "config": info["config"],
    }
    write_results(job.folder, results)
    scores = {f"fold_{job.fold}/test_{k}": v for k, v in results["test"].items() if isinstance(v, float)}
    job.accelerator.log(scores, step=results["best_epoch"])  # the selected epoch's test figures
    write_epoch_log(job.folder, progress.log)
    plot_curves(job.folder, progress.log, progress.best_epoch + 1, f"fold {job.fold}: {Path(job.config.model).name}")
    remove_state(job.folder)
    return results


def _model_ref(config) -> str:
    """A Hub model's identity: its id and revision."""
    return f"{config.model}@{config.model_revision or 'main'}"


def _run_fold(config, accelerator, dataset, fold: int, extra, bank, processor, out: Path, info: dict) -> dict | None:
    folder = out / f"fold_{fold}"
    done = read_results(folder) if accelerator.is_main_process else None
    if share_json(accelerator, done is not None):
        return done
    data = fold_data(dataset, fold, shots=config.shots, seed=config.seed, extra=extra)
    if accelerator.is_main_process:
        folder.mkdir(parents=True, exist_ok=True)
        # this fold's settings: --config O/fold_K/train_config.json reruns this fold alone
        replace(config, fold=str(fold)).save(folder / config.config_file(), dataset_digest=dataset.digest)
    job = _fold_job(config, accelerator, dataset, data, bank, processor, folder)
    model, progress, best = run_epochs(job, progress_bar=config.progress)
    results = None
    if accelerator.is_main_process:
        results = _finish_fold(job, model, progress, best, data, bank, info)
    accelerator.wait_for_everyone()
    return results


def best_fold(results: dict[int, dict]) -> int:
    """The fold model with the best validation top-1 (then the lower loss, then the lower fold)."""
    return min(results, key=lambda f: (-results[f]["validation"]["top_1"], results[f]["validation"]["loss"], f))


def _summarise(config, dataset, out: Path, results: dict[int, dict], info: dict) -> tuple[dict, dict]:
    name = f"{Path(config.model).name} (fine-tuned)"
    row = summary_row(name, results, model=info["config"]["model"], method="fine-tuned")
    summary = write_summary(
        out,
        [row],
        stage="train-classifier",
        dataset=dataset,
        folds=sorted(results),
        title="train-classifier: test split",
        best_fold=best_fold(results),
        config=info["config"],
    )
    return row, summary


def _cards(config, out: Path, row: dict, summary: dict, info: dict) -> dict[int, Any]:
    """A model card in every fold folder (the run's means, that fold's own figures)."""
    table = summary_markdown([row], title="Results", caption=summary["protocol"]).split("\n", 2)[2]
    cards = {}
    for fold in row["folds"]:
        results = read_results(out / f"fold_{fold}")
        card_info = {
            **info["card"],
            "fold": fold,
            "fold_validation_top_1": results["validation"]["top_1"],
            "fold_test_top_1": results["test"]["top_1"],
        }
        repo_id = config.push_to_hub or f"ORG/{Path(config.model).name}-rdface"
        cards[fold] = render_card(row=row, info=card_info, table=table, repo_id=repo_id)
        atomic_write_text(out / f"fold_{fold}" / "README.md", str(cards[fold]))
    return cards


def _push(config, out: Path, fold: int, card, info: dict, api=None) -> str:
    folder = out / f"fold_{fold}"
    files = {name: folder / name for name in (*MODEL_FILES, RESULTS)}
    files.update({SUMMARY_JSON: out / SUMMARY_JSON, SUMMARY_MD: out / SUMMARY_MD})
    texts = {"README.md": str(card), "train_config.json": json.dumps(info["config"], indent=2, sort_keys=True)}
    return push(files, texts, config.push_to_hub, token=config.token, api=api)


def _run_info(config, dataset, extra, size: int, mean, std) -> dict:
    record = dataset_record(dataset)
    return {
        "config": public_config(config),
        "dataset": record,
        "extra": extra,
        "card": {
            "config": public_config(config),
            "base_model": config.model if not os.path.exists(config.model) else Path(config.model).name,
            "dataset_name": "RDFace" if record["hub_id"] else record["name"],
            "dataset_id": record["hub_id"],
            "dataset_digest": record["digest"],
            "num_classes": dataset.num_classes,
            "num_folds": dataset.num_folds,
            "test_fraction": dataset.build_config.get("test_fraction"),
            "simulated": bool(getattr(dataset, "simulated", False)),
            "shots": config.shots,
            "extra_train": None,
            "image_size": size,
            "mean": [round(m, 4) for m in mean],
            "std": [round(s, 4) for s in std],
        },
    }


def train_classifier(config: TrainClassifierConfig, *, api=None) -> TrainResult:
    """Every fold of ``config.fold``; on the main process also the summary, cards and push."""
    start = time.perf_counter()
    silence_library_logs()
    if not config.progress:
        datasets.disable_progress_bars()
    accelerator = _accelerator(config)
    dataset = open_dataset(config.dataset, revision=config.dataset_revision, token=config.token)
    folds = resolve_folds(dataset, config.fold)
    _check_folds(dataset, folds)
    extra = (
        ExtraTrain(config.extra_train, dataset, folds, allow_validation_overlap=config.allow_validation_overlap)
        if config.extra_train
        else None
    )
    size, mean, std = preprocessing(
        config.model,
        image_size=config.image_size,
        normalization=config.normalization,
        revision=config.model_revision,
        token=config.token,
    )
    processor = make_processor(size, mean, std)
    info = _run_info(config, dataset, extra, size, mean, std)
    if extra is not None:
        info["card"]["extra_train"] = extra.counts["used"]
    inputs = [p for p in (config.dataset, config.model, config.extra_train) if p and os.path.exists(p)]
    digests = {
        "dataset": dataset.digest,
        "model": input_digest(config.model) if os.path.exists(config.model) else _model_ref(config),
        "extra-train set": input_digest(config.extra_train) if config.extra_train else None,
    }
    with (
        shared_run_dir(config, accelerator, inputs=inputs, digests=digests, dataset_digest=dataset.digest) as (out, _),
        tracking.tracked(accelerator, config, out),
    ):
        bank = ImageBank(processor, progress=config.progress and accelerator.is_main_process)
        done = tuple(f for f in folds if read_results(out / f"fold_{f}") is not None)
        results = {f: _run_fold(config, accelerator, dataset, f, extra, bank, processor, out, info) for f in folds}
        summary, pushed = None, None
        if accelerator.is_main_process:
            row, summary = _summarise(config, dataset, out, results, info)
            cards = _cards(config, out, row, summary, info)
            if config.push_to_hub:
                pushed = _push(config, out, summary["best_fold"], cards[summary["best_fold"]], info, api=api)
        accelerator.wait_for_everyone()
    results = results if accelerator.is_main_process else {}
    return TrainResult(out, folds, results, summary, pushed, time.perf_counter() - start, done)
