"""Appearance features: changes of the pixels that no landmark measures.

Each operator takes the head image (float, 0..255), the patient's 478 landmarks
in output pixels, the inter-ocular distance in pixels and a signed severity:

- ``eyebrows``: thicker and darker (> 0) or sparse (< 0) brows; every patient
  also has a natural brow thickness, so a thick-brow condition must stand out
  from normal variation;
- ``synophrys``: brow hair across the glabella;
- ``epicanthus``: a skin fold over the inner canthus;
- ``skin_texture``: coarse, mottled skin;
- ``nasion_depth``: the shadow of a depressed nasal bridge.
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from ..dataset.geometry import LEFT_BROW, LEFT_EYE, NASION, RIGHT_BROW, RIGHT_EYE, face_frame
from .portraits import polygon_mask


def brow_colour(ident) -> np.ndarray:
    """Eyebrow hair: the hair colour, a little darker, never lighter than the skin allows."""
    hair = np.asarray(ident.hair_rgb, np.float32)
    skin = np.asarray(ident.skin_rgb, np.float32)
    return np.minimum(0.8 * hair, 0.45 * skin)


def _strands(shape: tuple[int, int], iod: float, seed: int, angle: float = 0.0) -> np.ndarray:
    """Hair-like texture: noise stretched along ``angle`` (radians), 0..1."""
    rng = np.random.default_rng(seed)
    noise = rng.random(shape, dtype=np.float32)
    k = max(3, int(0.12 * iod) | 1)
    kernel = np.zeros((k, k), np.float32)
    cv2.line(kernel, (0, k // 2), (k - 1, k // 2), 1.0)
    rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), np.degrees(angle), 1.0)
    kernel = cv2.warpAffine(kernel, rot, (k, k))
    out = cv2.filter2D(noise, -1, kernel / max(kernel.sum(), 1e-6))
    return np.clip((out - out.mean()) / (out.std() + 1e-6) * 0.5 + 0.5, 0.0, 1.0)


def _paint(img: np.ndarray, alpha: np.ndarray, colour: np.ndarray, texture: np.ndarray) -> np.ndarray:
    a = (alpha * (0.7 + 0.3 * texture))[..., None]
    return img * (1.0 - a) + a * colour


def eyebrows(img, lm, iod, s, colour, seed):
    """Thicker, darker brows (``s`` > 0) or sparse, paler ones (``s`` < 0)."""
    shape = img.shape[:2]
    masks = []
    for brow in (RIGHT_BROW, LEFT_BROW):
        pts = lm[list(brow)]
        mid = 0.5 * (pts[:5] + pts[5:][::-1])  # centre line, outer -> inner
        half = 0.5 * (pts[:5] - pts[5:][::-1])
        grow = 1.0 + 0.45 * max(s, 0.0)
        poly = np.concatenate([mid + grow * half, (mid - grow * half)[::-1]])
        masks.append(polygon_mask(poly, shape, 0.03 * iod))
    mask = np.maximum(*masks)
    if s >= 0:
        return _paint(img, mask * min(0.85, 0.25 + 0.3 * s), colour, _strands(shape, iod, seed))
    skin = cv2.GaussianBlur(img, (0, 0), 0.12 * iod)
    a = (mask * min(0.9, 0.7 * -s))[..., None]
    return img * (1.0 - a) + a * skin


def synophrys(img, lm, iod, s, colour, seed):
    """Brow hair across the glabella, thinner in the middle."""
    if s <= 0:
        return img
    r_up, r_lo, l_up, l_lo = lm[RIGHT_BROW[4]], lm[RIGHT_BROW[5]], lm[LEFT_BROW[4]], lm[LEFT_BROW[5]]
    mid_up, mid_lo = 0.5 * (r_up + l_up), 0.5 * (r_lo + l_lo)
    pinch = 0.35 * (mid_lo - mid_up)
    out = 0.05 * iod * (r_up - l_up) / (np.linalg.norm(r_up - l_up) + 1e-9)  # reach into each brow
    poly = np.array([r_up + out, mid_up + pinch, l_up - out, l_lo - out, mid_lo - pinch, r_lo + out])
    mask = polygon_mask(poly, img.shape[:2], 0.025 * iod)
    return _paint(img, mask * min(0.7, 0.15 + 0.25 * s), colour, _strands(img.shape[:2], iod, seed + 1))


def _fold(img, lm, iod, s, outer: int, inner: int) -> np.ndarray:
    c, o = lm[inner], lm[outer]
    toward = (c - o) / (np.linalg.norm(c - o) + 1e-9)  # from the eye towards the nose
    size = 0.7 + 0.3 * min(s, 1.7)
    centre = c + toward * 0.01 * iod
    axes = (max(1, round(0.08 * iod * size)), max(1, round(0.09 * iod * size)))
    shape = img.shape[:2]
    cover = np.zeros(shape, np.float32)
    cv2.ellipse(cover, (round(centre[0]), round(centre[1])), axes, 0.0, 0, 360, 1.0, -1, cv2.LINE_AA)
    cover = cv2.GaussianBlur(cover, (0, 0), 0.012 * iod)
    probe = np.clip(np.round(c + toward * 0.14 * iod), 0, np.array(shape[::-1]) - 1).astype(int)
    skin = cv2.GaussianBlur(img, (0, 0), 0.04 * iod)[probe[1], probe[0]]
    out = img * (1.0 - (cover * min(0.9, 0.6 * s))[..., None]) + (cover * min(0.9, 0.6 * s))[..., None] * skin
    line = np.zeros(shape, np.float32)  # the fold's free edge: concave towards the eye, over the canthus
    edge_centre = c - toward * 0.95 * axes[0]
    facing = np.degrees(np.arctan2(toward[1], toward[0]))
    cv2.ellipse(line, (round(edge_centre[0]), round(edge_centre[1])), (axes[0], round(1.3 * axes[1])), facing,
                -60, 60, 1.0, 1, cv2.LINE_AA)  # fmt: skip
    line = cv2.GaussianBlur(line, (0, 0), 0.008 * iod)
    return out * (1.0 - (0.25 * min(1.0, s) * line / (line.max() + 1e-6))[..., None])


def epicanthus(img, lm, iod, s, seed):
    """A skin fold over each inner canthus: the corner of the eye hidden, the fold's edge shaded."""
    if s <= 0:
        return img
    for outer, inner in (RIGHT_EYE, LEFT_EYE):
        img = _fold(img, lm, iod, s, outer, inner)
    return img


