"""The files a classification run writes: per-fold results, the epoch log and its plot,
and the summary over folds (``summary.json`` and the paper's table in ``summary.md``).

Layout of a run's output folder ``O``::

    O/train_config.json | probe_config.json   the run's settings (the folder's owner marker)
    O/fold_K/results.json                     validation and test metrics, per-condition test accuracy
    O/fold_K/...                              train-classifier: the model (save_pretrained, safetensors),
                                              preprocessor_config.json, train_config.json, epochs.jsonl,
                                              curves.png, README.md (model card)
    O/summary.json, O/summary.md              mean ± SD over the fold models
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._io import atomic_write_json, atomic_write_text
from .._version import __version__
from .scoring import SD_NOTE, caption, summary_markdown

RESULTS = "results.json"
EPOCH_LOG = "epochs.jsonl"
CURVES = "curves.png"
SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
LOCAL_PATH_FIELDS = ("dataset", "extra_train", "model")


def public_config(config) -> dict[str, Any]:
    """The config without local paths (a folder becomes its name) and without the token."""
    out = {k: v for k, v in config.identity().items() if k not in config.private and k != "output_dir"}
    for name in LOCAL_PATH_FIELDS:
        value = out.get(name)
        if isinstance(value, str) and os.path.exists(value):
            out[name] = f"<local folder {Path(value).name}>"
    return out


def dataset_record(dataset) -> dict[str, Any]:
    return {
        "name": Path(dataset.source).name if dataset.repo_id is None else dataset.repo_id,
        "hub_id": dataset.repo_id,
        "digest": dataset.digest,
        "num_classes": dataset.num_classes,
        "num_folds": dataset.num_folds,
    }


def write_results(folder: Path, results: Mapping[str, Any]) -> Path:
    return atomic_write_json(folder / RESULTS, {**results, "rdface_hf_version": __version__})


def read_results(folder: Path) -> dict[str, Any] | None:
    """A finished fold's results (``None`` if absent or unreadable: the fold runs again)."""
    try:
        data = json.loads((folder / RESULTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "test" in data else None


def write_epoch_log(folder: Path, log: Sequence[Mapping[str, Any]]) -> Path:
    return atomic_write_text(folder / EPOCH_LOG, "".join(json.dumps(r, sort_keys=True) + "\n" for r in log))


def plot_curves(folder: Path, log: Sequence[Mapping[str, Any]], best_epoch: int, title: str) -> Path | None:
    """Loss and top-1 per epoch (training and validation), the selected epoch marked."""
    if not log:
        return None
    import matplotlib  # matplotlib: imported only when a plot is drawn

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # after the Agg backend is chosen
    from matplotlib.ticker import MaxNLocator

    epochs = [r["epoch"] for r in log]  # counted from 1, as in results.json and the log
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.4), dpi=110)
    for ax, key, label in ((ax_loss, "loss", "cross-entropy"), (ax_acc, "top_1", "top-1 accuracy")):
        ax.plot(epochs, [r[f"train_{key}"] for r in log], label="training", color="tab:blue")
        ax.plot(epochs, [r.get(f"validation_{key}") for r in log], label="validation", color="tab:orange")
        ax.axvline(best_epoch, color="grey", linestyle="--", linewidth=1, label=f"selected (epoch {best_epoch})")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    ax_acc.set_ylim(0, 1)
    ax_acc.legend(loc="best", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path = folder / CURVES
    tmp = folder / f".{CURVES}.tmp.png"
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
    return path


def write_summary(
    out: Path, rows: Sequence[Mapping[str, Any]], *, stage: str, dataset, folds: Sequence[int], title: str, **extra
) -> dict[str, Any]:
    """``O/summary.json`` and ``O/summary.md`` (the paper's table, test split)."""
    text = caption(dataset_record(dataset)["name"], len(dataset.test), dataset.num_classes, folds)
    summary = {
        "stage": stage,
        "dataset": dataset_record(dataset),
        "test_images": len(dataset.test),
        "chance_top_1": 1.0 / dataset.num_classes,
        "folds": list(folds),
        "protocol": text,
        "sd": SD_NOTE,
        "rows": list(rows),
        "rdface_hf_version": __version__,
        **extra,
    }
    atomic_write_json(out / SUMMARY_JSON, summary)
    atomic_write_text(out / SUMMARY_MD, summary_markdown(rows, title=title, caption=text))
    return summary
