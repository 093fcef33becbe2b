"""Image nuisance: how a photo was reproduced (resolution, crop, padding, colour cast,
blur, noise, JPEG quality, greyscale), and the per-condition **source style**.

Every image draws its own style, independent of the condition, with a range
that grows with the nuisance level (the ``--difficulty``). With
``--source-style STRENGTH`` every condition also draws a style of its own
(as real images of one condition often come from one paper: one colour cast,
one border, one resolution, one compression), and each image takes each of
those four from its condition with probability STRENGTH.
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

MIN_SIDE, MAX_SIDE = 96, 512
BORDERS = ((255, 255, 255), (0, 0, 0), (128, 128, 128), (235, 235, 225))
SOURCE_ATTRIBUTES = ("cast", "border", "side", "quality")


@dataclass(frozen=True)
class ImageStyle:
    """How one image was reproduced (ground truth)."""

    side: int  # longer side of the picture, pixels (a border included)
    aspect: float  # width / height of the crop
    zoom: float  # 1 = the whole render, larger = a tighter crop
    offset: tuple[float, float]  # crop centre offset, fractions of the render
    effective: float  # fraction of the side that is really resolved (1 = sharp)
    blur: float  # Gaussian sigma, fraction of the side
    noise: float  # sensor noise sigma, 0..255
    quality: int  # JPEG quality
    greyscale: bool
    cast: tuple[float, float, float]  # colour multipliers
    border: float  # padding width, fraction of the side (0: none)
    border_rgb: tuple[int, int, int]
    noise_seed: int

    def to_dict(self) -> dict:
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in dataclasses.asdict(self).items()}


def neutral_style(size: int) -> ImageStyle:
    return ImageStyle(size, 1.0, 1.0, (0.0, 0.0), 1.0, 0.0, 0.0, 92, False, (1.0, 1.0, 1.0), 0.0, (255, 255, 255), 0)


def _side(rng: np.random.Generator, size: int, spread: float) -> int:
    lo, hi = min(MIN_SIDE, size), max(MAX_SIDE, size)
    log2 = np.log2(size) + rng.uniform(-1.5, 1.0) * spread
    return int(np.clip(round(2**log2), lo, hi))


def _border(rng: np.random.Generator, p: float) -> tuple[float, tuple[int, int, int]]:
    if rng.uniform() >= p:
        rng.uniform(), rng.integers(len(BORDERS))  # same draws either way
        return 0.0, (255, 255, 255)
    return float(rng.uniform(0.01, 0.07)), BORDERS[int(rng.integers(len(BORDERS)))]


def sample_style(rng: np.random.Generator, level: float, size: int) -> ImageStyle:
    """One image's own reproduction; ``level`` 0 (pristine) .. 1 (the widest range)."""
    lvl = float(level)
    spread = min(1.0, 2.0 * lvl)
    side = _side(rng, size, spread)
    aspect = float(rng.uniform(0.8, 1.25)) if rng.uniform() < 0.4 * lvl else 1.0
    effective = float(rng.uniform(0.4, 1.0)) if rng.uniform() < 0.5 * lvl else 1.0
    blur = float(rng.uniform(0.0, 0.006)) if rng.uniform() < 0.4 * lvl else 0.0
    border, border_rgb = _border(rng, 0.12 * lvl)
    return ImageStyle(
        side=side,
        aspect=aspect,
        zoom=float(rng.uniform(1.0, 1.0 + 0.3 * lvl)),
        offset=tuple(float(v) for v in np.clip(rng.normal(0.0, 0.03 * lvl, 2), -0.08, 0.08)),
        effective=max(effective, min(1.0, 112.0 / side)),
        blur=blur,
        noise=float(rng.uniform(0.0, 5.0 * lvl)),
        quality=int(rng.integers(round(92 - 37 * lvl), 93 + round(3 * lvl))),
        greyscale=bool(rng.uniform() < 0.06 * lvl),
        cast=tuple(float(v) for v in np.exp(rng.normal(0.0, 0.05 * lvl, 3))),
        border=border,
        border_rgb=border_rgb,
        noise_seed=int(rng.integers(2**31)),
    )


