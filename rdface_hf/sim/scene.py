"""How a patient was photographed: pose, framing, background, clothing, light.

All of it is independent of the condition; its range grows with the nuisance
level (the ``--difficulty``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

BACKGROUNDS = ("plain", "clinic", "photo")
SHIRTS = np.array([[40, 60, 120], [180, 40, 40], [240, 240, 235], [60, 120, 70], [230, 190, 60], [120, 120, 125],
                   [30, 30, 35], [200, 120, 160], [90, 160, 210], [150, 90, 50]], dtype=np.float64)  # fmt: skip


@dataclass(frozen=True)
class Scene:
    """Pose, framing, background, clothing and light of one photo (ground truth)."""

    yaw: float  # degrees, the head turned
    pitch: float  # degrees, the head tilted up or down
    roll: float  # degrees, the eye line rotated in the image
    scale: float  # face size relative to the standard framing
    shift: tuple[float, float]  # face centre offset, fractions of the image side
    background: str  # plain, clinic or photo
    background_seed: int
    shirt_rgb: tuple[float, float, float]
    light_angle: float  # radians, direction the light comes from
    light_strength: float  # 0 (flat) .. about 0.4 (strong side light)
    light_rgb: tuple[float, float, float]  # colour of the light (multipliers)

    def to_dict(self) -> dict:
        return {k: round(v, 6) if isinstance(v, float) else v for k, v in dataclasses.asdict(self).items()}


def frontal_scene() -> Scene:
    """A plain frontal photo: no pose, no light, grey backdrop (tests, benchmarks)."""
    return Scene(0.0, 0.0, 0.0, 1.0, (0.0, 0.0), "plain", 0, (120.0, 120.0, 125.0), 0.0, 0.0, (1.0, 1.0, 1.0))


def sample_scene(rng: np.random.Generator, level: float) -> Scene:
    """One photo's setting; ``level`` 0 (frontal, even light) .. 1 (the widest range)."""
    lvl = float(level)
    temp = rng.normal(0.0, 0.05 * lvl)
    return Scene(
        yaw=float(np.clip(rng.normal(0.0, 2.0 + 12.0 * lvl), -30, 30)),
        pitch=float(np.clip(rng.normal(0.0, 1.5 + 7.0 * lvl), -18, 18)),
        roll=float(np.clip(rng.normal(0.0, 2.5 + 4.0 * lvl), -15, 15)),
        scale=float(np.exp(np.clip(rng.normal(0.0, 0.06 + 0.06 * lvl), -0.2, 0.2))),
        shift=tuple(float(v) for v in np.clip(rng.normal(0.0, 0.035 + 0.015 * lvl, 2), -0.08, 0.08)),
        background=BACKGROUNDS[int(rng.choice(3, p=[0.45, 0.3, 0.25]))],
        background_seed=int(rng.integers(2**31)),
        shirt_rgb=tuple(float(v) for v in SHIRTS[int(rng.integers(len(SHIRTS)))] * rng.uniform(0.8, 1.1)),
        light_angle=float(rng.uniform(0.0, 2 * np.pi)),
        light_strength=float(rng.uniform(0.0, 0.08 + 0.3 * lvl)),
        light_rgb=(float(1.0 + temp), 1.0, float(1.0 - 1.2 * temp)),
    )
