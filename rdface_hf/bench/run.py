"""``run_benchmark(config, stages)``: plan, run (resumably, shareable), tabulate, report."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import datasets

from .._config import require
from .._outputs import check_output_dir
from .._results import StageResult
from .config import BenchmarkConfig
from .plan import COST_S, Stages, Unit, make_plan
from .report import write_report
from .results import collect, paired, summary, write_tables
from .runner import Runner, changed_units, is_done, read_state
from .study import load_study


@dataclass(frozen=True)
class BenchmarkResult(StageResult):
    out: Path
    units: int
    ran: int
    skipped: int
    failed: dict
    report: Path | None
    overhead_s: float
    seconds: float
    plan: str


def plan_text(out: Path, units: list[Unit]) -> str:
    lines, cost = [], 0.0
    for u in units:
        done = is_done(out, u)
        cost += 0.0 if done else COST_S.get(u.stage, 10.0)
        lines.append(f"  [{'done' if done else 'todo'}] {u.id} ({u.stage}; {', '.join(u.inputs)})")
    todo = sum(1 for u in units if not is_done(out, u))
    return "\n".join([f"plan: {len(units)} runs, {todo} to do, about {cost / 60:.1f} min on 2 CPU cores", *lines])


def _open_output(out: Path, config: BenchmarkConfig) -> None:
    """O is new or this study's: a new O appears whole, with its config (several runners may race)."""
    check_output_dir(out, owner=config.owner(), overwrite=False, resume=True)
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
        os.chmod(tmp, 0o755)
        config.save(tmp / config.config_file())
        try:
            os.rename(tmp, out)
        except OSError:  # another runner made it first
            shutil.rmtree(tmp, ignore_errors=True)
    check_output_dir(out, owner=config.owner(), overwrite=False, resume=True)
    config.save(out / config.config_file())


def run_benchmark(config: BenchmarkConfig, stages: Stages, log=print) -> BenchmarkResult:
    start = time.perf_counter()
    study = load_study(config, stages)
    out = Path(config.output_dir)
    units, dataset = make_plan(study, stages, out)
    changed = changed_units(out, units)
    require(
        config.overwrite or not changed,
        "overwrite",
        f"is needed: {len(changed)} finished run(s) had other settings (first {changed[0].id if changed else ''})",
    )
    text = plan_text(out, units)
    if config.dry_run:
        return BenchmarkResult(out, len(units), 0, 0, {}, None, 0.0, time.perf_counter() - start, text)
    _open_output(out, config)
    datasets.disable_progress_bars()
    outcome = Runner(out, stages, overwrite=config.overwrite, log=log).run(units)
    states = {u.id: read_state(out, u) or {} for u in units}
    for uid, error in outcome.failed.items():  # skipped dependants have no state file
        states.setdefault(uid, {}).setdefault("status", "skipped")
        states[uid]["error"] = states[uid].get("error") or error
    frame, ranks = collect(units, states)
    table = summary(frame)
    pairs = paired(frame, ranks, resamples=config.bootstrap)
    write_tables(out, frame, table, pairs, outcome.failed)
    show = config.include_faces or (dataset.simulated and not config.push_to_hub)  # a pushed report: no faces
    study_text = Path(config.study).read_text(encoding="utf-8")
    report = write_report(out, study_text=study_text, table=table, pairs=pairs, units=units, states=states,
                          failed=outcome.failed, dataset=dataset, show_faces=show)  # fmt: skip
    overhead = max(outcome.overhead_s) if outcome.overhead_s else 0.0
    return BenchmarkResult(out, len(units), len(outcome.ran), len(outcome.skipped), outcome.failed, report, overhead,
                           time.perf_counter() - start, text)  # fmt: skip
