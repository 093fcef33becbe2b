"""rdface_hf: RDFace rare-disease facial image analysis, Hugging Face native.

Public entry points:

- :func:`rdface_hf.load_rdface` -- load a built RDFace dataset (local folder or
  gated Hub repo) with its standard folds.
- :func:`rdface_hf.builder.build_dataset` -- the validated builder
  (``rdface build``).
- :mod:`rdface_hf.landmarks` -- MediaPipe face landmarks and Procrustes.
- :mod:`rdface_hf.sim` -- the phenotype simulator (``rdface simulate``).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load_rdface"]


def __getattr__(name: str):
    # Lazy: importing the package must not import datasets / mediapipe.
    if name == "load_rdface":
        from .hub import load_rdface

        return load_rdface
    raise AttributeError(f"module 'rdface_hf' has no attribute {name!r}")
