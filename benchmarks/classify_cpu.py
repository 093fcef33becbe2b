"""CPU benchmark of the classification baselines on the simulator's default dataset.

One command: simulate the default release (103 conditions, seed 0) -> build it -> under the
standard 5 folds, ``rdface probe`` with the landmark geometry and with a frozen random small
ViT (a no-learning control), and ``rdface train-classifier`` with a small ViT trained from
scratch. Each row is scored on the fixed test split, mean ± SD over the 5 fold models.

    python benchmarks/classify_cpu.py                 # minutes on 2 cores (OMP_NUM_THREADS=1 on a busy machine)
    python benchmarks/classify_cpu.py --keep bench_out  # keep the dataset and the outputs
    python benchmarks/classify_cpu.py --dataset bench_out/rdface  # rerun on that build

Prints one JSON line (the figures of ``benchmarks/README.md``, section "Classifier").
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def small_vit(folder: Path, *, image_size: int, classes: int) -> Path:
    """A small ViT (4 layers, 128 wide, patch 8), random weights, with its processor."""
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    torch.manual_seed(0)
    config = ViTConfig(
        image_size=image_size,
        patch_size=8,
        hidden_size=128,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=256,
        num_labels=classes,
    )
    ViTForImageClassification(config).save_pretrained(folder)
    ViTImageProcessor(size={"height": image_size, "width": image_size}).save_pretrained(folder)
    return folder


def _row(row: dict) -> dict:
    test = row["test"]
    return {
        metric: {"mean": round(100 * test[metric]["mean"], 2), "sd": round(100 * test[metric]["sd"], 2)}
        for metric in ("top_1", "top_5", "top_10", "top_30", "macro_f1", "balanced_accuracy")
    }


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def run(work: Path, args) -> dict:
    from rdface_hf.classify.classifier import train_classifier
    from rdface_hf.classify.config import ProbeConfig, TrainClassifierConfig
    from rdface_hf.classify.probe import run_probe
    from rdface_hf.dataset import RDFaceDataset
    from rdface_hf.dataset.builder import BuildConfig, build_dataset
    from rdface_hf.sim import SimConfig, simulate

    figures: dict = {"benchmark": "classify_cpu", "commit": _commit(), "date": time.strftime("%Y-%m-%d")}
    dataset = args.dataset or work / "rdface"
    if args.dataset is None:
        t0 = time.perf_counter()
        simulate(SimConfig(out=str(work / "raw"), seed=args.seed), progress=False)
        figures["simulate_seconds"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        build_dataset(BuildConfig(raw=str(work / "raw"), out=str(dataset), progress=False))
        figures["build_seconds"] = round(time.perf_counter() - t0, 1)
    built = RDFaceDataset(dataset)
    figures["dataset_digest"] = built.digest[:16]
    figures["images"] = len(built.default()["train"]) + len(built.test)
    figures["conditions"] = built.num_classes
    rows = {}
    common = {"dataset": str(dataset), "fold": "all", "progress": False}
    t0 = time.perf_counter()
    probe = run_probe(ProbeConfig(model="landmarks", output_dir=str(work / "probe_landmarks"), **common))
    figures["probe_landmarks_seconds"] = round(time.perf_counter() - t0, 1)
    rows.update({row["name"]: _row(row) for row in probe.summary["rows"]})
    vit = small_vit(work / "small_vit", image_size=args.image_size, classes=built.num_classes)
    t0 = time.perf_counter()
    probe = run_probe(ProbeConfig(model=str(vit), output_dir=str(work / "probe_random_vit"), **common))
    figures["probe_random_vit_seconds"] = round(time.perf_counter() - t0, 1)
    rows.update({f"random small ViT (frozen) + {row['method']}": _row(row) for row in probe.summary["rows"]})
    t0 = time.perf_counter()
    trained = train_classifier(
        TrainClassifierConfig(
            model=str(vit),
            output_dir=str(work / "small_vit_scratch"),
            epochs=args.epochs,
            batch_size=32,
            learning_rate=args.learning_rate,
            min_learning_rate=1e-6,
            augment=True,
            **common,
        )
    )
    figures["train_small_vit_seconds"] = round(time.perf_counter() - t0, 1)
    rows[f"small ViT from scratch ({args.epochs} epochs, augment)"] = _row(trained.summary["rows"][0])
    figures["chance_top_1"] = round(100 / built.num_classes, 2)
    figures["test_images"] = trained.summary["test_images"]
    figures["rows"] = rows
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep the dataset and outputs in this (new) folder")
    parser.add_argument("--seed", type=int, default=0, help="simulator seed")
    parser.add_argument("--dataset", type=Path, help="an existing build to use instead of simulating one")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--image-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
        figures = run(args.keep, args)
    else:
        with tempfile.TemporaryDirectory(prefix="rdface-classify-bench-") as tmp:
            figures = run(Path(tmp), args)
    figures["total_seconds"] = round(time.perf_counter() - start, 1)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
