"""The dataset contract: the raw release, image checks, landmarks, splits, the
builder, the card, publishing, and :class:`RDFaceDataset`, the facade through
which every stage reads a build (a local folder or a Hub repo)."""

from __future__ import annotations

from .facade import RDFaceDataset, load_rdface

__all__ = ["RDFaceDataset", "load_rdface"]
