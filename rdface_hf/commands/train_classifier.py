"""``rdface train-classifier``: fine-tune a classifier per fold, select on validation, score on test."""

from __future__ import annotations

from ..classify.config import TrainClassifierConfig

NAME = "train-classifier"
CONFIG = TrainClassifierConfig
HELP = "fine-tune an image classifier per fold (best epoch on validation, scored once on the fixed test split)"
DESCRIPTION = (
    HELP + ". Any AutoModelForImageClassification checkpoint or folder (default "
    "google/vit-base-patch16-224-in21k) or timm/<name>; paper defaults (224 px, AdamW 1e-4, cosine to 1e-6, "
    "50 epochs, batch 32). Writes O/fold_K/ (model, processor, results.json, epochs.jsonl) and, over folds, "
    "O/summary.json and O/summary.md. Also runs as 'accelerate launch -m rdface_hf.cli train-classifier ...'; "
    "an interrupted run resumes when started again with the same settings."
)


def _line(fold: int, results: dict) -> str:
    test, val = results["test"], results["validation"]
    return (
        f"  fold {fold}: epoch {results['best_epoch']} selected (validation top-1 {100 * val['top_1']:.1f} %); "
        f"test top-1 {100 * test['top_1']:.1f} %, top-5 {100 * test['top_5']:.1f} %, macro-F1 {test['macro_f1']:.3f}"
    )


def run(config: TrainClassifierConfig) -> int:
    from ..classify.classifier import train_classifier  # torch: kept out of the CLI's start-up
    from ..classify.scoring import percent

    result = train_classifier(config)
    if not result.results:  # not the main process of a multi-process launch
        return 0
    done = len(result.already_done)
    if done == len(result.folds):  # a rerun of a finished run: nothing was trained
        lines = [f"already done: {config.model} on {done} fold(s) in {result.out} (nothing to train)"]
    else:
        earlier = f" ({done} already done)" if done else ""
        lines = [f"trained {config.model} on {len(result.folds) - done} fold(s){earlier} into {result.out} "]
        lines[0] += f"in {result.seconds:.1f} s"
    lines += [_line(fold, result.results[fold]) for fold in result.folds]
    if result.summary is not None:
        top1 = result.summary["rows"][0]["test"]["top_1"]
        lines.append(
            f"  test top-1 over folds {percent(top1)} % "
            f"(chance {100 * result.summary['chance_top_1']:.2f} %); table {result.out / 'summary.md'}"
        )
    if result.pushed:
        lines.append(f"  pushed fold {result.summary['best_fold']} (best on validation) to {result.pushed} (private)")
    print("\n".join(lines))
    return 0
