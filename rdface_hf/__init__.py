"""rdface_hf: RDFace rare-disease facial image analysis, Hugging Face native.

Public entry points:

- :class:`rdface_hf.RDFaceDataset` / :func:`rdface_hf.load_rdface` -- a built
  RDFace dataset (local folder or gated Hub repo) with its standard folds.
- :func:`rdface_hf.dataset.builder.build_dataset` -- the validated builder
  (``rdface build``).
- :mod:`rdface_hf.dataset.landmarks` -- MediaPipe face landmarks.
- :mod:`rdface_hf.sim` -- the phenotype simulator (``rdface simulate``).
- ``rdface --help`` -- every command; the layout is described in the README.
"""

from __future__ import annotations

from ._version import __version__

__all__ = ["RDFaceDataset", "__version__", "load_rdface"]


def __getattr__(name: str):
    # Lazy: `import rdface_hf` (and so every `rdface` command) must not import datasets first.
    if name in ("load_rdface", "RDFaceDataset"):
        from .dataset import facade  # datasets: only when asked for

        return getattr(facade, name)
    raise AttributeError(f"module 'rdface_hf' has no attribute {name!r}")
