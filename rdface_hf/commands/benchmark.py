"""``rdface benchmark --config STUDY.yaml --output-dir O``: the study's tables, paired CIs and report.html.

The command hands the stages to the runner (:mod:`rdface_hf.bench`), which imports no other stage.
"""

from __future__ import annotations

import sys

from ..bench.config import BenchmarkConfig

NAME = "benchmark"
CONFIG = BenchmarkConfig
HELP = "run a study (models x regimes x settings x folds) into O: results.parquet, summary.md, report.html"
DESCRIPTION = (
    HELP + ". Cells run the stages (probe, train-classifier, generate, filter) into O/runs/; a finished cell is "
    "skipped, an interrupted one resumes, and several runners may share one O. Regimes: real_only, augmented, "
    "low_data, synthetic_only; paired comparisons against real_only with 95 %% t and bootstrap intervals."
)


def _stages():
    # Every stage's entry function; their heavy libraries load only when a unit runs.
    from ..bench.plan import Stage
    from ..classify.config import ProbeConfig, TrainClassifierConfig
    from ..filter.config import FilterConfig, MergeConfig
    from ..generate.config import GenerateConfig

    def probe(config):
        from ..classify.probe import run_probe  # sklearn, MediaPipe

        return run_probe(config)

    def train(config):
        from ..classify.classifier import train_classifier  # torch, transformers

        return train_classifier(config)

    def generate(config):
        if config.generator == "morph":
            from ..generate.morph.generate import generate_morph  # scikit-image, MediaPipe

            return generate_morph(config)
        raise ValueError(f"generator {config.generator} is not run by the benchmark (use prebuilt)")

    def filter_(config):
        from ..filter.run import filter_synthetic  # numpy/sklearn/MediaPipe

        return filter_synthetic(config)

    def merge(config):
        from ..filter.merge import merge as merge_set  # datasets/pyarrow

        return merge_set(config)

    return {
        "probe": Stage(ProbeConfig, probe),
        "train-classifier": Stage(TrainClassifierConfig, train),
        "generate": Stage(GenerateConfig, generate),
        "filter": Stage(FilterConfig, filter_),
        "merge": Stage(MergeConfig, merge),
    }


def run(config: BenchmarkConfig) -> int:
    from ..bench.run import run_benchmark  # pandas, matplotlib: kept out of the CLI's start-up

    result = run_benchmark(config, _stages())
    if config.dry_run:
        print(result.plan)
        return 0
    if config.push_to_hub:
        from ..bench.hub import push_study  # huggingface_hub

        push_study(result.out, config.push_to_hub, token=config.token, include_faces=config.include_faces)
    print(
        f"benchmark: {result.units} runs ({result.ran} ran, {result.skipped} already done, {len(result.failed)} failed "
        f"or skipped) in {result.seconds:.1f} s; runner overhead at most {result.overhead_s:.2f} s per run\n"
        f"  tables {result.out / 'summary.md'}; report {result.report}"
    )
    if result.failed:
        print(f"benchmark: {len(result.failed)} run(s) failed or were skipped (see summary.md)", file=sys.stderr)
        return 1
    return 0
