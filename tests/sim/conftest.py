"""Fixtures of the simulator tests: a small release, a plain identity, measured features."""

from __future__ import annotations

from pathlib import Path

import pytest

from rdface_hf.dataset.landmarks import FaceLandmarker
from rdface_hf.sim import SimConfig, simulate
from rdface_hf.sim.identities import Identity, build_bank
from rdface_hf.sim.render import render

SMALL = dict(conditions=6, per_condition_mean=2.5, image_size=128, seed=7)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _plain_identity(bank) -> Identity:
    k = len(bank.space.sds)
    grey = ((128, 128, 128),) * 3
    return Identity(
        base=("astronaut", "astronaut"),
        morph=0.0,
        shape_coefficients=(0.0,) * k,
        roll_degrees=0.0,
        scale=1.0,
        shift=(0.0, 0.0),
        light_angle=0.0,
        light_strength=0.0,
        brightness=1.0,
        gamma=1.0,
        skin_tone=(1.0, 1.0, 1.0),
        background=(grey,) * 3,
    )


@pytest.fixture(scope="session")
def small_sim_settings() -> dict:
    """The settings of ``small_release`` (6 conditions, 15 images of 128 px, seed 7)."""
    return dict(SMALL)


@pytest.fixture
def release_files():
    """``release_files(folder)``: relative path -> bytes of every file."""
    return _files


@pytest.fixture
def plain_identity():
    """``plain_identity(bank)``: the astronaut, frontal, no shape change, grey background."""
    return _plain_identity


@pytest.fixture(scope="module")
def small_release(tmp_path_factory, landmarker_model) -> Path:
    out = tmp_path_factory.mktemp("sim") / "release"
    simulate(SimConfig(out=str(out), workers=1, preview=True, **SMALL), progress=False)
    return out


@pytest.fixture(scope="module")
def measured(landmarker_model):
    """Render one face with single features and re-detect its landmarks."""
    bank = build_bank(256)
    ident = _plain_identity(bank)
    cases = {
        "none": {},
        "hypertelorism": {"hypertelorism": 1.5},
        "hypotelorism": {"hypotelorism": 1.5},
        "long philtrum": {"long philtrum": 1.5},
        "short philtrum": {"short philtrum": 1.5},
        "wide mouth": {"wide mouth": 1.5},
        "small mouth": {"small mouth": 1.5},
    }
    out = {}
    with FaceLandmarker() as lm:
        for name, sev in cases.items():
            r = render(bank, ident, sev)
            face = lm.detect(r.pixels)
            assert face is not None, name
            out[name] = (face.pixels(), r)
    return out
