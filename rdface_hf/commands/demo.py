"""``rdface demo``: the pipeline on the embedded simulator default, on the CPU, in minutes.

simulate -> build -> :class:`~rdface_hf.dataset.RDFaceDataset` -> geometry probe on
fold 0, then the synthetic-data path: morph new faces from fold 0's training
images -> filter them against fold 0's real training faces -> merge -> the same
probe trained on real + kept synthetic faces, both scored on the fixed test split.
It needs no gated data and no network (only the face landmarker bundle). The demo
wires stages together, so it lives with the commands, the one layer allowed to
import several stages.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from .._config import StageConfig, option, require
from .._errors import InputError
from .._outputs import check_output_dir
from ..sim.config import SimConfig

if TYPE_CHECKING:
    from ..dataset import RDFaceDataset

NAME = "demo"
HELP = "simulate an RDFace-shaped release, build it, load its folds and print a summary"
DESCRIPTION = "Runs offline on the phenotype simulator (no gated data): simulate -> build -> load_dataset -> baseline."
DEMO_MARKER = "demo_config.json"


@dataclass
class DemoConfig(StageConfig):
    stage: ClassVar[str] = "demo"

    output_dir: str = option("demo_output", help="where to write (an earlier demo there is replaced, nothing else)")
    conditions: int = option(103, help="simulated conditions (103, as RDFace)")
    per_condition_mean: float | None = option(None, help="mean images per condition (default as RDFace)")
    difficulty: float | None = option(None, help="simulator difficulty 0..1 (default the simulator's)")
    seed: int = option(0, help="simulator seed")
    synthetic: bool = option(True, help="also morph, filter and merge synthetic faces (--no-synthetic skips it)")
    per_condition: int = option(2, help="morphs per condition for the synthetic-data path")
    workers: int | None = option(None, help="worker processes (default: all cores)", run_only=True)

    def validate(self) -> None:
        self.output_dir = str(self.output_dir)
        require(self.conditions >= 1, "conditions", f"must be at least 1, got {self.conditions}")
        require(self.per_condition >= 1, "per_condition", f"must be at least 1, got {self.per_condition}")
        require(self.workers is None or self.workers >= 1, "workers", f"must be at least 1, got {self.workers}")


CONFIG = DemoConfig


def _check_demo_dir(out: Path) -> None:
    """The demo replaces its own earlier output, and nothing else."""
    if out.is_dir() and any(out.iterdir()) and not DemoConfig.owner().owns(out):
        raise InputError(
            f"--output-dir {out} is not empty and holds no earlier demo ({DEMO_MARKER}); choose another folder"
        )
    check_output_dir(out, owner=DemoConfig.owner(), resume=True)  # the demo only replaces its sub-folders
    # the sub-folders' owners, checked before any work (stage modules: kept out of the CLI's start-up)
    from ..dataset.builder import BuildConfig
    from ..filter.config import FilterConfig, MergeConfig
    from ..generate.config import GenerateConfig

    parts = {"raw": SimConfig, "rdface": BuildConfig, "morphs": GenerateConfig, "filtered": FilterConfig,
             "merged": MergeConfig}  # fmt: skip
    for name, config_class in parts.items():
        check_output_dir(out / name, owner=config_class.owner(), overwrite=True)


def _score_line(score) -> str:
    return (
        f"top-1 {100 * score.top1:.1f} %, top-5 {100 * score.top5:.1f} %, macro-F1 {score.macro_f1:.3f} "
        f"(chance {100 * score.chance_top1:.1f} %)"
    )


def _baseline_line(dataset: RDFaceDataset) -> str:
    from ..classify.geometry import geometry_baseline  # sklearn: kept out of the CLI's start-up

    try:
        score = geometry_baseline(dataset, fold=0)
    except InputError as exc:
        return f"skipped: {exc}"
    return f"landmarks + logistic regression on fold 0, scored on the fixed test split: {_score_line(score)}"


def _synthetic_line(config: DemoConfig, out: Path, dataset: RDFaceDataset) -> str:
    """Morph -> filter -> merge on fold 0, then the probe on real + kept synthetic faces."""
    # Stages that bring scikit-image / sklearn: kept out of the CLI's start-up.
    import datasets

    from ..classify.geometry import geometry_baseline
    from ..filter.config import FilterConfig, MergeConfig
    from ..filter.merge import merge
    from ..filter.run import filter_synthetic
    from ..generate.config import GenerateConfig
    from ..generate.morph.generate import generate_morph

    built = str(dataset.root)
    morphs = generate_morph(GenerateConfig(
        generator="morph", dataset=built, fold="0", per_condition=config.per_condition, seed=config.seed,
        output_dir=str(out / "morphs"), overwrite=True, workers=config.workers or 0,
    ))  # fmt: skip
    kept = filter_synthetic(FilterConfig(
        dataset=built, synthetic=str(morphs.out), output_dir=str(out / "filtered"), fold="0", score="landmarks",
        mode="top-n-per-condition", top_n=max(1, config.per_condition // 2), workers=config.workers, overwrite=True,
    ))  # fmt: skip
    merged = merge(MergeConfig(dataset=built, synthetic=str(kept.out), output_dir=str(out / "merged"), fold="0",
                               overwrite=True))  # fmt: skip
    rows = datasets.load_dataset(str(merged.out), split="train").filter(lambda r: r["is_synthetic"])
    extra = (dataset.landmarks(rows), np.asarray(rows["condition"]))
    try:
        score = geometry_baseline(dataset, fold=0, extra=extra)
    except InputError as exc:
        return f"skipped: {exc}"
    return (
        f"{morphs.images} morphs, {kept.kept} kept by the landmark filter, merged into {out / 'merged'}; "
        f"the same probe on real + kept synthetic faces: {_score_line(score)}"
    )


def _summary(out: Path, sim, built, build_seconds: float, dataset: RDFaceDataset, synthetic: str | None) -> str:
    built_dir = Path(built.out)
    fold0, default = dataset.fold(0), dataset.default()
    with_face = sum(int((~np.isnan(dataset.landmarks(split)[:, 0, 0])).sum()) for split in fold0.values())
    total = sum(len(split) for split in fold0.values())

    def sizes(dd) -> str:
        return ", ".join(f"{name} {len(split)}" for name, split in dd.items())

    return "\n".join(
        [
            f"rdface demo: {out}/",
            f"  simulated  {out / 'raw'}: {sim.images} images of {sim.conditions} conditions in {sim.seconds:.1f} s; "
            f"contact sheet {out / 'raw' / 'preview.png'}",
            f"  built      {built_dir} in {build_seconds:.1f} s: {built.accepted} accepted, "
            f"{built.warnings} with warnings, {built.rejected} rejected; card {built_dir / 'README.md'}",
            f"  folds      fold_0: {sizes(fold0)}; default: {sizes(default)}; "
            f"{dataset.num_classes} classes; landmarks on {with_face}/{total} images",
            f"  baseline   {_baseline_line(dataset)}",
            *([f"  synthetic  {synthetic}"] if synthetic else []),
            f"  next       datasets.load_dataset({str(built_dir)!r}, 'fold_0')",
        ]
    )


def run(config: DemoConfig) -> int:
    import datasets  # the stages' libraries: kept out of the CLI's start-up

    from ..dataset import RDFaceDataset
    from ..dataset.builder import BuildConfig, build_dataset
    from ..sim import simulate

    out = Path(config.output_dir)
    raw, built_dir = out / "raw", out / "rdface"
    optional = {"per_condition_mean": config.per_condition_mean, "difficulty": config.difficulty}
    sim_config = SimConfig(
        out=str(raw),
        conditions=config.conditions,
        seed=config.seed,
        workers=config.workers,
        preview=True,
        overwrite=True,
        **{k: v for k, v in optional.items() if v is not None},
    )
    _check_demo_dir(out)  # after every flag is validated, before anything is written
    out.mkdir(parents=True, exist_ok=True)
    config.save(out / config.config_file())
    sim = simulate(sim_config)
    t0 = time.perf_counter()
    built = build_dataset(BuildConfig(raw=str(raw), out=str(built_dir), workers=config.workers, overwrite=True))
    build_seconds = time.perf_counter() - t0
    datasets.disable_progress_bars()
    dataset = RDFaceDataset(built_dir)
    synthetic = _synthetic_line(config, out, dataset) if config.synthetic else None
    print(_summary(out, sim, built, build_seconds, dataset, synthetic))
    return 0
