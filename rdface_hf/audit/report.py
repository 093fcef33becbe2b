"""The audit's summary (per condition, per generator), histogram and contact sheet."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from .._io import atomic_write_bytes, atomic_write_json, atomic_write_text
from .._sheets import Row, write_sheets
from ..dataset.near_copies import quantiles

GATED_NOTE = (
    "Derived from gated faces: the ids and distances say which real children the synthetic images resemble. "
    "Keep this output under the dataset's access terms; publish it only to a gated repository."
)


def group_rows(keys: list[str], near: np.ndarray, same: np.ndarray, dist: np.ndarray, status: list[str]) -> list:
    """Per value of ``keys``: images, embedded, near copies and their share, same-person share, distances."""
    out = []
    arr = np.asarray(keys)
    ok = np.asarray([s == "ok" for s in status])
    for key in sorted(set(keys)):
        sel = arr == key
        n, emb = int(sel.sum()), int((sel & ok).sum())
        out.append(
            {
                "name": key,
                "images": n,
                "embedded": emb,
                "near_copies": int(near[sel].sum()),
                "near_copy_share": round(float(near[sel].sum()) / emb, 4) if emb else None,
                "same_person_share": round(float(same[sel].sum()) / emb, 4) if emb else None,
                "distance_median": quantiles(dist[sel])["median"],
                "distance_min": quantiles(dist[sel])["min"],
            }
        )
    return out


def _table(title: str, rows: list[dict]) -> list[str]:
    head = "| | images | embedded | near copies | share | same person (0.6) | median distance | min distance |"
    lines = [f"## {title}", "", head, "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        share = "" if r["near_copy_share"] is None else f"{100 * r['near_copy_share']:.1f} %"
        same = "" if r["same_person_share"] is None else f"{100 * r['same_person_share']:.1f} %"
        lines.append(
            f"| {r['name']} | {r['images']} | {r['embedded']} | {r['near_copies']} | {share} | {same} | "
            f"{r['distance_median']} | {r['distance_min']} |"
        )
    return [*lines, ""]


def write_summary(folder: Path, summary: dict[str, Any]) -> None:
    atomic_write_json(folder / "summary.json", summary)
    cal = summary["calibration"]
    nn = cal["real_to_nearest_other_real"]
    lines = [
        "# Memorisation audit",
        "",
        f"{summary['images']} synthetic images, {summary['embedded']} with a face-identity embedding; "
        f"**{summary['near_copies']} near copies** of a real image (distance < {cal['threshold']:.4g}, "
        f"{cal['threshold_source']}), {summary['same_person']} within dlib's same-person distance "
        f"{summary['same_person_rule']}. Compared with all {summary['real_images']} real images, test included.",
        "",
        f"Real to nearest other real: median {nn['median']}, 1st percentile {nn['p01']}, min {nn['min']} "
        f"(n = {nn['n']}). Altered copies of real images, distance to their original (median / 95th percentile / "
        "share under the threshold):",
        "",
        *(
            f"- {name}: {q['median']} / {q['p95']} / "
            + ("" if q["share_under_threshold"] is None else f"{100 * q['share_under_threshold']:.1f} %")
            for name, q in cal["altered_copies"].items()
        ),
        "",
        _limits(),
        "",
        *_table("Per condition", summary["per_condition"]),
        *_table("Per generator", summary["per_generator"]),
        summary["privacy"],
        "",
    ]
    atomic_write_text(folder / "summary.md", "\n".join(lines))


def _limits() -> str:
    return (
        "What this proves and does not: a flagged image is as close to a real child as that child's altered "
        "copies are, so treat it as a copy. An unflagged image is only *not closer* than the calibrated threshold "
        "under one face-recognition model: it can still reveal a child to a person who knows them, and a different "
        "model or threshold can disagree. The audit informs; it never selects training data."
    )


def histogram(path: Path, synthetic: np.ndarray, real: np.ndarray, threshold: float, same_person: float) -> None:
    import matplotlib  # plotting: only when an audit writes its figure

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    values = [v[np.isfinite(v)] for v in (synthetic, real)]
    top = max([float(v.max()) for v in values if len(v)] + [same_person]) * 1.05
    bins = np.linspace(0, top, 50)
    for v, label in zip(values, ("synthetic to nearest real", "real to nearest other real")):
        ax.hist(v, bins=bins, alpha=0.6, density=True, label=f"{label} ({len(v)})")
    ax.axvline(threshold, color="red", linestyle="--", label=f"near-copy threshold {threshold:.3f}")
    ax.axvline(same_person, color="grey", linestyle=":", label=f"dlib same person {same_person:g}")
    ax.set_xlabel("face-identity distance (dlib ResNet)")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def contact_sheet(path: Path, pairs: list[tuple[np.ndarray, np.ndarray, str]], size: int = 128) -> None:
    """Closest pairs, one a row (closest first): synthetic, then its nearest real image with the
    caption (distance, real id) under it; full captions are in the summary."""
    rows = [Row(f"#{k + 1}", [syn, real], ["synthetic", caption]) for k, (syn, real, caption) in enumerate(pairs)]
    write_sheets(path, rows, rows_per_page=max(len(rows), 1), cell=size)
