"""Blend the warped portraits into one patient, dress and light them.

Inside the face the members of the composite are averaged (each where its
face is usable: no hair, no spectacles), in colours normalised by each
portrait's own skin colour, then given the patient's skin tone; the lips come
from the mouth donor, hair, ears and head outline from the hair donor, with
the patient's hair colour. Below the jaw a neck and a plain shirt are drawn,
the person is set on a background, and the light falls from one side.
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from ..dataset.geometry import (
    CHIN,
    FACE_OVAL,
    INNER_LIPS,
    LEFT_BROW,
    LEFT_EYE_CONTOUR,
    OUTER_LIPS,
    RIGHT_BROW,
    RIGHT_EYE_CONTOUR,
    FaceFrame,
)
from .appearance import apply_appearance, brow_colour
from .backgrounds import make_background
from .features import AXES, axis_severities
from .fields import sigmoid
from .portraits import polygon_mask
from .warp import remap, upsample

LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _sample(maps, size: int) -> dict:
    """Warped texture (float) and masks (0..1) of every member, by portrait number."""
    out = {}
    for portrait, level, grid_map in maps:
        full = upsample(grid_map, (size, size))
        out[portrait.index] = (portrait, remap(level.texture, full).astype(np.float32),
                               remap(level.masks, full).astype(np.float32) / 255.0)  # fmt: skip
    return out


def _scaled_polygon(points: np.ndarray, k: float) -> np.ndarray:
    c = points.mean(axis=0)
    return c + k * (points - c)


def _details(lm: np.ndarray, shape: tuple[int, int], iod: float) -> np.ndarray:
    """Eyes, brows, lips and nostrils: where the detail of the face is kept sharp."""
    mask = np.zeros(shape, np.float32)
    for contour, k in ((RIGHT_EYE_CONTOUR, 1.5), (LEFT_EYE_CONTOUR, 1.5), (RIGHT_BROW, 1.4), (LEFT_BROW, 1.4),
                       (OUTER_LIPS, 1.15), ((98, 64, 1, 294, 327, 2), 1.3)):  # fmt: skip
        mask = np.maximum(mask, polygon_mask(_scaled_polygon(lm[list(contour)], k), shape))
    return cv2.GaussianBlur(mask, (0, 0), 0.05 * iod)


def _regions(lm: np.ndarray, iod: float, size: int, grid: np.ndarray) -> dict[str, np.ndarray]:
    shape = (size, size)
    eyes = np.maximum(*(polygon_mask(lm[list(c)], shape, 0.012 * iod) for c in (RIGHT_EYE_CONTOUR, LEFT_EYE_CONTOUR)))
    return {
        "face": polygon_mask(lm[list(FACE_OVAL)], shape, 0.04 * iod)[..., None],
        "mouth": polygon_mask(_scaled_polygon(lm[list(OUTER_LIPS)], 1.3), shape, 0.04 * iod)[..., None],
        "lips": polygon_mask(lm[list(OUTER_LIPS)], shape, 0.02 * iod)[..., None],
        "details": _details(lm, shape, iod)[..., None],
        "interior": np.maximum(eyes, polygon_mask(lm[list(INNER_LIPS)], shape, 0.01 * iod))[..., None],
        "below_forehead": sigmoid((grid[..., 1] + 0.4) / 0.06).astype(np.float32)[..., None],
    }


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur; wide ones on a reduced copy (the result is smooth anyway)."""
    k = int(sigma // 2.0)
    if k >= 2:
        h, w = img.shape[:2]
        small = cv2.resize(img, (max(4, w // k), max(4, h // k)), interpolation=cv2.INTER_AREA)
        out = cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma * small.shape[1] / w), (w, h),
                         interpolation=cv2.INTER_LINEAR)  # fmt: skip
    else:
        out = cv2.GaussianBlur(img, (0, 0), sigma)
    return out if out.ndim == img.ndim else out[..., None]


def _weights(samples: dict, ident, regions: dict) -> dict[int, np.ndarray]:
    """Per-pixel weight of every member: its usable face inside the oval (below the
    forehead: the hairline is the hair donor's), the hair donor outside it, the mouth
    donor on the lips."""
    f, m, low = regions["face"], regions["mouth"], regions["below_forehead"]
    out = {}
    for k, w in zip(ident.members, ident.weights):
        a = np.float32(w) * samples[k][2][..., 3:4] * f * (1.0 - m)
        if k == ident.hair_donor:
            a = a + (1.0 - f * low) * (1.0 - m) + 1e-3
        else:
            a = a * low
        if k == ident.mouth_donor:
            a = a + m
        out[k] = a
    return out


def _composite(samples: dict, ident, regions: dict, iod: float) -> tuple[np.ndarray, np.ndarray, dict]:
    """Skin-normalised colours of the head, blended in two bands (smooth weights for the
    low frequencies, so no seam; sharp ones for the detail), the members' mean skin colour
    per pixel, and each member's share of the detail."""
    weights = _weights(samples, ident, regions)
    low_sum, high_sum, low_w, high_w = 0.0, 0.0, 0.0, 0.0
    skin = 0.0
    for k, a in weights.items():
        portrait, tex, masks = samples[k]
        norm = tex / portrait.skin_rgb.astype(np.float32)
        valid = masks[..., 3:4] + (k == ident.hair_donor) * (1.0 - regions["face"]) + 1e-4
        low = _blur(norm * valid, 0.08 * iod) / _blur(valid, 0.08 * iod)  # occluders left out, not blurred in
        b = _blur(a, 0.2 * iod)
        low_sum, low_w = low_sum + b * low, low_w + b
        high_sum, high_w = high_sum + a * (norm - low), high_w + a
        skin = skin + b * portrait.skin_rgb.astype(np.float32)
    shares = {k: a / high_w for k, a in weights.items()}
    smooth = 1.0 - 0.5 * regions["face"] * (1.0 - regions["details"])  # a child's smoother skin: less detail
    return low_sum / low_w + smooth * high_sum / high_w, skin / low_w, shares


def _head(samples: dict, ident, regions: dict, iod: float) -> np.ndarray:
    """The head in the patient's colours: skin tone, hair colour."""
    norm, members_skin, shares = _composite(samples, ident, regions, iod)
    lips = regions["lips"] * (1.0 - regions["interior"]) * 0.45  # a child's paler lips, no lipstick
    norm = norm + lips * (norm.mean(axis=-1, keepdims=True) - norm)
    hair_p, hair_t, hair_m = samples[ident.hair_donor]
    f = regions["face"]
    r = f * (1.0 - regions["interior"]) + (1.0 - f) * (1.0 - hair_m[..., 2:3])
    img = norm * (r * np.asarray(ident.skin_rgb, np.float32) + (1.0 - r) * members_skin)
    luma = (hair_t @ LUMA)[..., None] / max(hair_p.hair_luma, 1.0)
    hair = np.asarray(ident.hair_rgb, np.float32) * np.clip(luma, 0.25, 2.5)
    h = hair_m[..., 2:3] * (1.0 - regions["interior"]) * shares[ident.hair_donor]
    return h * hair + (1.0 - h) * img


def _head_alpha(samples: dict, ident, lm: np.ndarray, out: FaceFrame, regions: dict, grid: np.ndarray) -> np.ndarray:
    """Opacity of the head: the face, and the hair donor's person above the jaw (or its hair)."""
    _, _, hair_m = samples[ident.hair_donor]
    size = grid.shape[0]
    head = polygon_mask(_scaled_polygon(lm[list(FACE_OVAL)], 1.06), (size, size), 0.03 * out.iod)
    cheek_y = out.to_frame(lm[[234, 454]])[:, 1].mean()
    above = sigmoid((cheek_y - grid[..., 1]) / 0.05) * sigmoid((2.6 - np.abs(grid[..., 0])) / 0.05)
    person = hair_m[..., 0] * np.maximum(np.maximum(head, above), hair_m[..., 2])
    return np.maximum(regions["face"][..., 0], person)[..., None]


def _body(ident, scene, lm: np.ndarray, out: FaceFrame, size: int) -> tuple[np.ndarray, np.ndarray]:
    """A neck and a plain shirt below the jaw: colours and opacity (drawn at half size: they are smooth)."""
    half_size = max(16, size // 2)
    small = FaceFrame(out.centre * half_size / size, out.iod * half_size / size, out.angle)
    colour, alpha = _body_at(ident, scene, small.to_frame(lm[CHIN] * half_size / size), pixel_frame(small, half_size))
    up = [cv2.resize(a, (size, size), interpolation=cv2.INTER_LINEAR) for a in (colour, alpha)]
    return up[0], up[1][..., None]


def _body_at(ident, scene, chin: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = grid[..., 0] - chin[0], grid[..., 1] - chin[1]
    half = 0.55
    neck = sigmoid((half - np.abs(x)) / 0.03) * sigmoid((y + 0.6) / 0.03)
    ax = np.abs(x)
    top = np.where(ax < half, 0.38 + 0.16 * (1.0 - (ax / half) ** 2), 0.38 + 0.3 * np.clip(ax - half, 0, None) ** 1.3)
    shirt = sigmoid((y - top) / 0.03) * sigmoid((2.5 - ax) / 0.05)
    shade = 0.7 + 0.25 * np.clip((y + 0.1) / 0.6, 0.0, 1.0) - 0.12 * np.clip(ax / half, 0, 1) ** 2
    skin = np.asarray(ident.skin_rgb, np.float32) * shade[..., None]
    cloth = np.clip(np.asarray(scene.shirt_rgb, np.float32), 0, 255) * (1.0 - 0.12 * (ax / 2.5) ** 2)[..., None]
    colour = shirt[..., None] * cloth + (1.0 - shirt[..., None]) * skin
    return colour.astype(np.float32), np.maximum(neck, shirt).astype(np.float32)


def pixel_frame(out: FaceFrame, size: int) -> np.ndarray:
    """(S, S, 2) float32 face-frame coordinates of every output pixel (the roll and size of the
    output frame; the head turn is ignored)."""
    rot = out.rotation().astype(np.float32) / np.float32(out.iod)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dx, dy = xx - np.float32(out.centre[0]), yy - np.float32(out.centre[1])
    return np.stack([dx * rot[0, 0] + dy * rot[1, 0], dx * rot[0, 1] + dy * rot[1, 1]], axis=-1)


def _light(img: np.ndarray, scene) -> np.ndarray:
    size = img.shape[0]
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    a = scene.light_angle
    light = 1.0 + 2.0 * scene.light_strength * (np.cos(a) * xx + np.sin(a) * yy)
    return img * light[..., None] * np.asarray(scene.light_rgb, np.float32)


def compose(bank, ident, scene, maps, landmarks: np.ndarray, out: FaceFrame, severities: Mapping[str, float],
            scale: float, size: int, texture_seed: int) -> np.ndarray:  # fmt: skip
    """The finished (S, S, 3) uint8 photo of one patient."""
    samples = _sample(maps, size)
    lm = landmarks[:478]
    grid = pixel_frame(out, size)
    regions = _regions(lm, out.iod, size, grid)
    head = _head(samples, ident, regions, out.iod)
    looks = {k: v * (scale if AXES[k].kind == "shape" else 1.0) for k, v in axis_severities(severities).items()}
    looks["eyebrows"] = looks.get("eyebrows", 0.0) + ident.eyebrows
    head = apply_appearance(head, lm, out.iod, looks, regions, brow_colour(ident), texture_seed)
    alpha = _head_alpha(samples, ident, lm, out, regions, grid)
    body, body_alpha = _body(ident, scene, lm, out, size)
    img = make_background(scene.background, scene.background_seed, (size, size), bank.backdrops)
    img = body_alpha * body + (1.0 - body_alpha) * img
    img = alpha * head + (1.0 - alpha) * img
    img = _light(img, scene)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)
