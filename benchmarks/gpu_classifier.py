"""GPU benchmark of ``rdface train-classifier``: ViT-B/16 training throughput and a 5-fold run.

Self-contained: random ViT-B/16 weights at the real shapes (nothing is downloaded) and a
random RDFace-shaped dataset (456 images of 103 conditions, 224 px, the standard folds).

1. **Throughput**: training images/s of ViT-B/16 (103 classes) at batch 256 with the
   recipe train-classifier uses on a GPU: bf16 autocast, SDPA attention, fused AdamW,
   uint8 images already on the device (normalised per batch). Also measured: eager attention
   (the recipe of the 2,509 img/s anchor on one H100) and batch 32 (the paper's batch).
   Goal: at least 3,500 img/s at batch 256.
2. **5-fold run**: ``train_classifier`` itself (the package's code path: accelerate, bf16,
   validation every epoch, best-epoch selection, test scoring, saving) with the paper's
   settings: 5 folds x 50 epochs x batch 32. Goal: under 3 minutes.

    python benchmarks/gpu_classifier.py            # one GPU, a few minutes
    python benchmarks/gpu_classifier.py --smoke    # tiny sizes on the CPU (tests run this)

Prints one JSON line of figures.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ANCHOR_IMAGES_PER_S = 2509  # ViT-B/16, bf16 autocast, batch 256, eager PyTorch, one H100 (DESIGN.md)
GOAL_IMAGES_PER_S = 3500
GOAL_FOLDS_SECONDS = 180


def vit_config(smoke: bool, classes: int):
    from transformers import ViTConfig

    if smoke:
        return ViTConfig(
            image_size=32,
            patch_size=8,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            num_labels=classes,
        )
    return ViTConfig(num_labels=classes)  # ViT-B/16 at 224 px: 12 layers, 768 wide, 86 M parameters


def throughput(
    config, *, batch: int, steps: int, warmup: int, attention: str, device, bf16: bool, compile: bool = False
) -> float:
    """Training images/s: uint8 batch on the device -> normalise -> forward/backward -> fused AdamW."""
    from transformers import AutoModelForImageClassification

    if device.type == "cuda":
        torch.cuda.empty_cache()  # the previous measurement's model is gone
    torch.manual_seed(0)
    model = AutoModelForImageClassification.from_config(config, attn_implementation=attention).to(device).train()
    assert model.config._attn_implementation == attention
    forward = torch.compile(model) if compile else model  # default mode: no autotuning
    fused = device.type == "cuda"
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4, fused=fused or None)
    size = config.image_size
    pixels = torch.randint(0, 256, (batch * 2, 3, size, size), dtype=torch.uint8, device=device)
    labels = torch.randint(0, config.num_labels, (batch * 2,), device=device)
    mean = torch.tensor([0.485, 0.456, 0.406], device=device).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=device).view(1, 3, 1, 1)

    def step(i: int) -> None:
        rows = slice((i % 2) * batch, (i % 2 + 1) * batch)
        x = (pixels[rows].float() / 255.0 - mean) / std
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            logits = forward(pixel_values=x).logits
        loss = torch.nn.functional.cross_entropy(logits.float(), labels[rows])
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    for i in range(warmup):
        step(i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for i in range(steps):
        step(i)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batch * steps / (time.perf_counter() - start)


def _png(rng, size: int) -> bytes:
    small = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(small).resize((size, size), Image.BILINEAR).save(buf, format="PNG")
    return buf.getvalue()


def write_dataset(root: Path, *, images: int, classes: int, folds: int, size: int, seed: int = 0) -> Path:
    """A random build in the RDFace layout: 25 % test, the rest dealt over ``folds`` parts."""
    from datasets import ClassLabel, Dataset, Features, Image, Value
    from huggingface_hub import DatasetCard, DatasetCardData

    from rdface_hf.dataset.card import dataset_configs

    rng = np.random.default_rng(seed)
    labels = np.arange(images) % classes
    features = Features(
        {
            "image": Image(),
            "image_id": Value("string"),
            "condition": ClassLabel(names=[f"Condition {c:03d}" for c in range(classes)]),
        }
    )
    order = rng.permutation(images)
    n_test = images // 4
    parts = {"test": order[:n_test]}
    for k in range(folds):
        parts[f"cv-{k}"] = order[n_test:][k::folds]
    (root / "data").mkdir(parents=True)
    files = {}
    for name, rows in parts.items():
        data = {
            "image": [{"bytes": _png(rng, size), "path": None} for _ in rows],
            "image_id": [f"rdf-{i:016x}" for i in rows],
            "condition": [int(labels[i]) for i in rows],
        }
        tmp = root / "data" / f"{name}.tmp"
        Dataset.from_dict(data, features=features).to_parquet(str(tmp))
        files[name] = f"data/{name}-{hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]}.parquet"
        tmp.rename(root / files[name])
    card = DatasetCard.from_template(
        DatasetCardData(configs=dataset_configs(folds, files)), template_str="---\n{{ card_data }}\n---\n"
    )
    (root / "README.md").write_text(str(card), encoding="utf-8")
    return root


def five_fold_run(args, config, device) -> dict:
    """``train_classifier`` over every fold with random ViT-B/16 weights; wall time and per-fold figures."""
    from transformers import ViTForImageClassification, ViTImageProcessor

    from rdface_hf.classify.classifier import train_classifier
    from rdface_hf.classify.config import TrainClassifierConfig

    with tempfile.TemporaryDirectory(prefix="rdface-gpu-bench-") as tmp:
        tmp = Path(tmp)
        dataset = write_dataset(
            tmp / "rdface", images=args.images, classes=args.classes, folds=args.folds, size=config.image_size
        )
        torch.manual_seed(0)
        ViTForImageClassification(config).save_pretrained(tmp / "model")
        ViTImageProcessor(size={"height": config.image_size, "width": config.image_size}).save_pretrained(tmp / "model")
        run = TrainClassifierConfig(
            dataset=str(dataset),
            model=str(tmp / "model"),
            output_dir=str(tmp / "out"),
            fold="all",
            epochs=args.epochs,
            batch_size=args.fold_batch,
            progress=False,
            mixed_precision="bf16" if device.type == "cuda" else "no",
        )
        start = time.perf_counter()
        result = train_classifier(run)
        seconds = time.perf_counter() - start
        per_epoch = [
            json.loads(line)["train_images_per_s"]
            for fold in result.folds
            for line in (tmp / "out" / f"fold_{fold}" / "epochs.jsonl").read_text().splitlines()
        ]
    return {
        "five_fold_seconds": round(seconds, 1),
        "folds": len(result.folds),
        "epochs": args.epochs,
        "fold_batch": args.fold_batch,
        "fold_train_images_per_s_median": round(float(np.median(per_epoch)), 1),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes on the CPU (a test of the script)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=8)
    parser.add_argument("--images", type=int, default=456)
    parser.add_argument("--classes", type=int, default=103)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--fold-batch", type=int, default=32)
    parser.add_argument("--skip-folds", action="store_true", help="throughput only")
    parser.add_argument("--compile", action="store_true", help="also measure torch.compile (default mode)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.batch_size, args.steps, args.warmup = 8, 2, 1
        args.images, args.classes, args.folds, args.epochs, args.fold_batch = 40, 5, 2, 2, 8
    device = torch.device("cuda" if torch.cuda.is_available() and not args.smoke else "cpu")
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    config = vit_config(args.smoke, args.classes)
    bf16 = device.type == "cuda"
    common = {"steps": args.steps, "warmup": args.warmup, "device": device, "bf16": bf16}
    figures = {
        "benchmark": "gpu_classifier",
        "smoke": args.smoke,
        "device": torch.cuda.get_device_name(0) if device.type == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "model": "ViT-B/16 (random weights)" if not args.smoke else "tiny ViT (smoke)",
        "train_images_per_s": round(throughput(config, batch=args.batch_size, attention="sdpa", **common), 1),
        "train_images_per_s_eager_attention": round(
            throughput(config, batch=args.batch_size, attention="eager", **common), 1
        ),
        "train_images_per_s_batch_32": round(
            throughput(config, batch=min(32, args.batch_size), attention="sdpa", **common), 1
        ),
        "batch_size": args.batch_size,
        "anchor_images_per_s": ANCHOR_IMAGES_PER_S,
        "goal_images_per_s": GOAL_IMAGES_PER_S,
    }
    figures["speedup_vs_anchor"] = round(figures["train_images_per_s"] / ANCHOR_IMAGES_PER_S, 3)
    if args.compile:
        compiled = throughput(config, batch=args.batch_size, attention="sdpa", compile=True, **common)
        figures["train_images_per_s_compiled"] = round(compiled, 1)
    if not args.skip_folds:
        figures.update(five_fold_run(args, config, device))
        figures["goal_five_fold_seconds"] = GOAL_FOLDS_SECONDS
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
