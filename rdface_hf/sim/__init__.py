"""The phenotype simulator: RDFace-shaped raw releases with known ground truth.

``rdface simulate OUT`` (or :func:`simulate`) writes ``rd_images/<abbr>/*`` and
``disease_images.csv`` in the authors' layout, where every "condition" is a
named combination of dysmorphic features (hypertelorism, long philtrum, ...)
applied with a smooth landmark-driven warp to simulated individuals made from
public-domain face photos. ``phenotypes.json`` holds the truth.

Modules: :mod:`.config` (the settings), :mod:`.features` (feature catalogue
and measurements), :mod:`.warp` (thin-plate splines, fold checks),
:mod:`.identities` (base faces, shape space, individuals), :mod:`.render`,
:mod:`.conditions`, :mod:`.simulate` (the stage), :mod:`.preview` (contact sheet).
"""

from __future__ import annotations

from .config import SimConfig
from .simulate import SimResult, simulate

__all__ = ["SimConfig", "SimResult", "simulate"]
