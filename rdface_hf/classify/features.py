"""Frozen features for the probes: ``fit_transform(splits) -> {split: (X, present)}``.

``X`` holds the rows that have a feature (``present``; a landmark probe has none for an
image without a face). Anything fitted (the Procrustes template, the scaler) is fitted on
the ``train`` split alone; embeddings are computed once per image and kept for every fold.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from sklearn.preprocessing import StandardScaler
from tqdm.auto import tqdm

from ..dataset.backbone import load_backbone
from .config import ProbeConfig
from .data import Split
from .geometry import shape_features
from .images import ImageBank, channel_stats, make_processor, normalise
from .models import preprocessing


class LandmarkFeatures:
    """Procrustes-aligned 2-D MediaPipe landmarks, standardised (template and scaler from train)."""

    def __init__(self, dataset) -> None:
        self.dataset = dataset

    def fit_transform(self, splits: Mapping[str, Split]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        points = {name: list(self.dataset.landmarks(split.rows)) for name, split in splits.items()}
        train, template = shape_features(points["train"])  # raises without any training face
        scaler = StandardScaler().fit(np.stack([x for x in train if x is not None]))
        out = {}
        for name in splits:
            feats = train if name == "train" else shape_features(points[name], template)[0]
            present = np.array([x is not None for x in feats], dtype=bool)
            rows = [x for x in feats if x is not None]
            width = len(template.ravel())
            out[name] = (scaler.transform(np.stack(rows)) if rows else np.zeros((0, width)), present)
        return out


class IdentityFeatures:
    """Frozen 128-D face-identity embeddings (dlib's ResNet, aligned from the build's landmarks);
    an image without a usable face has none (scored with the training class frequencies)."""

    def __init__(self, embedder=None) -> None:
        from ..dataset.identity import EmbeddingCache, default_embedder  # dlib: only for --model face-identity

        self.embedder = embedder if embedder is not None else default_embedder()
        self.cache = EmbeddingCache(None, getattr(self.embedder, "digest", self.embedder.name))
        self.seen: dict[str, np.ndarray] = {}

    def fit_transform(self, splits: Mapping[str, Split]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        from ..dataset.identity import EMBEDDING_DIM, embed_rows  # dlib: only for --model face-identity

        out = {}
        for name, split in splits.items():
            emb, _ = embed_rows(split.rows, self.embedder, cache=self.cache)
            present = np.isfinite(emb).all(1) if len(emb) else np.zeros(0, dtype=bool)
            rows = emb[present].astype(np.float64)
            out[name] = (rows if len(rows) else np.zeros((0, EMBEDDING_DIM)), present)
        return out


class EmbeddingFeatures:
    """Image embeddings of a frozen backbone (its own preprocessing unless ``--normalization imagenet``)."""

    def __init__(self, config: ProbeConfig) -> None:
        size, mean, std = preprocessing(
            config.model,
            image_size=config.image_size,
            normalization=config.normalization,
            revision=config.model_revision,
            token=config.token,
        )
        self.processor = make_processor(size, mean, std)
        self.backbone = load_backbone(config.model, revision=config.model_revision, token=config.token)
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self.backbone.model.to(self.device)
        self.batch_size = config.batch_size
        self.progress = config.progress
        self.bank = ImageBank(self.processor, progress=config.progress)
        self.cache: dict[str, np.ndarray] = {}

    def _embed(self, split: Split, name: str) -> None:
        ids = [i for i in dict.fromkeys(split.image_ids) if i not in self.cache]
        if not ids:
            return
        self.bank.add(split.rows, desc=f"decode {name}")
        mean, std = channel_stats(self.processor, self.device)
        pixels = self.bank.take(ids)
        bar = tqdm(range(0, len(ids), self.batch_size), desc=f"embed {name}", disable=not self.progress, leave=False)
        for start in bar:
            x = normalise(pixels[start : start + self.batch_size].to(self.device), mean, std)
            emb = self.backbone.embed(x).cpu().numpy().astype(np.float64)
            self.cache.update(zip(ids[start : start + self.batch_size], emb))

    def fit_transform(self, splits: Mapping[str, Split]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        out = {}
        for name, split in splits.items():
            self._embed(split, name)
            rows = [self.cache[i] for i in split.image_ids]
            width = next(iter(self.cache.values())).shape[0] if self.cache else 0
            out[name] = (np.stack(rows) if rows else np.zeros((0, width)), np.ones(len(rows), dtype=bool))
        return out
