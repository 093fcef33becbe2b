"""``O/report.html``: one self-contained file (no network; plots inline as base64 PNG)."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

import datasets
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .._io import atomic_write_text
from .._version import __version__
from .plan import Unit

STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse}"
    "td,th{border:1px solid #bbb;padding:2px 6px;font-size:13px}img{max-width:100%}"
)


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _figure(fid: str, title: str, fig) -> str:
    name = html.escape(title)
    return f'<figure id="{fid}"><img alt="{name}" src="{_png(fig)}"><figcaption>{name}</figcaption></figure>'


def _top1(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["metric"] == "top_1"].assign(label=lambda t: t["model"] + "/" + t["method"])


def _bars(table: pd.DataFrame):
    t = _top1(table)
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(t) + 1.5))
    names = t["label"] + " " + t["regime"] + " " + t["setting"]
    ax.barh(range(len(t)), 100 * t["mean"], xerr=100 * t["sd"], color="#4c72b0", capsize=3)
    ax.set_yticks(range(len(t)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("test top-1 (%), mean ± SD over folds")
    return fig


def _curve(table: pd.DataFrame, units: list[Unit], regime: str, xlabel: str):
    t = _top1(table)
    value = {(u.cell["model"], u.cell["regime"], u.cell["setting"]): u.cell for u in units if u.cell}
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, rows in t[t["regime"] == regime].groupby("label"):
        rows = rows.assign(x=[value[(r.model, r.regime, r.setting)]["value"] for r in rows.itertuples()])
        rows = rows.assign(syn=[value[(r.model, r.regime, r.setting)]["generator"] for r in rows.itertuples()])
        for syn, part in rows.groupby(rows["syn"].fillna("real only")):
            part = part.sort_values("x")
            ax.errorbar(
                part["x"], 100 * part["mean"], yerr=100 * part["sd"], marker="o", capsize=3, label=f"{label} {syn}"
            )
        ref = t[(t["label"] == label) & (t["regime"] == "real_only")]
        if regime == "synthetic_only" and len(ref):
            ax.axhline(100 * ref["mean"].iloc[0], linestyle="--", color="grey", label=f"{label} real only")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test top-1 (%)")
    ax.legend(fontsize=7)
    return fig


def _per_condition(units: list[Unit], states: dict) -> object | None:
    """Mean top-1 change per condition: each augmented setting against real_only (same model, fold)."""
    acc: dict[tuple, dict[str, float]] = {}
    for u in units:
        if u.cell and u.cell["regime"] in ("real_only", "augmented") and states.get(u.id, {}).get("status") == "done":
            data = json.loads((Path(u.config.output_dir) / f"fold_{u.fold}" / "results.json").read_text())
            for method, res in data.get("methods", {}).items():
                per = {c: v["top_1"] for c, v in res["test"].get("per_condition", {}).items()}
                acc[(u.cell["model"], method, u.cell["setting"], u.fold)] = per
    changes: dict[str, list[float]] = {}
    for (model, method, setting, fold), per in acc.items():
        ref = acc.get((model, method, "real", fold))
        if setting != "real" and ref:
            for c in ref:
                changes.setdefault(c, []).append(per.get(c, np.nan) - ref[c])
    if not changes:
        return None
    names = sorted(changes)
    fig, ax = plt.subplots(figsize=(9, 0.16 * len(names) + 1.5))
    ax.barh(range(len(names)), [100 * np.nanmean(changes[c]) for c in names], color="#55a868")
    ax.set_yticks(range(len(names)), names, fontsize=6)
    ax.set_xlabel("top-1 change with synthetic images (points; mean over folds and settings)")
    return fig


def _histograms(units: list[Unit], states: dict) -> object | None:
    sets = [u for u in units if u.stage == "filter" and states.get(u.id, {}).get("status") == "done"][:6]
    if not sets:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for u in sets:
        scores = np.asarray(datasets.load_dataset(u.config.output_dir, split="train")["score"], dtype=float)
        ax.hist(scores[np.isfinite(scores)], bins=30, histtype="step", label=u.id.split("/", 1)[1])
    ax.set_xlabel("filter score")
    ax.legend(fontsize=6)
    return fig


def _faces(units: list[Unit], states: dict) -> object | None:
    """Kept synthetic faces of the first finished filter run (simulated data or --include-faces only)."""
    sets = [u for u in units if u.stage == "filter" and states.get(u.id, {}).get("status") == "done"]
    if not sets:
        return None
    ds = datasets.load_dataset(sets[0].config.output_dir, split="train")
    rows = [i for i, k in enumerate(ds["kept"]) if k][:12]
    if not rows:
        return None
    fig, axes = plt.subplots(1, len(rows), figsize=(1.2 * len(rows), 1.4), squeeze=False)
    for ax, i in zip(axes[0], rows):
        ax.imshow(ds[i]["image"].convert("RGB"))
        ax.set_axis_off()
    return fig


def _table(frame: pd.DataFrame, tid: str) -> str:
    return frame.to_html(index=False, table_id=tid, float_format=lambda x: f"{x:.4f}", na_rep="n/a", border=0)


def write_report(out: Path, *, study_text: str, table, pairs, units, states, failed, dataset, show_faces) -> Path:
    """Write ``O/report.html``; returns its path."""
    name = html.escape(Path(str(dataset.source)).name)
    study_text = study_text.replace(str(dataset.source), Path(str(dataset.source)).name)  # no local path published
    paired_html = _table(pairs, "paired") if len(pairs) else "<p id='paired'>no pairs</p>"
    parts = [f"<h1>rdface benchmark</h1><p>rdface_hf {__version__}; dataset {name}"
             f" (build digest {html.escape(str(dataset.digest))}); {len(units)} runs.</p>",
             "<h2>Study</h2><pre id='study'>" + html.escape(study_text) + "</pre>",
             "<h2>Summary (test split, mean and sample SD over folds)</h2>", _table(table, "summary"),
             "<h2>Paired against real_only (top-1)</h2>", paired_html]  # fmt: skip
    if len(table):
        parts.append(_figure("bars", "test top-1 per regime and setting", _bars(table)))
    regimes = set(table["regime"]) if len(table) else set()
    if "synthetic_only" in regimes:
        fig = _curve(table, units, "synthetic_only", "synthetic training images")
        parts.append(_figure("scaling", "synthetic-only scaling against real only", fig))
    if "low_data" in regimes:
        parts.append(
            _figure("low_data", "low-data curves", _curve(table, units, "low_data", "real images per condition"))
        )
    for fid, title, make in (("per_condition", "per-condition top-1 change", _per_condition),
                             ("histograms", "filter score histograms", _histograms)):  # fmt: skip
        try:
            fig = make(units, states)
        except Exception as exc:
            parts.append(f"<p id='{fid}'>{html.escape(title)}: unavailable ({html.escape(type(exc).__name__)})</p>")
            continue
        if fig is not None:
            parts.append(_figure(fid, title, fig))
    if show_faces:
        try:
            fig = _faces(units, states)
        except Exception:
            fig = None
        if fig is not None:
            parts.append(_figure("faces", "kept synthetic faces (first filter run)", fig))
    else:
        parts.append("<p id='faces'>No faces shown: derived from gated data (rerun with --include-faces).</p>")
    if failed:
        items = "".join(f"<li><code>{html.escape(k)}</code>: {html.escape(str(v))}</li>" for k, v in failed.items())
        parts.append(f"<h2>Failed or skipped runs</h2><ul id='failed'>{items}</ul>")
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>rdface benchmark</title><style>{STYLE}</style>"
            f"</head><body>{''.join(parts)}</body></html>")  # fmt: skip
    return atomic_write_text(out / "report.html", page)
