"""Fixtures of the classify tests: tiny seeded models, learnable built datasets of exact content."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CLASSES = ["Alpha syndrome", "Beta syndrome", "Gamma syndrome", "Delta syndrome"]
COLOURS = [(220, 40, 40), (40, 200, 60), (50, 70, 230), (230, 210, 40)]


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Two xdist workers on two shared cores: more threads only spin."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def colour_image(label: int, index: int, *, size: int = 24, variant: int = 0) -> np.ndarray:
    """A noisy image whose mean colour is the class: learnable in a few steps."""
    rng = np.random.default_rng(1000 * label + index + 7919 * variant)
    base = np.array(COLOURS[label], dtype=np.float64)
    pixels = base + rng.normal(0, 25, size=(size, size, 3))
    return np.clip(pixels, 0, 255).astype(np.uint8)


def _split(rows: list[tuple[int, int]], names: list[str], *, variant: int = 0, prefix: str = "img"):
    """A ``datasets.Dataset`` in the built schema (image, image_id, condition, landmarks, ...)."""
    from datasets import Array2D, ClassLabel, Dataset, Features, Value
    from datasets import Image as ImageFeature

    features = Features(
        {
            "image": ImageFeature(),
            "image_id": Value("string"),
            "condition": ClassLabel(names=names),
            "disease_abbr": Value("string"),
            "landmarks": Array2D((478, 3), "float32"),
        }
    )
    mean_face = np.random.default_rng(99).uniform(0.2, 0.8, size=(478, 3)).astype(np.float32)
    data = {"image": [], "image_id": [], "condition": [], "disease_abbr": [], "landmarks": []}
    for label, index in rows:
        data["image"].append({"bytes": _png(colour_image(label, index, variant=variant)), "path": None})
        data["image_id"].append(f"rdf-{prefix}{label}x{index:03d}")
        data["condition"].append(label)
        data["disease_abbr"].append(f"C{label}")
        rng = np.random.default_rng(label * 100 + index + 7919 * variant)
        points = mean_face + rng.normal(0, 0.004, size=mean_face.shape).astype(np.float32)
        points[label * 60 : label * 60 + 60, 0] += 0.03  # the "phenotype" in the shape
        data["landmarks"].append(points)
    return Dataset.from_dict(data, features=features)


def _write_folds(root: Path, parts: dict[str, object], folds: int) -> Path:
    from huggingface_hub import DatasetCard, DatasetCardData

    from rdface_hf.dataset.card import dataset_configs

    (root / "data").mkdir(parents=True, exist_ok=True)
    files = {}
    for name, split in parts.items():
        tmp = root / "data" / f"{name}.tmp"
        split.to_parquet(str(tmp))
        digest = hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]
        files[name] = f"data/{name}-{digest}.parquet"
        tmp.rename(root / files[name])
    card = DatasetCard.from_template(
        DatasetCardData(configs=dataset_configs(folds, files)), template_str="---\n{{ card_data }}\n---\n"
    )
    (root / "README.md").write_text(str(card), encoding="utf-8")
    (root / "validation_report.csv").write_text("image_name,disease_abbr,status,reason,row,image_id\n")
    return root


def _make_colour_dataset(
    root: Path,
    *,
    folds: int = 2,
    per_fold: int = 2,
    always: int = 2,
    test: int = 2,
    test_variant: int = 0,
    classes: int = 4,
) -> Path:
    """``folds`` cross-validation parts of ``per_fold`` images per class, ``always`` images per
    class in every training split, ``test`` per class in the fixed test split (``test_variant``
    changes only the test images' pixels and landmarks)."""
    names = CLASSES[:classes]
    index = iter(range(10_000))
    parts = {"train-always": _split([(c, next(index)) for c in range(classes) for _ in range(always)], names)}
    for k in range(folds):
        parts[f"cv-{k}"] = _split([(c, next(index)) for c in range(classes) for _ in range(per_fold)], names)
    test_rows = [(c, 900 + i) for c in range(classes) for i in range(test)]
    parts["test"] = _split(test_rows, names, variant=test_variant, prefix="test")
    return _write_folds(root, parts, folds)


@pytest.fixture
def colour_pixels():
    return colour_image


@pytest.fixture
def make_colour_dataset():
    return _make_colour_dataset


@pytest.fixture(scope="session")
def colour_dataset(tmp_path_factory) -> Path:
    """Four colour-coded conditions, 2 folds (read-only: shared by tests)."""
    return _make_colour_dataset(tmp_path_factory.mktemp("colour") / "rdface")


def _tiny_vit(folder: Path, num_labels: int = 3) -> Path:
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    torch.manual_seed(0)
    config = ViTConfig(
        image_size=32,
        patch_size=8,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=num_labels,
    )
    ViTForImageClassification(config).save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_vit(tmp_path_factory) -> Path:
    """A seeded 2-layer ViT (32 px, 3 ImageNet-style labels) and its processor, in a folder."""
    return _tiny_vit(tmp_path_factory.mktemp("models") / "tiny-vit")


@pytest.fixture
def train_args(tiny_vit):
    """CLI arguments of a fast train-classifier run (add --dataset, --output-dir, ...)."""

    def args(dataset, out, *extra: str) -> list[str]:
        return [
            "train-classifier",
            "--dataset",
            str(dataset),
            "--model",
            str(tiny_vit),
            "--output-dir",
            str(out),
            "--epochs",
            "3",
            "--batch-size",
            "4",
            "--learning-rate",
            "3e-3",
            "--no-progress",
            *extra,
        ]

    return args
