"""``rdface probe``: baselines that need no fine-tuning, under the same folds and metrics."""

from __future__ import annotations

from ..classify.config import ProbeConfig

NAME = "probe"
CONFIG = ProbeConfig
HELP = "frozen-embedding and landmark-geometry baselines per fold (same folds, metrics and summary as train-classifier)"
DESCRIPTION = (
    HELP + ". --model landmarks: Procrustes-aligned MediaPipe landmarks; --model face-identity: dlib's 128-D "
    "face-recognition embeddings (pip install 'rdface_hf[face]'); --model ID: frozen embeddings of any "
    "backbone. Methods: centroid (cosine to each condition's mean training embedding, GestaltMatcher-style) and "
    "logistic (logistic regression, C chosen on validation). Writes O/fold_K/results.json, O/summary.json and "
    "O/summary.md."
)


def run(config: ProbeConfig) -> int:
    from ..classify.probe import run_probe  # torch, sklearn: kept out of the CLI's start-up
    from ..classify.scoring import percent

    result = run_probe(config)
    lines = [f"probed {config.model} on {len(result.folds)} fold(s) into {result.out} in {result.seconds:.1f} s"]
    for row in result.summary["rows"]:
        top1, top5 = row["test"]["top_1"], row["test"]["top_5"]
        lines.append(f"  {row['name']}: test top-1 {percent(top1)} %, top-5 {percent(top5)} %")
    lines.append(f"  chance top-1 {100 * result.summary['chance_top_1']:.2f} %; table {result.out / 'summary.md'}")
    print("\n".join(lines))
    return 0
