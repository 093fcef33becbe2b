"""Render one simulated patient: identity + dysmorphic features -> RGB image.

The output pixel ``q`` is traced back in three steps: the pose (a similarity)
takes it to the face frame; the inverse of the feature displacement field
takes it to the undeformed face; a thin-plate spline through the control
landmarks takes it into each base photo. The two base photos of a morph share
their low frequencies (shading, colour) inside the face and the dominant one
gives the detail, so a morph never shows a double contour.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from .features import FaceFrame, displacement_field
from .identities import Identity, IdentityBank, canonical_frame, face_by_name, identity_shape
from .warp import anchored_spline, coarse_grid, invert_displacement, jacobian_det, sample_image, upsample_map

MIN_JACOBIAN = 0.2  # smallest allowed local area ratio of any map
BACKOFF = (1.0, 0.8, 0.6, 0.4, 0.2, 0.0)


@dataclass(frozen=True)
class Rendered:
    pixels: np.ndarray  # (S, S, 3) uint8
    landmarks: np.ndarray  # (478, 2) intended landmark pixels (after features)
    warp_scale: float  # fraction of the requested displacement applied (1 unless folding)
    min_jacobian: float


def output_frame(ident: Identity, size: int) -> FaceFrame:
    can = canonical_frame(size)
    return FaceFrame(
        centre=can.centre + np.asarray(ident.shift) * size,
        iod=can.iod * ident.scale,
        angle=float(np.radians(ident.roll_degrees)),
    )


def _grid_step(size: int) -> int:
    return max(4, size // 32)


def _backward_maps(bank: IdentityBank, ident: Identity, base: np.ndarray, field, names) -> list[np.ndarray]:
    """Coarse backward maps (output grid -> each base photo's pixels)."""
    size = bank.size
    step = _grid_step(size)
    grid = coarse_grid(size, step)
    out, can = output_frame(ident, size), canonical_frame(size)
    p = out.to_frame(grid.reshape(-1, 2))
    b = can.to_pixels(invert_displacement(field, p))
    ctrl = bank.control
    maps = []
    for name in names:
        face = face_by_name(bank, name)
        tps = anchored_spline(can.to_pixels(base[ctrl]), face.landmarks[ctrl], size)
        maps.append(tps(b).reshape(grid.shape))
    return maps


def _polygon_mask(points: np.ndarray, size: int, sigma: float) -> np.ndarray:
    c = points.mean(axis=0)
    order = np.argsort(np.arctan2(points[:, 1] - c[1], points[:, 0] - c[0]))
    im = Image.new("L", (size, size), 0)
    ImageDraw.Draw(im).polygon([tuple(map(float, p)) for p in points[order]], fill=255)
    return ndimage.gaussian_filter(np.asarray(im, dtype=np.float32) / 255.0, sigma)


def _masks(target_ff: np.ndarray, oval: np.ndarray, out: FaceFrame, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Soft face mask and soft head mask (face plus some hair) in output pixels."""
    face = target_ff[oval]
    centre = face.mean(axis=0)
    up = np.clip((0.4 - face[:, 1]) / 1.0, 0.0, 1.0)[:, None]  # 0 below the cheeks, 1 at the top
    head = centre + (face - centre) * (1.0 + up * np.array([0.14, 0.1]))
    head[:, 1] -= 0.3 * up[:, 0]
    sigma = 0.06 * out.iod
    return _polygon_mask(out.to_pixels(face), size, sigma), _polygon_mask(out.to_pixels(head), size, 1.5 * sigma)


def _appearance(img: np.ndarray, ident: Identity, face: np.ndarray, head: np.ndarray) -> np.ndarray:
    size = img.shape[0]
    tone = np.asarray(ident.skin_tone, dtype=np.float32)
    img = img * (1.0 + face[..., None] * (tone - 1.0))
    grid = np.asarray(ident.background, dtype=np.float64)  # (3, 3, 3) colours, smoothly interpolated
    bg = upsample_map(grid, size, (size - 1) / (len(grid) - 1)).astype(np.float32)
    img = head[..., None] * img + (1.0 - head[..., None]) * bg
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    light = 1.0 + ident.light_strength * (np.cos(ident.light_angle) * xx + np.sin(ident.light_angle) * yy) * 2.0
    img = img * light[..., None]
    img = 255.0 * np.clip(img / 255.0, 0, 1) ** ident.gamma * ident.brightness
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _compose(bank: IdentityBank, ident: Identity, maps: list[np.ndarray], face_mask: np.ndarray) -> np.ndarray:
    size, step = bank.size, _grid_step(bank.size)
    a, b = (face_by_name(bank, n) for n in ident.base)
    w = ident.morph if ident.base[0] != ident.base[1] else 0.0
    dom, other, wo = (0, 1, w) if w <= 0.5 else (1, 0, 1.0 - w)
    textures = (a.texture, b.texture)
    img = sample_image(textures[dom], upsample_map(maps[dom], size, step))
    if wo > 0.01:
        sigma = (0.1 * canonical_frame(size).iod,) * 2 + (0,)
        oth = sample_image(textures[other], upsample_map(maps[other], size, step))
        img = img + wo * face_mask[..., None] * ndimage.gaussian_filter(oth - img, sigma)
    return img


def _scaled(field, scale: float, points: np.ndarray) -> np.ndarray:
    return scale * field(points)


def render(bank: IdentityBank, ident: Identity, severities: Mapping[str, float]) -> Rendered:
    """Render ``ident`` with the named feature severities."""
    size = bank.size
    base = identity_shape(bank, ident)
    full = displacement_field(base, severities)
    for scale in BACKOFF:
        field = partial(_scaled, full, scale)
        maps = _backward_maps(bank, ident, base, field, ident.base)
        det = min(float(jacobian_det(m, _grid_step(size)).min()) for m in maps)
        if det >= MIN_JACOBIAN / ident.scale**2 or scale == 0.0:
            break
    target = base + field(base)
    out = output_frame(ident, size)
    face_mask, head_mask = _masks(target, bank.oval, out, size)
    img = _compose(bank, ident, maps, face_mask)
    pixels = _appearance(img, ident, face_mask, head_mask)
    return Rendered(pixels=pixels, landmarks=out.to_pixels(target), warp_scale=scale, min_jacobian=det)