def skin_texture(img, lm, iod, s, face, seed):
    """Coarse, mottled skin: fine band-pass noise in the skin's brightness."""
    if s <= 0:
        return img
    rng = np.random.default_rng(seed + 2)
    noise = rng.standard_normal(img.shape[:2]).astype(np.float32)
    fine = cv2.GaussianBlur(noise, (0, 0), 0.03 * iod) - cv2.GaussianBlur(noise, (0, 0), 0.12 * iod)
    fine /= fine.std() + 1e-6
    return img * (1.0 + 0.02 * min(s, 1.7) * fine * face)[..., None]


def nasion_depth(img, lm, iod, s, seed):
    """The shadow of a depressed nasal bridge, elongated along the bridge."""
    if s <= 0:
        return img
    yy, xx = np.mgrid[0 : img.shape[0], 0 : img.shape[1]].astype(np.float32)
    c = 0.6 * lm[NASION] + 0.4 * lm[6]
    g = np.exp(-0.5 * (((xx - c[0]) / (0.09 * iod)) ** 2 + ((yy - c[1]) / (0.16 * iod)) ** 2))
    return img * (1.0 - 0.15 * min(s, 1.7) * g)[..., None]


def bridge_shading(img, lm, iod, s, seed):
    """The shading of a broad nasal bridge: its side shadows further apart, a wider highlight."""
    if abs(s) < 1e-6:
        return img
    f = face_frame(lm)
    yy, xx = np.mgrid[0 : img.shape[0], 0 : img.shape[1]].astype(np.float32)
    p = f.to_frame(np.stack([xx, yy], axis=-1)).astype(np.float32)
    top, bottom = f.to_frame(lm[[NASION, 4]])[:, 1]
    along = np.exp(-0.5 * ((p[..., 1] - 0.5 * (top + bottom)) / (0.4 * (bottom - top) + 1e-6)) ** 2)
    x = np.abs(p[..., 0])
    shift = np.exp(-0.5 * ((x - 0.1) / 0.05) ** 2) - np.exp(-0.5 * ((x - 0.2) / 0.06) ** 2)
    return img * (1.0 + 0.04 * float(np.clip(s, -1.7, 1.7)) * shift * along)[..., None]


def apply_appearance(img: np.ndarray, lm: np.ndarray, iod: float, severities: Mapping[str, float], regions: dict,
                     colour: np.ndarray, seed: int) -> np.ndarray:  # fmt: skip
    """Apply the appearance axes (signed severities by axis name) to the head image."""
    if abs(severities.get("eyebrows", 0.0)) > 1e-6:
        img = eyebrows(img, lm, iod, severities["eyebrows"], colour, seed)
    img = synophrys(img, lm, iod, severities.get("synophrys", 0.0), colour, seed)
    img = bridge_shading(img, lm, iod, severities.get("bridge_width", 0.0), seed)
    img = epicanthus(img, lm, iod, severities.get("epicanthus", 0.0), seed)
    skin = regions["face"][..., 0] * (1.0 - regions["interior"][..., 0])
    img = skin_texture(img, lm, iod, severities.get("skin_texture", 0.0), skin, seed)
    return nasion_depth(img, lm, iod, severities.get("nasion_depth", 0.0), seed)
