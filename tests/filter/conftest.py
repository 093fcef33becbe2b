"""Fixtures of the filter tests: built datasets and synthetic sets of exactly known landmarks.

Faces are 478-point landmark sets: one mean face, a little identity noise, a
random similarity transform (Procrustes removes it), and for an affected face
its condition's phenotype: one region moved (Alpha: eyes, Beta: mouth, Gamma: jaw).
Images are small distinct pictures tinted by condition; a stand-in landmarker
returns the landmarks each image was made with (``None``: no face).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CLASSES = ["Alpha syndrome", "Beta syndrome", "Gamma syndrome"]
ABBRS = ["ALP", "BET", "GAM"]
PHENOTYPE = {0: "eyes", 1: "mouth", 2: "jaw"}
TINTS = [(200, 90, 90), (90, 200, 90), (90, 90, 200)]


def face(label: int | None, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """(478, 3) normalised landmarks of one face; ``label=None``: unaffected."""
    from rdface_hf.filter.shapes import region_indices

    pts = np.random.default_rng(99).uniform(0.3, 0.7, size=(478, 3))
    pts = pts + rng.normal(0.0, 0.004, size=pts.shape)
    if label is not None:
        idx = region_indices()[PHENOTYPE[label]]
        pts[idx, 0] += 0.03 * strength * np.sign(pts[idx, 0] - 0.5)  # the region widens
        pts[idx, 1] += 0.02 * strength
    theta, scale = rng.uniform(-0.2, 0.2), rng.uniform(0.9, 1.1)
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    pts[:, :2] = ((pts[:, :2] - 0.5) @ rot.T) * scale + 0.5 + rng.uniform(-0.02, 0.02, size=2)
    return pts.astype(np.float32)


def picture(label: int, seed: int, size: int = 32) -> np.ndarray:
    """A distinct small picture tinted by ``label``."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 80, size=(4, 4, 3)) + np.array(TINTS[label])
    big = Image.fromarray(np.clip(small, 0, 255).astype(np.uint8)).resize((size, size), Image.BICUBIC)
    return np.asarray(big)


