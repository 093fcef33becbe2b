"""The dataset contract: the raw release, image checks, landmarks, splits, the
builder, the card, publishing, and :class:`RDFaceDataset`, the facade through
which every stage reads a build (a local folder or a Hub repo)."""

from __future__ import annotations

__all__ = ["RDFaceDataset", "load_rdface"]


def __getattr__(name: str):
    # Lazy: importing a config of the dataset package (the CLI's start-up) must not import datasets.
    if name in __all__:
        from . import facade

        return getattr(facade, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
