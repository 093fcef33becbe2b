"""Fixtures of the simulator tests: a small release, a plain patient, a plain photo."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from rdface_hf.sim import SimConfig, simulate
from rdface_hf.sim.bank import build_bank
from rdface_hf.sim.identities import Identity

SMALL = dict(conditions=6, per_condition_mean=2.5, image_size=128, seed=7)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _plain_identity(bank, **changes) -> Identity:
    """The built-in pair half and half, 8 years old, neutral, no shape-space change."""
    ident = Identity(
        members=(0, 1),
        weights=(0.5, 0.5),
        hair_donor=0,
        mouth_donor=1,
        age=8.0,
        shape_coefficients=(0.0,) * len(bank.space.sds),
        expression="neutral",
        smile=0.0,
        skin_rgb=(220.0, 180.0, 150.0),
        hair_colour="brown",
        hair_rgb=(95.0, 65.0, 42.0),
        eyebrows=0.0,
        hair_volume=1.0,
        hair_length=0.0,
    )
    return dataclasses.replace(ident, **changes)


@pytest.fixture(scope="session")
def small_sim_settings() -> dict:
    """The settings of ``small_release`` (6 conditions, 15 images rendered at 128 px, seed 7)."""
    return dict(SMALL)


@pytest.fixture(scope="session")
def release_files():
    """``release_files(folder)``: relative path -> bytes of every file."""
    return _files


@pytest.fixture(scope="session")
def bank(landmarker_model):
    """The built-in identity bank (built once per process)."""
    return build_bank()


@pytest.fixture(scope="session")
def plain_identity():
    """``plain_identity(bank, **changes)``: an average patient of the built-in pair."""
    return _plain_identity


@pytest.fixture(scope="session")
def small_release(tmp_path_factory, landmarker_model) -> Path:
    out = tmp_path_factory.mktemp("sim") / "release"
    simulate(SimConfig(out=str(out), workers=1, preview=True, **SMALL), progress=False)
    return out
