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

import sys
import types

from .config import SimConfig

__all__ = ["SimConfig", "SimResult", "simulate"]


class _Simulator(types.ModuleType):
    """The package imports the image code (scipy, OpenCV) on first use of ``simulate`` or
    ``SimResult``, so that the CLI reads :class:`SimConfig` fast. ``simulate`` is both a
    submodule and its function: the package attribute stays the function."""

    @property
    def simulate(self):
        from .simulate import simulate  # the image code: on first use, kept out of the CLI's start-up

        return simulate

    @simulate.setter
    def simulate(self, value) -> None:  # the import system sets the submodule here; the function stays
        pass

    @property
    def SimResult(self):
        from .simulate import SimResult  # the image code: on first use, kept out of the CLI's start-up

        return SimResult


sys.modules[__name__].__class__ = _Simulator
