"""The one face geometry (rdface_hf.dataset.geometry) that the simulator, filter and reports use."""

import ast
from pathlib import Path

import numpy as np
import pytest

from rdface_hf.dataset import geometry as g

PACKAGE = Path(g.__file__).resolve().parents[1]


def _face(seed=0):
    """A (478, 3) point cloud with the eyes where a face has them (roll 0, IOD 60 px)."""
    rng = np.random.default_rng(seed)
    pts = rng.normal(size=(g.NUM_LANDMARKS, 3)) * 40 + np.array([200.0, 220.0, 0.0])
    for index, x in zip((*g.RIGHT_EYE, *g.LEFT_EYE), (150.0, 190.0, 250.0, 210.0), strict=True):
        pts[index, :2] = (x, 200.0)
    return pts


def _similar(pts, angle, scale, shift):
    c, s = np.cos(angle), np.sin(angle)
    out = pts.copy()
    out[:, :2] = scale * pts[:, :2] @ np.array([[c, s], [-s, c]]) + shift
    return out


def test_the_face_frame_puts_the_eyes_on_the_x_axis_one_unit_apart():
    pts = _similar(_face(), 0.4, 1.7, np.array([30.0, -12.0]))
    f = g.in_face_frame(pts)
    right = f[list(g.RIGHT_EYE)].mean(axis=0)
    left = f[list(g.LEFT_EYE)].mean(axis=0)
    np.testing.assert_allclose(right, [-0.5, 0.0], atol=1e-12)
    np.testing.assert_allclose(left, [0.5, 0.0], atol=1e-12)
    frame = g.face_frame(pts)
    np.testing.assert_allclose(frame.to_pixels(frame.to_frame(pts)), pts[:, :2], atol=1e-9)


def test_roll_position_and_size_change_no_normalised_measure():
    base = _face()
    moved = _similar(base, -0.3, 2.5, np.array([-40.0, 75.0]))
    for pts in (base, moved):
        assert g.face_frame(pts).iod > 0
    a, b = g.in_face_frame(base), g.in_face_frame(moved)
    np.testing.assert_allclose(a, b, atol=1e-10)
    np.testing.assert_allclose(g.face_size(a), g.face_size(b), rtol=1e-12)
    np.testing.assert_allclose(g.face_width(a), g.face_width(b), rtol=1e-12)


def test_the_stack_frame_is_the_single_face_frame_in_input_units():
    faces = np.stack([_similar(_face(i), 0.1 * i, 1.0 + i, np.array([i, -i])) for i in range(4)])
    stack = g.levelled(faces)
    for pts, row in zip(faces, stack, strict=True):
        frame = g.face_frame(pts)
        np.testing.assert_allclose(row, frame.to_frame(pts) * frame.iod, atol=1e-9)
    np.testing.assert_allclose(g.face_size(stack), [g.face_size(row) for row in stack], rtol=1e-12)


def test_the_two_normalisations_are_different_units():
    f = g.in_face_frame(_face())
    assert g.face_width(f) == pytest.approx(np.hypot(*(f[234] - f[454])))
    assert g.face_size(f) == pytest.approx(np.sqrt(((f - f.mean(axis=0)) ** 2).sum(axis=1).mean()))
    assert g.face_size(f) != pytest.approx(g.face_width(f))


def test_pixel_units_for_a_stack_and_for_one_face_agree():
    stored = np.random.default_rng(1).uniform(size=(2, g.NUM_LANDMARKS, 3))
    stored[1] = np.nan
    sizes = np.array([[300, 400], [10, 10]])
    stack = g.in_pixels(stored, sizes)
    np.testing.assert_array_equal(stack[0], g.face_in_pixels(stored[0], 300, 400))
    np.testing.assert_array_equal(stack[0, :, 1], stored[0, :, 1] * 400)  # y by the height, z by the width
    np.testing.assert_array_equal(stack[0, :, 2], stored[0, :, 2] * 300)
    assert g.has_face(stack).tolist() == [True, False]
    assert g.face_in_pixels(stored[1], 10, 10) is None and g.face_in_pixels(None, 10, 10) is None
    assert g.face_in_pixels(stored[0, :, :2], 300, 400).shape == (g.NUM_LANDMARKS, 2)


def test_coincident_eyes_are_refused():
    pts = _face()
    pts[list(g.LEFT_EYE)] = pts[list(g.RIGHT_EYE)]
    with pytest.raises(ValueError, match="eyes coincide"):
        g.face_frame(pts)


def test_no_stage_keeps_its_own_landmark_table():
    """The eyes' MediaPipe indices (the canthi that define the face frame, the iris centres),
    the face frame and the pixel conversion live only in dataset/geometry.py."""
    own = []
    for path in (PACKAGE / "sim", PACKAGE / "filter", PACKAGE / "reports"):
        for module in sorted(path.rglob("*.py")):
            tree = ast.parse(module.read_text())
            for node in tree.body:
                if isinstance(node, ast.FunctionDef) and node.name in {"face_frame", "in_pixels", "to_pixels"}:
                    own.append(f"{module.name}: def {node.name}")
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple | ast.Constant):
                    values = [node.value] if isinstance(node.value, ast.Constant) else node.value.elts
                    numbers = {v.value for v in values if isinstance(v, ast.Constant)}
                    if {33, 133} <= numbers or {263, 362} <= numbers or {468, 473} <= numbers:
                        own.append(f"{module.name}: {ast.unparse(node.targets[0])}")
    assert own == []
