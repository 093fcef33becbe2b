"""Plausible backgrounds, independent of the condition: plain, clinic-like, blurred photo."""

from __future__ import annotations

import cv2
import numpy as np

PLAIN = np.array([[245, 245, 242], [215, 218, 220], [170, 175, 180], [90, 95, 100], [40, 42, 48], [120, 150, 190],
                  [200, 215, 230], [225, 215, 195], [140, 170, 150]], dtype=np.float64)  # fmt: skip
WALLS = np.array(
    [[236, 234, 225], [220, 230, 225], [215, 225, 235], [240, 230, 210], [225, 225, 228]], dtype=np.float64
)


def _plain(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A studio or wall backdrop: one colour, lit unevenly (a gradient in any direction, a vignette)."""
    colour = PLAIN[int(rng.integers(len(PLAIN)))] * rng.uniform(0.75, 1.1, 3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot((xx - w / 2) / w, (yy - 0.4 * h) / h)
    vignette = 1.0 - rng.uniform(0.0, 0.5) * r**2
    a = rng.uniform(0.0, 2 * np.pi)
    grad = 1.0 + rng.uniform(0.0, 0.35) * (np.cos(a) * (xx / w - 0.5) + np.sin(a) * (yy / h - 0.5))
    return colour[None, None, :] * (vignette * grad)[..., None]


def _clinic(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A wall with a rail or a door frame, a poster or a cabinet edge, softly out of focus."""
    wall = WALLS[int(rng.integers(len(WALLS)))] * rng.uniform(0.8, 1.05)
    img = np.ones((h, w, 3), np.float32) * wall.astype(np.float32)
    if rng.uniform() < 0.6:  # a rail or skirting at some height
        y = int(rng.uniform(0.55, 0.95) * h)
        img[y : y + max(2, h // 40)] = wall * rng.uniform(0.55, 0.8)
    for _ in range(int(rng.integers(0, 3))):  # door frames, posters, cabinets
        x0, y0 = int(rng.uniform(-0.2, 0.9) * w), int(rng.uniform(-0.2, 0.7) * h)
        x1, y1 = x0 + int(rng.uniform(0.1, 0.5) * w), y0 + int(rng.uniform(0.15, 0.8) * h)
        colour = rng.uniform(60, 240, 3)
        cv2.rectangle(img, (x0, y0), (x1, y1), tuple(float(c) for c in colour), -1 if rng.uniform() < 0.5 else 3)
    yy = np.mgrid[0:h, 0:w][0].astype(np.float32) / h
    img *= (1.0 + rng.uniform(-0.15, 0.1) * yy)[..., None]
    return cv2.GaussianBlur(img, (0, 0), 0.012 * max(h, w) * rng.uniform(0.5, 2.0))


def _photo(rng: np.random.Generator, h: int, w: int, backdrops) -> np.ndarray:
    """A random crop of a face-free photo, heavily out of focus (a room, a garden)."""
    photo = backdrops[int(rng.integers(len(backdrops)))].astype(np.float32)
    ph, pw = photo.shape[:2]
    side = rng.uniform(0.4, 0.9) * min(ph, pw)
    x0, y0 = rng.uniform(0, pw - side), rng.uniform(0, ph - side)
    crop = photo[int(y0) : int(y0 + side), int(x0) : int(x0 + side)]
    if rng.uniform() < 0.5:
        crop = crop[:, ::-1]
    img = cv2.resize(np.ascontiguousarray(crop), (w, h), interpolation=cv2.INTER_LINEAR)
    img = cv2.GaussianBlur(img, (0, 0), max(h, w) * rng.uniform(0.02, 0.05))
    tint = rng.uniform(0.8, 1.15, 3) * rng.uniform(0.7, 1.1)
    return img * tint.astype(np.float32)


def make_background(kind: str, seed: int, size: tuple[int, int], backdrops) -> np.ndarray:
    """(h, w, 3) float32 background of ``kind`` (plain, clinic, photo), 0..255."""
    rng = np.random.default_rng(seed)
    h, w = size
    if kind == "plain":
        img = _plain(rng, h, w)
    elif kind == "clinic":
        img = _clinic(rng, h, w)
    else:
        img = _photo(rng, h, w, backdrops)
    return np.clip(img, 0, 255).astype(np.float32)
