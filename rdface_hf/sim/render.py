"""Render one simulated patient: identity + scene + dysmorphic features -> RGB image.

An output pixel ``q`` is traced back in four steps: the output frame (a
similarity: roll, size, position) takes it to the posed face frame; a
thin-plate spline undoes the head turn (yaw, pitch of the 3-D landmarks); the
inverse of the feature displacement field takes it to the undeformed patient;
a thin-plate spline through the control landmarks and the virtual head points
takes it into each source portrait of the composite. The whole photo moves:
hair, ears and neck follow the virtual head points, far away everything
follows a similarity. :mod:`.compose` then blends the portraits, recolours
skin and hair, draws appearance features, clothing, background and light.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np

from ..dataset.geometry import FaceFrame, face_frame
from .bank import IdentityBank
from .compose import compose
from .features import displacement_field
from .geometry import child_field, composite_shape, pose_points, smile_field, style_hair, with_virtual_points
from .identities import Identity
from .portraits import canvas_frame
from .scene import Scene
from .warp import anchored_spline, coarse_points, grid_cells, invert_displacement, jacobian_det

EYE_CENTRE = (0.5, 0.43)  # fractions of the image side
IOD_FRACTION = 0.25  # inter-ocular distance / image side
MIN_JACOBIAN = 0.2  # smallest allowed local area ratio of any map
BACKOFF = (1.0, 0.75, 0.5, 0.25, 0.0)


@dataclass(frozen=True)
class Rendered:
    pixels: np.ndarray  # (S, S, 3) uint8
    landmarks: np.ndarray  # (478, 2) intended landmark pixels (after features and pose)
    warp_scale: float  # fraction of the requested feature displacement and head turn applied (1 unless folding)
    min_jacobian: float


@dataclass(frozen=True)
class PatientShape:
    undeformed: np.ndarray  # (N, 3) face frame, landmarks + virtual points, before features
    frontal: np.ndarray  # (N, 3) after the shape features
    posed: np.ndarray  # (N, 2) after the head turn
    field: object  # the feature displacement field (face frame)
    turned: bool  # the head is turned (yaw or pitch)


def output_frame(scene: Scene, size: int) -> FaceFrame:
    centre = (np.array(EYE_CENTRE) + np.asarray(scene.shift)) * size
    return FaceFrame(centre=centre, iod=IOD_FRACTION * size * scene.scale, angle=float(np.radians(scene.roll)))


def _scaled(field, scale: float, points: np.ndarray) -> np.ndarray:
    return scale * field(points)


def undeformed_shape(bank: IdentityBank, ident: Identity) -> np.ndarray:
    """The patient's landmarks and virtual head points before any feature (face frame, with depth)."""
    members = [bank.portraits[m] for m in ident.members]
    mouth = bank.portraits[ident.mouth_donor].shape
    shape = composite_shape([p.shape for p in members], ident.weights, bank.mirror, mouth)
    coeffs = np.asarray(ident.shape_coefficients) * bank.space.sds
    shape[:, :2] += np.tensordot(coeffs, bank.space.components, axes=1)
    frame = face_frame(shape[:, :2])  # back to a unit, level face frame
    shape = np.concatenate([frame.to_frame(shape[:, :2]), shape[:, 2:] / frame.iod], axis=1)
    shape = style_hair(with_virtual_points(shape), ident.hair_volume, ident.hair_length)
    shape[:, :2] += child_field(shape[:, :2], ident.childness)
    shape[:, :2] += smile_field(shape[:, :2], shape, ident.smile)
    return shape


def patient_shape(undeformed: np.ndarray, severities: Mapping[str, float], scene: Scene, scale: float) -> PatientShape:
    field = partial(_scaled, displacement_field(undeformed[:478], severities), scale)
    frontal = undeformed.copy()
    frontal[:, :2] += field(undeformed[:, :2])
    turned = bool(scene.yaw or scene.pitch) and scale > 0
    posed = pose_points(frontal, scene.yaw * scale, scene.pitch * scale) if turned else frontal[:, :2].copy()
    return PatientShape(undeformed, frontal, posed, field, turned)


def _control(bank: IdentityBank, n: int) -> np.ndarray:
    return np.concatenate([bank.control, np.arange(478, n)])


def backward_maps(bank: IdentityBank, ident: Identity, shape: PatientShape, out: FaceFrame, size: int):
    """Coarse backward maps (output grid -> each member's canvas pixels) and their smallest Jacobian."""
    cells = grid_cells((size, size), max(4, size // 24))
    grid = coarse_points((size, size), cells)
    p = out.to_frame(grid.reshape(-1, 2))
    ctrl = _control(bank, len(shape.undeformed))
    if shape.turned:
        p = anchored_spline(shape.posed[ctrl], shape.frontal[ctrl, :2])(p)
    p = invert_displacement(shape.field, p)
    maps, worst = [], np.inf
    step = (grid[0, 1, 0] - grid[0, 0, 0], grid[1, 0, 1] - grid[0, 0, 1])
    for m in ident.members:
        portrait = bank.portraits[m]
        target = with_virtual_points(portrait.shape)
        level = portrait.level_for(out.iod)
        q = anchored_spline(shape.undeformed[ctrl], target[ctrl])(p)
        grid_map = canvas_frame(level.ppu).to_pixels(q).reshape(grid.shape)
        det = jacobian_det(grid_map, step) * (out.iod / level.ppu) ** 2
        worst = min(worst, float(det.min()))
        maps.append((portrait, level, grid_map))
    return maps, worst


def render(
    bank: IdentityBank,
    ident: Identity,
    scene: Scene,
    severities: Mapping[str, float],
    size: int,
    texture_seed: int = 0,
) -> Rendered:
    """Render ``ident`` photographed in ``scene`` with the named feature severities."""
    out = output_frame(scene, size)
    undeformed = undeformed_shape(bank, ident)
    for scale in BACKOFF:
        shape = patient_shape(undeformed, severities, scene, scale)
        maps, det = backward_maps(bank, ident, shape, out, size)
        if det >= MIN_JACOBIAN or scale == 0.0:
            break
    landmarks = out.to_pixels(shape.posed)
    pixels = compose(bank, ident, scene, maps, landmarks, out, severities, scale, size, texture_seed)
    landmarks = landmarks[:478]
    if ident.mirrored:  # the photo flipped: each landmark is where its counterpart was
        pixels = np.ascontiguousarray(pixels[:, ::-1])
        landmarks = (landmarks * np.array([-1.0, 1.0]) + np.array([size - 1.0, 0.0]))[bank.mirror]
    return Rendered(pixels=pixels, landmarks=landmarks, warp_scale=scale, min_jacobian=det)
