"""The ``embedding`` score: cosine to the condition's centroid of frozen image embeddings.

Any ``transformers`` vision backbone works (ViT, DINOv2, CLIP's vision tower,
ConvNeXt, Swin, ...): :func:`load_backbone` takes a Hub id or a local folder
(``HF_HUB_OFFLINE=1`` reads the Hub cache) and never runs remote code. The
embedding is the model's pooled output (``get_image_features`` for CLIP-like
models), or the mean of its last hidden states when the checkpoint has no
trained pooler. The score does not look at landmarks.
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
from transformers import AutoImageProcessor, AutoModel

from .._errors import InputError


@dataclass
class Backbone:
    """A frozen vision model, its image processor and how to pool it."""

    model: object
    processor: object
    use_pooler: bool
    device: object

    def embed(self, images: Sequence[bytes], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """(N, D) float32 L2-normalised embeddings of encoded images (bytes, ``{"bytes": ...}``),
        PIL images or RGB arrays."""
        out = []
        for start in tqdm(range(0, len(images), batch_size), desc="embeddings", unit="batch", disable=not progress):
            batch = [_as_pil(im) for im in images[start : start + batch_size]]
            pixels = self.processor(images=batch, return_tensors="pt")["pixel_values"].to(self.device)
            with torch.inference_mode():
                feats = self._features(pixels)
            out.append(torch.nn.functional.normalize(feats.float().flatten(1), dim=1).cpu().numpy())
        if not out:
            return np.zeros((0, 0), dtype=np.float32)
        return np.concatenate(out).astype(np.float32)

    def _features(self, pixels):
        if hasattr(self.model, "get_image_features"):
            result = self.model.get_image_features(pixel_values=pixels)
        else:
            result = self.model(pixel_values=pixels)
        if torch.is_tensor(result):
            return result
        pooled = getattr(result, "pooler_output", None)
        if pooled is not None and self.use_pooler:
            return pooled
        hidden = result.last_hidden_state
        return hidden.mean(dim=1) if hidden.ndim == 3 else hidden.mean(dim=tuple(range(2, hidden.ndim)))


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
    try:
        processor = AutoImageProcessor.from_pretrained(model_id, revision=revision)
        model, info = AutoModel.from_pretrained(
            model_id, revision=revision, output_loading_info=True, use_safetensors=True
        )
    except Exception as exc:  # no such id or folder, offline without a cache, not a vision model
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        raise InputError(f"cannot load vision backbone {model_id!r}: {type(exc).__name__}: {first}") from None
    missing = [k for k in info.get("missing_keys", []) if "pooler" in k or "projection" in k]
    device = PartialState().device
    model = model.to(device).eval().requires_grad_(False)
    return Backbone(model=model, processor=processor, use_pooler=not missing, device=device)


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
