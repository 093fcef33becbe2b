"""The filter's per-condition summary (JSON, CSV, Markdown), its score histogram and
``kept_rejected.png`` (the images to look at: best kept and worst rejected per condition)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from .._io import atomic_write_bytes, atomic_write_json, atomic_write_text
from .._outputs import note
from .._sheets import Row, write_sheets

SUMMARY_FIELDS = ("condition", "abbr", "images", "no_face", "no_prototype", "scored", "kept", "rejected",
                  "near_copy", "score_min_kept", "score_median", "score_max")  # fmt: skip
KEPT_REJECTED_IMAGES = 4  # images per side and condition in kept_rejected.png


def _stat(values: np.ndarray, fn) -> float | None:
    values = values[~np.isnan(values)]
    return round(float(fn(values)), 4) if len(values) else None


def per_condition(
    labels: np.ndarray, scores: np.ndarray, kept: np.ndarray, face: np.ndarray, names: list[str], abbrs: list[str],
    near_copy: np.ndarray | None = None,
) -> list[dict]:  # fmt: skip
    """One row per condition present in the set (class order); ``near_copy`` None: the guard did not run."""
    rows = []
    for c in np.unique(labels):
        sel = labels == c
        s = scores[sel]
        rows.append(
            {
                "condition": names[c],
                "abbr": abbrs[c] if c < len(abbrs) else "",
                "images": int(sel.sum()),
                "no_face": int((~face[sel]).sum()),
                "no_prototype": int((face[sel] & np.isnan(s)).sum()),
                "scored": int((~np.isnan(s)).sum()),
                "kept": int(kept[sel].sum()),
                "rejected": int((~kept[sel]).sum()),
                "near_copy": None if near_copy is None else int(near_copy[sel].sum()),
                "score_min_kept": _stat(s[kept[sel]], np.min),
                "score_median": _stat(s, np.median),
                "score_max": _stat(s, np.max),
            }
        )
    return rows


def _guard_line(guard: dict | None) -> str:
    if not guard:
        return "Near-copy guard: off (no face-identity comparison with the training faces)."
    nn = guard["training_to_nearest_other_training"]
    return (
        f"Near-copy guard: {guard['near_copies']} near copies of training faces rejected (face-identity distance "
        f"< {guard['threshold']:g}, {guard['threshold_source']}; training-to-nearest-other-training median "
        f"{nn['median']}, {guard['no_embedding']} images without an identity embedding)."
    )


def write_summary(folder: Path, overall: dict, rows: list[dict]) -> None:
    """``filter_summary.json`` (overall + per condition), ``.csv`` and ``.md``."""
    atomic_write_json(folder / "filter_summary.json", {**overall, "per_condition": rows})
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=SUMMARY_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(folder / "filter_summary.csv", buf.getvalue())
    fmt = lambda v: "" if v is None else str(v)  # noqa: E731
    lines = [
        f"# Filter summary: `{overall['score']}` score, `{overall['mode']}`, fold `{overall['fold']}`",
        "",
        f"{overall['images']} images: {overall['kept']} kept, {overall['rejected']} rejected "
        f"({overall['no_face']} without a face, {overall['no_prototype']} of conditions without a training face).",
        "",
        _guard_line(overall.get("near_copy_guard")),
        "",
        "| " + " | ".join(SUMMARY_FIELDS) + " |",
        "|" + "---|" * len(SUMMARY_FIELDS),
        *("| " + " | ".join(fmt(r[k]) for k in SUMMARY_FIELDS) + " |" for r in rows),
    ]
    atomic_write_text(folder / "filter_summary.md", "\n".join(lines) + "\n")


def histogram(path: Path, scores: np.ndarray, kept: np.ndarray, *, score_name: str, title: str, no_face: int) -> None:
    """Scores of kept and rejected images (stacked bins); images without a face are counted in the legend."""
    try:  # plotting: imported when a plot is drawn, not with the package
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # after choosing the Agg backend
    except ImportError:
        note(f"matplotlib is not installed: no {path.name} (pip install 'rdface_hf[train]')")
        return

    scored = ~np.isnan(scores)
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    if scored.any():
        lo, hi = float(scores[scored].min()), float(scores[scored].max())
        bins = np.linspace(lo, hi if hi > lo else lo + 1e-6, 41)
        ax.hist(
            [scores[scored & kept], scores[scored & ~kept]],
            bins=bins,
            stacked=True,
            color=["#2a9d8f", "#c0c0c0"],
            label=[f"kept ({int((scored & kept).sum())})", f"rejected ({int((scored & ~kept).sum())})"],
        )
    ax.plot([], [], " ", label=f"no face or no prototype: {int((~scored).sum())} (rejected; {no_face} no face)")
    ax.set_xlabel(f"{score_name} score (higher: closer to the condition)")
    ax.set_ylabel("images")
    ax.set_title(title, fontsize=10)
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def _caption(score: float, face: bool) -> str:
    return f"{score:.3f}" if not np.isnan(score) else ("no face" if not face else "no prototype")


def kept_rejected(
    path: Path, images: list, labels: np.ndarray, scores: np.ndarray, kept: np.ndarray, face: np.ndarray,
    abbrs: list[str], per_side: int = KEPT_REJECTED_IMAGES,
) -> list[Path]:  # fmt: skip
    """``kept_rejected.png`` (paged by 16 conditions): per condition, the highest-scoring kept
    images, then the lowest-scoring rejected ones (unscored last), each with its score."""
    rows = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        best = [i for i in idx[np.argsort(-scores[idx], kind="stable")] if kept[i]][:per_side]
        order = np.argsort(np.where(np.isnan(scores[idx]), np.inf, scores[idx]), kind="stable")
        worst = [i for i in idx[order] if not kept[i]][:per_side]
        cells = [images[i] for i in best] + [None] * (per_side - len(best) + 1) + [images[i] for i in worst]
        captions = [_caption(scores[i], face[i]) for i in best] + [""] * (per_side - len(best) + 1)
        captions += [_caption(scores[i], face[i]) for i in worst]
        rows.append(Row(abbrs[c] if c < len(abbrs) else str(c), cells, captions))
    header = [(0, "kept: highest scores"), (per_side + 1, "rejected: lowest scores")]
    return write_sheets(path, rows, header=header)
