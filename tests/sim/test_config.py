"""The simulator's settings."""

from __future__ import annotations

import pytest

from rdface_hf._errors import InputError
from rdface_hf.sim import SimConfig
from rdface_hf.sim.features import AXES
from rdface_hf.sim.identities import canonical_frame


def test_config_errors_are_input_errors(tmp_path):
    with pytest.raises(InputError):
        SimConfig(out=str(tmp_path), conditions=-3)
    with pytest.raises(InputError):
        SimConfig(out=str(tmp_path), difficulty=-0.1)
    assert canonical_frame(100).iod > 0 and len(AXES) >= 14