def png(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return buf.getvalue()


class StubLandmarker:
    """Returns the landmarks an image was made with (by pixel hash); ``None`` for the rest."""

    def __init__(self) -> None:
        self.known: dict[str, np.ndarray | None] = {}
        self.calls = 0

    @staticmethod
    def key(pixels: np.ndarray) -> str:
        return hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest()

    def register(self, pixels: np.ndarray, points: np.ndarray | None) -> None:
        self.known[self.key(pixels)] = points

    def detect(self, image):
        from rdface_hf.dataset.landmarks import FaceLandmarks

        self.calls += 1
        pixels = np.asarray(image)
        points = self.known.get(self.key(pixels))
        if points is None:
            return None
        box = np.concatenate([points[:, :2].min(0), points[:, :2].max(0)]).astype(np.float32)
        return FaceLandmarks(points=points, box=box, width=pixels.shape[1], height=pixels.shape[0])


def split(rows: list[tuple[int, int, np.ndarray | None]], prefix: str, seed_base: int):
    """A built-schema ``datasets.Dataset``: rows of (label, index, landmarks or None)."""
    from datasets import Array2D, ClassLabel, Dataset, Features, Value
    from datasets import Image as ImageFeature

    features = Features(
        {
            "image": ImageFeature(),
            "image_id": Value("string"),
            "condition": ClassLabel(names=CLASSES),
            "disease_abbr": Value("string"),
            "landmarks": Array2D((478, 3), "float32"),
        }
    )
    data = {k: [] for k in features}
    for label, index, points in rows:
        data["image"].append({"bytes": png(picture(label, seed_base + 100 * label + index)), "path": None})
        data["image_id"].append(f"rdf-{prefix}{label}x{index:03d}")
        data["condition"].append(label)
        data["disease_abbr"].append(ABBRS[label])
        data["landmarks"].append(points)
    return Dataset.from_dict(data, features=features)


def write_dataset(
    root: Path, write_built_dataset, *, test_variant: int = 0, train_per_class: int = 5, validation_variant: int = 0
) -> Path:
    """Train (always-train), fold-0 validation and test splits; ``test_variant`` changes only the
    test split, ``validation_variant`` only the validation split."""
    if root.exists():
        shutil.rmtree(root)
    rng = np.random.default_rng(5)
    train = [(c, i, face(c, rng)) for c in range(3) for i in range(train_per_class)]
    vrng = rng if validation_variant == 0 else np.random.default_rng(2000 + validation_variant)
    validation = [(c, 50 + i, face((c + validation_variant) % 3, vrng, 1.0 + 3.0 * validation_variant))
                  for c in range(3) for i in range(2)]  # fmt: skip
    trng = np.random.default_rng(1000 + test_variant)
    test = [(c, 80 + i, face((c + test_variant) % 3, trng, 3.0 * test_variant + 1)) for c in range(3) for i in range(2)]
    return write_built_dataset(
        root,
        train=split(train, "tr", 0),
        validation=split(validation, "va", 5000),
        test=split(test, "te", 9000 + 77 * test_variant),
    )


def write_synthetic(root: Path, landmarker: StubLandmarker, *, trained_on: str = "fold_0", no_face: int = 2) -> Path:
    """Per condition: 3 right faces, 2 faces of the next condition, 1 unaffected; plus ``no_face`` faceless images.

    Each row's ``params`` JSON says what it truly is (``truth``: right / wrong / unaffected / no_face).
    """
    from rdface_hf.dataset.synthetic import SyntheticImage, SyntheticSetWriter, synthetic_card

    rng = np.random.default_rng(11)
    writer = SyntheticSetWriter(root, CLASSES, shard_size=7)
    plan = []
    for c in range(3):
        plan += [(c, c, "right")] * 3 + [(c, (c + 1) % 3, "wrong")] * 2 + [(c, None, "unaffected")]
    plan += [(k % 3, None, "no_face") for k in range(no_face)]
    for seed, (label, true, truth) in enumerate(plan, start=1):
        pixels = picture(label, 20000 + seed)
        landmarker.register(pixels, None if truth == "no_face" else face(true, rng))
        writer.add(
            SyntheticImage(
                image=pixels,
                condition=label,
                generator="morph",
                source="test",
                seed=seed,
                trained_on=trained_on,
                params={"truth": truth},
            )
        )
    writer.finish(synthetic_card(title="test set", description="made by a test", generator="morph",
                                 source_dataset="toy"))  # fmt: skip
    (root / "generation_config.json").write_text(json.dumps({"stage": "generate", "generator": "morph"}))
    return root


@pytest.fixture
def filter_inputs(tmp_path, write_built_dataset):
    """``(dataset folder, synthetic set folder, stand-in landmarker)``."""
    landmarker = StubLandmarker()
    dataset = write_dataset(tmp_path / "rdface", write_built_dataset)
    synthetic = write_synthetic(tmp_path / "synthetic", landmarker)
    return dataset, synthetic, landmarker


@pytest.fixture
def toy():
    """The factories of this module (fixtures may not be imported)."""
    import types

    return types.SimpleNamespace(
        face=face, picture=picture, png=png, split=split, write_dataset=write_dataset,
        write_synthetic=write_synthetic, StubLandmarker=StubLandmarker, CLASSES=CLASSES, ABBRS=ABBRS,
        PHENOTYPE=PHENOTYPE,
    )  # fmt: skip


@pytest.fixture(scope="session")
def tiny_vit(tmp_path_factory) -> Path:
    """A tiny seeded ViT and its image processor, saved as a local model folder."""
    import torch
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    torch.manual_seed(0)
    config = ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=64)  # fmt: skip
    folder = tmp_path_factory.mktemp("tiny_vit")
    ViTModel(config, add_pooling_layer=False).save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder
