"""The simulator's settings."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rdface_hf import cli
from rdface_hf._errors import InputError
from rdface_hf.dataset.images import NEAR_DUPLICATE_DISTANCE, near_duplicate_pairs, perceptual_hash
from rdface_hf.dataset.release import REQUIRED_COLUMNS as RDFACE_COLUMNS
from rdface_hf.sim import SimConfig, simulate
from rdface_hf.sim.conditions import MAX_PER_CONDITION, sample_counts
from rdface_hf.sim.features import AXES, FEATURES, apply_features, displacement_field, measure_features
from rdface_hf.sim.identities import Identity, build_bank, canonical_frame, identity_shape
from rdface_hf.sim.render import render
from rdface_hf.sim.warp import jacobian_det


def test_config_errors_are_input_errors(tmp_path):
    with pytest.raises(InputError):
        SimConfig(out=str(tmp_path), conditions=-3)
    with pytest.raises(InputError):
        SimConfig(out=str(tmp_path), difficulty=-0.1)
    assert canonical_frame(100).iod > 0 and len(AXES) >= 14

