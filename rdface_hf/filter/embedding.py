"""The ``embedding`` score: cosine to the condition's centroid of frozen image embeddings.

Any ``transformers`` vision backbone works (ViT, DINOv2, CLIP's vision tower,
ConvNeXt, Swin, ...): :func:`load_backbone` takes a Hub id or a local folder
(``HF_HUB_OFFLINE=1`` reads the Hub cache) and never runs remote code. The
embedding follows the one pooling rule of :mod:`rdface_hf.dataset.backbone` (the
probe's too): a CLIP-like model's image embedding, else the pooled output, else
(no trained pooler) the first token (CLS). The score does not look at landmarks.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from accelerate import PartialState
from PIL import Image
from tqdm.auto import tqdm
from transformers import AutoImageProcessor

from .._errors import InputError
from ..dataset.backbone import Backbone as FrozenBackbone
from ..dataset.backbone import load_backbone as load_frozen_backbone


@dataclass
class Backbone:
    """A frozen vision model (:class:`rdface_hf.dataset.backbone.Backbone`), its image processor
    and its device."""

    frozen: FrozenBackbone
    processor: object
    device: object

    @property
    def how(self) -> str:
        """The pooling rule that applies (``image_features``, ``pooler`` or ``first_token``)."""
        return self.frozen.how

    def embed(self, images: Sequence[bytes], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """(N, D) float32 L2-normalised embeddings of encoded images (bytes, ``{"bytes": ...}``),
        PIL images or RGB arrays."""
        out = []
        for start in tqdm(range(0, len(images), batch_size), desc="embeddings", unit="batch", disable=not progress):
            batch = [_as_pil(im) for im in images[start : start + batch_size]]
            pixels = self.processor(images=batch, return_tensors="pt")["pixel_values"].to(self.device)
            feats = self.frozen.embed(pixels)
            out.append(torch.nn.functional.normalize(feats.float().flatten(1), dim=1).cpu().numpy())
        if not out:
            return np.zeros((0, 0), dtype=np.float32)
        return np.concatenate(out).astype(np.float32)


def _as_pil(image) -> Image.Image:
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    if isinstance(image, np.ndarray):
        return Image.fromarray(image.astype(np.uint8)).convert("RGB")
    if isinstance(image, dict):
        image = image["bytes"]
    with Image.open(io.BytesIO(image)) as im:
        return im.convert("RGB")


def load_backbone(model_id: str, *, revision: str | None = None) -> Backbone:
    """A frozen backbone on the accelerator (``accelerate`` picks the device); one line on failure."""
    frozen = load_frozen_backbone(model_id, revision=revision)
    try:
        processor = AutoImageProcessor.from_pretrained(model_id, revision=revision)
    except Exception as exc:  # a checkpoint without an image processor
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise InputError(f"cannot load vision backbone {model_id!r}: {type(exc).__name__}: {first}") from None
    device = PartialState().device
    frozen.model.to(device)
    return Backbone(frozen=frozen, processor=processor, device=device)


@dataclass(frozen=True)
class EmbeddingScorer:
    """Cosine of an image's embedding to its condition's centroid of training embeddings."""

    centroids: np.ndarray  # (C, D) unit vectors; NaN rows for conditions without a training image

    @classmethod
    def fit(cls, embeddings: np.ndarray, labels: np.ndarray, num_classes: int) -> EmbeddingScorer:
        labels = np.asarray(labels, dtype=np.int64)
        counts = np.bincount(labels, minlength=num_classes)
        sums = np.zeros((num_classes, embeddings.shape[1]))
        np.add.at(sums, labels, embeddings)
        with np.errstate(invalid="ignore", divide="ignore"):
            centroids = sums / np.linalg.norm(sums, axis=1, keepdims=True)
        centroids[counts == 0] = np.nan
        return cls(centroids)

    def score(self, embeddings: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
        c = self.centroids[np.asarray(labels, dtype=np.int64)]
        return {"score": (np.asarray(embeddings, dtype=np.float64) * c).sum(axis=1)}
