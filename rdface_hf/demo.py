"""The demo stage: simulate -> build -> load, on the CPU, with a printed summary.

It is the README's main job and the embedded default of the project: it needs
no gated data and no network (only the face landmarker bundle, see
:mod:`rdface_hf.landmarks`).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ._config import StageConfig, require


@dataclass
class DemoConfig(StageConfig):
    output_dir: str = "demo_output"
    conditions: int = 103
    per_condition_mean: float | None = None
    difficulty: float | None = None
    seed: int = 0
    workers: int | None = None

    def validate(self) -> None:
        self.output_dir = str(self.output_dir)
        require(self.conditions >= 1, f"--conditions must be at least 1, got {self.conditions}")
        require(self.workers is None or self.workers >= 1, f"--workers must be at least 1, got {self.workers}")


def run_demo(config: DemoConfig) -> str:
    """Run the demo and return its summary (a few lines of text)."""
    from .builder import BuildConfig, build_dataset
    from .hub import load_rdface
    from .sim import SimConfig, simulate

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    config.save(out / "demo_config.json")
    sim_kwargs = {k: v for k, v in (("per_condition_mean", config.per_condition_mean), ("difficulty", config.difficulty)) if v is not None}
    t0 = time.perf_counter()
    sim = simulate(SimConfig(out=str(out / "raw"), conditions=config.conditions, seed=config.seed,
                             workers=config.workers, preview=True, overwrite=True, **sim_kwargs))
    t1 = time.perf_counter()
    built = build_dataset(BuildConfig(raw=str(out / "raw"), out=str(out / "rdface"), workers=config.workers, overwrite=True))
    t2 = time.perf_counter()
    fold0 = load_rdface(out / "rdface", fold=0)
    default = load_rdface(out / "rdface")
    report = (out / "rdface" / "validation_report.csv").read_text(encoding="utf-8").splitlines()[1:]
    statuses = Counter(line.split(",")[2] for line in report if line)
    with_face = sum(lm is not None for split in fold0.values() for lm in split["landmarks"])
    total = sum(len(s) for s in fold0.values())
    lines = [
        f"rdface demo: {out}/",
        f"  simulated   {out / 'raw'}: {built.accepted + built.warnings + built.rejected} images of {config.conditions} conditions in {t1 - t0:.1f} s"
        + (f"; contact sheet {out / 'raw' / 'preview.png'}" if (out / "raw" / "preview.png").exists() else ""),
        f"  built       {out / 'rdface'} in {t2 - t1:.1f} s: {dict(statuses)}; card {out / 'rdface' / 'README.md'}",
        f"  fold_0      " + ", ".join(f"{k} {len(v)}" for k, v in fold0.items())
        + f"; default: " + ", ".join(f"{k} {len(v)}" for k, v in default.items()),
        f"  classes     {fold0['train'].features['condition'].num_classes}; landmarks on {with_face}/{total} images",
        f"  next        datasets.load_dataset({str(out / 'rdface')!r}, 'fold_0')",
    ]
    del sim
    return "\n".join(lines)
