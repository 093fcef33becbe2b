"""``O/results.parquet`` (one row per cell x fold x metric), ``summary.md``/``.csv`` and the paired comparisons."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import atomic_write_bytes, atomic_write_text
from .plan import Unit
from .stats import paired_bootstrap, t_interval, within_noise

METRICS = ("top_1", "top_5", "top_10", "top_30", "macro_f1", "balanced_accuracy")
CARD = """---
configs:
- config_name: default
  data_files: results.parquet
extra_gated_prompt: "Results derived from gated data: agree to the source dataset's terms."
---
# rdface benchmark results

One row per cell x fold x metric; see summary.md and report.html.
"""


def _fold_results(unit: Unit) -> dict[str, dict]:
    """``{method: {"test": {...}, "test_true_rank": [...]}}`` of a finished cell."""
    path = Path(unit.config.output_dir) / f"fold_{unit.fold}" / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if "methods" in data:
        return data["methods"]
    return {"finetune": {"test": data["test"], "test_true_rank": data.get("test_true_rank")}}


def collect(units: list[Unit], states: dict[str, dict]) -> tuple[pd.DataFrame, dict]:
    """The long table and, per (model, method, cell id), the test images' true-class ranks."""
    rows, ranks = [], {}
    for unit in units:
        if unit.cell is None:
            continue
        state = states.get(unit.id) or {"status": "not run", "error": None}
        base = {**unit.cell, "fold": unit.fold, "run_dir": unit.id, "config_digest": unit.digest,
                "status": state.get("status"), "error": state.get("error")}  # fmt: skip
        if state.get("status") != "done":
            rows.append({**base, "method": None, "metric": None, "value": np.nan})
            continue
        for method, res in _fold_results(unit).items():
            ranks[(unit.id, method)] = res.get("test_true_rank")
            for metric in METRICS:
                rows.append(
                    {**base, "method": method, "metric": metric, "value": float(res["test"].get(metric, np.nan))}
                )
    frame = pd.DataFrame(rows)
    frame["value_name"] = frame["model"].astype(str) + "/" + frame["method"].astype(str)
    return frame, ranks


def summary(frame: pd.DataFrame) -> pd.DataFrame:
    done = frame[frame["status"] == "done"]
    group = ["model", "method", "regime", "setting", "metric"]
    stats = done.groupby(group, sort=False)["value"].agg(["mean", "std", "count"]).reset_index()
    return stats.rename(columns={"std": "sd", "count": "folds"}).fillna({"sd": 0.0})


def paired(frame: pd.DataFrame, ranks: dict, *, resamples: int, metric: str = "top_1") -> pd.DataFrame:
    """Each regime's setting against real_only with the same model and method, fold by fold."""
    done = frame[(frame["status"] == "done") & (frame["metric"] == metric)]
    out = []
    for (model, method), rows in done.groupby(["model", "method"], sort=False):
        ref = rows[rows["regime"] == "real_only"].set_index("fold")
        for (regime, setting), other in rows[rows["regime"] != "real_only"].groupby(["regime", "setting"], sort=False):
            other = other.set_index("fold")
            folds = sorted(set(ref.index) & set(other.index))
            if not folds:
                continue
            diffs = [float(other.loc[f, "value"] - ref.loc[f, "value"]) for f in folds]
            mean, low, high = t_interval(diffs)
            a = [ranks.get((ref.loc[f, "run_dir"], method)) for f in folds]
            b = [ranks.get((other.loc[f, "run_dir"], method)) for f in folds]
            boot = (np.nan,) * 3
            if all(x is not None for x in a + b):
                boot = paired_bootstrap(np.asarray(a) < 1, np.asarray(b) < 1, resamples=resamples)
            noise = within_noise(low, high)
            out.append({"model": model, "method": method, "regime": regime, "setting": setting, "metric": metric,
                        "folds": len(folds), "fold_differences": json.dumps([round(d, 6) for d in diffs]),
                        "mean_difference": mean, "t_low": low, "t_high": high, "bootstrap_low": boot[1],
                        "bootstrap_high": boot[2], "within_noise": noise})  # fmt: skip
    return pd.DataFrame(out)


def _pct(x: float) -> str:
    return "n/a" if x is None or np.isnan(x) else f"{100 * x:.2f}"


def summary_markdown(table: pd.DataFrame, pairs: pd.DataFrame, failed: dict[str, str]) -> str:
    lines = ["# Study summary (test split; mean ± sample SD over folds, %)", ""]
    shown = ["top_1", "top_5", "macro_f1", "balanced_accuracy"]
    lines += ["| model | regime | setting | folds | " + " | ".join(shown) + " |", "|---" * (4 + len(shown)) + "|"]
    wide = table[table["metric"].isin(shown)]
    for (model, method, regime, setting), rows in wide.groupby(["model", "method", "regime", "setting"], sort=False):
        by = rows.set_index("metric")
        cells = [f"{_pct(by.loc[m, 'mean'])} ± {_pct(by.loc[m, 'sd'])}" if m in by.index else "" for m in shown]
        lines.append(
            f"| {model}/{method} | {regime} | {setting} | {int(rows['folds'].max())} | " + " | ".join(cells) + " |"
        )
    lines += ["", "## Paired against real_only (top-1 difference, percentage points)", ""]
    lines += ["| model | regime | setting | mean | 95 % t CI | 95 % bootstrap CI | verdict |", "|---" * 7 + "|"]
    for row in pairs.to_dict("records"):
        verdict = {True: "within noise", False: "gain" if row["mean_difference"] > 0 else "loss", None: "n/a"}
        lines.append(
            f"| {row['model']}/{row['method']} | {row['regime']} | {row['setting']} | {_pct(row['mean_difference'])} | "
            f"{_pct(row['t_low'])} to {_pct(row['t_high'])} | {_pct(row['bootstrap_low'])} to "
            f"{_pct(row['bootstrap_high'])} | {verdict[row['within_noise']]} |"
        )
    if failed:
        lines += ["", "## Failed or skipped runs", ""] + [f"- `{uid}`: {error}" for uid, error in failed.items()]
    return "\n".join(lines) + "\n"


def write_tables(out: Path, frame: pd.DataFrame, table: pd.DataFrame, pairs: pd.DataFrame, failed) -> str:
    atomic_write_bytes(out / "results.parquet", frame.to_parquet(index=False))
    atomic_write_text(out / "README.md", CARD)
    atomic_write_text(out / "summary.csv", table.to_csv(index=False))
    atomic_write_text(out / "paired.csv", pairs.to_csv(index=False))
    text = summary_markdown(table, pairs, failed)
    atomic_write_text(out / "summary.md", text)
    return text
