"""Scores of a split and summaries over folds, through the package's ``evaluate`` modules.

The maths is the plain functions of ``rdface_hf.metrics`` (top-k accuracy, macro-F1,
balanced accuracy), the same that ``evaluate.load("rdface_hf/metrics/<name>")`` runs.
Summaries report mean ± SD over the fold models (sample SD, ``ddof=1``) in the paper's
table layout: one row per model, top-1/5/10/30, macro-F1, balanced accuracy, in percent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..metrics.balanced_accuracy.maths import balanced_accuracy
from ..metrics.macro_f1.maths import macro_f1
from ..metrics.top_k_accuracy.maths import top_k_accuracy, true_class_rank
from .config import TOP_K

METRICS = (*(f"top_{k}" for k in TOP_K), "macro_f1", "balanced_accuracy")
HEADINGS = {
    **{f"top_{k}": f"Top-{k}" for k in TOP_K},
    "macro_f1": "Macro-F1",
    "balanced_accuracy": "Balanced acc.",
}
SD_NOTE = "sample standard deviation over the fold models (ddof=1); 0 with one fold"


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy of logits (numerically stable log-softmax)."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(labels)), labels].mean())


def split_scores(scores: np.ndarray, labels: np.ndarray, *, logits: bool = False) -> dict[str, Any]:
    """Every metric of one split from class scores (one row per image, one column per class)."""
    scores, labels = np.asarray(scores), np.asarray(labels, dtype=np.int64)
    if len(labels) == 0:
        return {"images": 0}
    out: dict[str, Any] = {"images": len(labels)}
    if logits:
        out["loss"] = cross_entropy(scores, labels)
    out.update(top_k_accuracy(scores, labels, k=list(TOP_K)))
    out["macro_f1"] = macro_f1(scores, labels)
    out["balanced_accuracy"] = balanced_accuracy(scores, labels)
    return out


def per_condition(scores: np.ndarray, labels: np.ndarray, class_names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per condition present in the split: its images and their top-1 / top-5 accuracy."""
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) == 0:
        return {}
    ranks = true_class_rank(scores, labels)
    out = {}
    for c in np.unique(labels):
        mine = ranks[labels == c]
        out[class_names[int(c)]] = {
            "images": len(mine),
            "top_1": float(np.mean(mine < 1)),
            "top_5": float(np.mean(mine < 5)),
        }
    return out


def aggregate(values: Sequence[float]) -> dict[str, Any]:
    """``{"mean", "sd", "values"}`` over folds (sample SD; 0 for a single value)."""
    arr = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if len(arr) == 0:
        return {"mean": None, "sd": None, "values": list(values)}
    sd = float(arr.std(ddof=1)) if len(arr) > 1 else 0.0
    return {"mean": float(arr.mean()), "sd": sd, "values": [float(v) for v in arr]}


def summary_row(name: str, fold_results: Mapping[int, Mapping[str, Any]], **about: Any) -> dict[str, Any]:
    """One table row: per split, per metric, mean ± SD over ``{fold: {"validation": .., "test": ..}}``."""
    folds = sorted(fold_results)
    row: dict[str, Any] = {"name": name, **about, "folds": folds}
    for split in ("validation", "test"):
        row[split] = {
            metric: aggregate([fold_results[f].get(split, {}).get(metric) for f in folds])
            for metric in (*METRICS, "loss")
            if any(metric in fold_results[f].get(split, {}) for f in folds)
        }
    return row


def percent(stats: Mapping[str, Any]) -> str:
    """``mean ± SD`` in percent over folds; a single fold has no spread to show (no "± 0.00")."""
    if len(stats.get("values") or []) < 2:
        return f"{100 * stats['mean']:.2f}"
    return f"{100 * stats['mean']:.2f} ± {100 * stats['sd']:.2f}"


def _cell(stats: Mapping[str, Any] | None) -> str:
    if not stats or stats.get("mean") is None:
        return "–"
    return percent(stats)


def summary_markdown(rows: Sequence[Mapping[str, Any]], *, title: str, caption: str, split: str = "test") -> str:
    """The paper's table: one row per model, mean ± SD in percent."""
    header = "| Model | " + " | ".join(HEADINGS[m] for m in METRICS) + " | Folds |"
    lines = [f"# {title}", "", caption, "", header, "|" + "---|" * (len(METRICS) + 2)]
    for row in rows:
        cells = " | ".join(_cell(row.get(split, {}).get(m)) for m in METRICS)
        lines.append(f"| {row['name']} | {cells} | {len(row['folds'])} |")
    lines += ["", f"Mean ± SD in percent; SD is the {SD_NOTE}.", ""]
    return "\n".join(lines)


def caption(dataset_name: str, test_images: int, num_classes: int, folds: Sequence[int]) -> str:
    return (
        f"Fixed test split of {dataset_name}: {test_images} images of {num_classes} conditions "
        f"(chance top-1 {100 / max(num_classes, 1):.2f} %). Each of {len(folds)} fold model(s) "
        f"(folds {', '.join(map(str, folds))}) was selected on its own validation split and scored once on test."
    )
