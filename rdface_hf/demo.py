"""The demo stage: simulate -> build -> load, on the CPU, with a printed summary.

It is the README's main job and the embedded default of the project: it needs
no gated data and no network (only the face landmarker bundle, see
:mod:`rdface_hf.landmarks`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from ._config import StageConfig, require
from ._errors import InputError
from ._io import check_output_dir


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


DEMO_MARKER = "demo_config.json"


def _check_demo_dir(out: Path) -> None:
    """The demo replaces its own earlier output, and nothing else."""
    check_output_dir(out, overwrite=True)
    if out.is_dir() and any(out.iterdir()) and not (out / DEMO_MARKER).is_file():
        raise InputError(f"--output-dir {out} is not empty and holds no earlier demo ({DEMO_MARKER}); choose another folder")


def run_demo(config: DemoConfig) -> str:
    """Run the demo and return its summary (a few lines of text)."""
    import datasets

    from .baselines import geometry_baseline
    from .builder import BuildConfig, build_dataset
    from .hub import load_rdface
    from .sim import SimConfig, simulate

    out = Path(config.output_dir)
    raw, built_dir = out / "raw", out / "rdface"
    optional = {"per_condition_mean": config.per_condition_mean, "difficulty": config.difficulty}
    sim_config = SimConfig(out=str(raw), conditions=config.conditions, seed=config.seed, workers=config.workers,
                           preview=True, overwrite=True, **{k: v for k, v in optional.items() if v is not None})
    _check_demo_dir(out)  # after every flag is validated, before anything is written
    out.mkdir(parents=True, exist_ok=True)
    config.save(out / DEMO_MARKER)
    sim = simulate(sim_config)
    t0 = time.perf_counter()
    built = build_dataset(BuildConfig(raw=str(raw), out=str(built_dir), workers=config.workers, overwrite=True))
    build_seconds = time.perf_counter() - t0
    datasets.disable_progress_bars()
    fold0 = load_rdface(built_dir, fold=0)
    default = load_rdface(built_dir)
    try:
        score = geometry_baseline(fold0)
        baseline = (f"landmarks + logistic regression on fold 0, scored on the fixed test split: "
                    f"top-1 {100 * score.top1:.1f} %, top-5 {100 * score.top5:.1f} %, macro-F1 {score.macro_f1:.3f} "
                    f"(chance {100 * score.chance_top1:.1f} %)")
    except InputError as exc:
        baseline = f"skipped: {exc}"
    with_face = sum(lm is not None for split in fold0.values() for lm in split["landmarks"])
    total = sum(len(split) for split in fold0.values())
    sizes = lambda dd: ", ".join(f"{name} {len(split)}" for name, split in dd.items())  # noqa: E731
    return "\n".join([
        f"rdface demo: {out}/",
        f"  simulated  {raw}: {sim.images} images of {sim.conditions} conditions in {sim.seconds:.1f} s; "
        f"contact sheet {raw / 'preview.png'}",
        f"  built      {built_dir} in {build_seconds:.1f} s: {built.accepted} accepted, {built.warnings} with warnings, "
        f"{built.rejected} rejected; card {built_dir / 'README.md'}",
        f"  folds      fold_0: {sizes(fold0)}; default: {sizes(default)}; "
        f"{fold0['train'].features['condition'].num_classes} classes; landmarks on {with_face}/{total} images",
        f"  baseline   {baseline}",
        f"  next       datasets.load_dataset({str(built_dir)!r}, 'fold_0')",
    ])