def sample_source_style(rng: np.random.Generator, size: int) -> dict:
    """A condition's shared style: a strong colour cast, a border, a resolution, a compression."""
    border, border_rgb = _border(rng, 0.6)
    return {
        "cast": tuple(float(v) for v in np.exp(rng.normal(0.0, 0.12, 3))),
        "border": (border, border_rgb),
        "side": _side(rng, size, 1.0),
        "quality": int(rng.integers(45, 96)),
    }


def mix_style(own: ImageStyle, source: dict | None, strength: float, rng: np.random.Generator) -> ImageStyle:
    """Each source attribute replaces the image's own with probability ``strength``."""
    draws = rng.uniform(size=len(SOURCE_ATTRIBUTES))  # drawn whatever the strength: patients stay the same
    if source is None or strength <= 0:
        return own
    changes = {}
    for attr, u in zip(SOURCE_ATTRIBUTES, draws):
        if u < strength:
            if attr == "border":
                changes["border"], changes["border_rgb"] = source["border"]
            else:
                changes[attr] = source[attr]
    changes["effective"] = max(own.effective, min(1.0, 112.0 / changes.get("side", own.side)))
    return dataclasses.replace(own, **changes)


def _crop_box(size: int, style: ImageStyle) -> tuple[float, float, float, float]:
    span = size / style.zoom
    w, h = (span, span / style.aspect) if style.aspect >= 1 else (span * style.aspect, span)
    cx = np.clip(size / 2 + style.offset[0] * size, w / 2, size - w / 2)
    cy = np.clip(size / 2 + style.offset[1] * size, h / 2, size - h / 2)
    return cx - w / 2, cy - h / 2, w, h


def apply_style(pixels: np.ndarray, landmarks: np.ndarray, style: ImageStyle) -> tuple[np.ndarray, np.ndarray]:
    """The reproduced picture (uint8, RGB or grey; longer side ``style.side`` with any
    border) and the landmarks in its pixels."""
    pad = max(1, round(style.border * style.side)) if style.border > 0 else 0
    inner = style.side - 2 * pad
    x0, y0, w, h = _crop_box(pixels.shape[0], style)
    out_w, out_h = (inner, max(8, round(inner / style.aspect))) if style.aspect >= 1 else (
        max(8, round(inner * style.aspect)), inner)  # fmt: skip
    sx, sy = out_w / w, out_h / h
    affine = np.array([[sx, 0.0, -x0 * sx], [0.0, sy, -y0 * sy]])
    small = (max(8, round(out_w * style.effective)), max(8, round(out_h * style.effective)))
    k = small[0] / out_w
    down = cv2.warpAffine(pixels, affine * k, small, flags=cv2.INTER_AREA if k * sx < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    img = cv2.resize(down, (out_w, out_h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    img *= np.asarray(style.cast, np.float32)
    if style.blur > 0:
        img = cv2.GaussianBlur(img, (0, 0), style.blur * style.side)
    if style.noise > 0:
        img += np.random.default_rng(style.noise_seed).normal(0.0, style.noise, img.shape).astype(np.float32)
    img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    lm = landmarks @ np.diag([sx, sy]) - np.array([x0 * sx, y0 * sy]) + pad
    if pad:
        img = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=tuple(map(int, style.border_rgb)))
    if style.greyscale:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    return img, lm


def decode_rgb(data: bytes) -> np.ndarray:
    """Encoded image bytes -> RGB array (grey images repeated to three channels)."""
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def encode_jpeg(pixels: np.ndarray, quality: int) -> bytes:
    """Metadata-free JPEG bytes (RGB or grey)."""
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=int(quality))
    return buf.getvalue()
