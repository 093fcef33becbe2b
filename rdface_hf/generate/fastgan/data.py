"""FastGAN's training data: the training split's images as one uint8 tensor, and its landmarks.

Only ``RDFaceDataset.training_split(fold)`` is read (fold K's training split,
or every non-test image with ``test``): the test split never reaches the GAN.
Images are padded to a square by repeating their edges and resized to the
model's resolution; a few hundred images fit in memory at any resolution.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from ..._errors import InputError

if TYPE_CHECKING:  # the dataset core (datasets, mediapipe) is imported where data is loaded
    from ...dataset.facade import RDFaceDataset


@dataclass
class TrainingData:
    images: torch.Tensor  # (N, 3, R, R) uint8
    labels: torch.Tensor  # (N,) int64
    ids: list[str]
    conditions: list[int]  # class indices trained
    template: np.ndarray  # (478, 2)
    prototypes: np.ndarray  # (num_classes, 478, 2), NaN without a face
    no_face: int  # training images without landmarks (kept for training, not in prototypes)
    trained_on: str  # fold_K or test
    digest: str  # sha256 over the training rows' ids and labels (what the model saw)

    def ids_by_class(self, num_classes: int) -> list[list[str]]:
        out: list[list[str]] = [[] for _ in range(num_classes)]
        for image_id, label in zip(self.ids, self.labels.tolist()):
            out[label].append(image_id)
        return out


def square_resize(pixels: np.ndarray, size: int) -> np.ndarray:
    """Pad to a square with the edge pixels (centred), then resize to ``size``."""
    h, w = pixels.shape[:2]
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    padded = np.pad(pixels, ((top, side - h - top), (left, side - w - left), (0, 0)), mode="edge")
    if side == size:
        return padded
    return np.asarray(Image.fromarray(padded).resize((size, size), Image.LANCZOS))


def load_training_data(dataset: RDFaceDataset, fold: str, conditions: str, resolution: int) -> TrainingData:
    """The training images of ``conditions`` (``all`` or abbreviations) in ``fold``'s training split."""
    # the dataset core (datasets, scipy): imported where data is loaded, not by the GPU benchmark
    from ...dataset.facade import parse_fold
    from .prototypes import fit_prototypes

    split = dataset.training_split(fold)
    wanted = set(dataset.select_conditions(conditions))
    labels_all = [int(y) for y in split["condition"]]
    rows = [i for i, y in enumerate(labels_all) if y in wanted]
    if not rows:
        raise InputError(f"{dataset.source}: no training image of the chosen conditions in fold {fold}")
    split = split.select(rows)
    landmarks = dataset.landmarks(split)
    images, points = [], []
    for i, image in enumerate(split.select_columns(["image"])["image"]):
        pixels = np.asarray(image.convert("RGB"))
        images.append(square_resize(pixels, resolution))
        face = not np.isnan(landmarks[i]).any() and np.ptp(landmarks[i][:, 0]) > 0 and np.ptp(landmarks[i][:, 1]) > 0
        size = np.array([pixels.shape[1], pixels.shape[0]], dtype=np.float64)
        points.append(landmarks[i][:, :2].astype(np.float64) * size if face else None)
    labels = [labels_all[i] for i in rows]
    ids = list(split["image_id"])
    template, prototypes = fit_prototypes(points, labels, dataset.num_classes)
    k = parse_fold(fold)
    digest = hashlib.sha256("\n".join(f"{i}\t{y}" for i, y in zip(ids, labels)).encode()).hexdigest()
    return TrainingData(
        images=torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous(),
        labels=torch.tensor(labels, dtype=torch.int64),
        ids=ids,
        conditions=sorted(set(labels)),
        template=template,
        prototypes=prototypes,
        no_face=sum(p is None for p in points),
        trained_on="test" if k is None else f"fold_{k}",
        digest=digest,
    )


def sample_batch(data: TrainingData, rng: np.random.Generator, batch_size: int, device) -> tuple[torch.Tensor, ...]:
    """A batch in [-1, 1] with random horizontal flips, and its labels (indices and flips from ``rng``)."""
    n = len(data.labels)
    index = rng.choice(n, size=batch_size, replace=n < batch_size)
    flips = rng.random(batch_size) < 0.5
    images = data.images[torch.from_numpy(index)].to(device=device, dtype=torch.float32) / 127.5 - 1.0
    flip = torch.from_numpy(flips).to(device)
    images = torch.where(flip.view(-1, 1, 1, 1), images.flip(-1), images)
    return images, data.labels[torch.from_numpy(index)].to(device)
