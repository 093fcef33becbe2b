"""The simulator's settings, and how a built card states them."""

from __future__ import annotations

import pytest

from rdface_hf._errors import InputError
from rdface_hf.sim import SimConfig
from rdface_hf.sim.features import AXES


def test_config_errors_are_input_errors(tmp_path):
    for bad in (dict(conditions=-3), dict(difficulty=-0.1), dict(source_style=1.5)):
        with pytest.raises(InputError):
            SimConfig(out=str(tmp_path), **bad)
    assert SimConfig(out=str(tmp_path)).source_style == 0.0 and len(AXES) >= 19


def test_the_card_of_a_simulated_build_states_the_simulator_settings(sim_build):
    card = (sim_build / "README.md").read_text(encoding="utf-8")
    assert "Simulator settings: difficulty 0.5; source style 0.0" in card
    assert "2 source portrait(s)" in card and "fewer than 20 source portraits" in card
