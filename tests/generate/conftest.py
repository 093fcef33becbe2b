"""Fixtures shared by the generator tests: rebuilt datasets whose test split can be poisoned (leak tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


def _poison(row, index):
    from PIL import Image

    rng = np.random.default_rng(index)
    noise = Image.fromarray(rng.integers(0, 256, size=(128, 128, 3), dtype=np.uint8))
    return {"image": noise, "landmarks": rng.uniform(0, 1, size=(478, 3)).astype(np.float32).tolist()}


@pytest.fixture
def rebuilt(sim_build, write_built_dataset):
    """``rebuilt(root, poison=False)``: sim_build's training images (every non-test image, as the
    always-train shard) and its test split, whose images and landmarks are noise with ``poison``."""
    from rdface_hf.dataset import RDFaceDataset

    def make(root: Path, *, poison: bool = False) -> Path:
        rd = RDFaceDataset(sim_build)
        test = rd.test
        if poison:
            test = test.map(_poison, with_indices=True, features=test.features)
        return write_built_dataset(root, train=rd.training_split("test"), test=test)

    return make
