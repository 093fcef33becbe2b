"""Conditions and images per condition."""

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


@pytest.mark.parametrize("n, mean", [(103, 456 / 103), (1, 1.0), (6, 2.5), (50, 7.0), (200, 1.3)])
def test_counts_per_condition(n, mean):
    counts = sample_counts(n, mean, np.random.default_rng(0))
    assert len(counts) == n and sum(counts) == round(n * mean)
    assert all(1 <= c <= MAX_PER_CONDITION for c in counts)


def test_default_counts_mirror_rdface():
    counts = sample_counts(103, 456 / 103, np.random.default_rng(0))
    assert sum(counts) == 456 and 1 <= counts.count(1) <= 6 and max(counts) == 7

