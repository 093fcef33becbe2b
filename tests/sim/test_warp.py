"""Warp helpers."""

from __future__ import annotations

import numpy as np

from rdface_hf.sim.warp import jacobian_det


def test_jacobian_check_sees_a_fold():
    grid = np.stack(np.meshgrid(np.arange(5.0), np.arange(5.0)), axis=-1)
    assert np.allclose(jacobian_det(grid, 1.0), 1.0)
    assert (jacobian_det(grid[:, ::-1], 1.0) < 0).all()
