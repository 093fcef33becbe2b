"""Simulated patients: who they are (composite, age, proportions, colouring, expression).

An :class:`Identity` is drawn for every image: a landmark-aligned composite of
source portraits (at least 3 when the pool has 3; the built-in pool has 2), a
child's age (2 to 16 years at full spread), shape-space proportions, skin, hair
and eyebrow colouring, and an expression. Everything is ground truth and
JSON-serialisable; portraits are referred to by number only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .bank import IdentityBank

AGE_RANGE = (2.0, 16.0)
SKIN_PALETTE = np.array([[242, 212, 192], [228, 184, 155], [205, 155, 118], [168, 118, 84], [130, 88, 62],
                         [100, 66, 48]], dtype=np.float64)  # fmt: skip
HAIR_PALETTE = {
    "black": (28, 24, 22),
    "dark brown": (55, 38, 28),
    "brown": (95, 65, 42),
    "light brown": (140, 102, 66),
    "blond": (196, 160, 108),
    "auburn": (130, 62, 36),
}


@dataclass(frozen=True)
class Identity:
    """One simulated patient (all ground truth, JSON-serialisable)."""

    members: tuple[int, ...]  # portrait numbers of the composite
    weights: tuple[float, ...]
    hair_donor: int  # portrait number whose hair, ears and outline are used
    mouth_donor: int  # portrait number whose lips (open or closed) are used
    age: float  # years
    shape_coefficients: tuple[float, ...]  # in units of each mode's SD
    expression: str  # "neutral" or "smiling"
    smile: float  # 0..1, mouth corners up
    skin_rgb: tuple[float, float, float]
    hair_colour: str
    hair_rgb: tuple[float, float, float]
    eyebrows: float  # natural eyebrow thickness, signed (the "eyebrows" axis at identity level)
    hair_volume: float  # 1 = the hair donor's; < 1 close-cropped, > 1 fuller
    hair_length: float  # IODs the hair reaches further down at the sides
    mirrored: bool = False  # the source portraits' details (hair parting, asymmetries) mirrored

    def to_dict(self) -> dict:
        return {k: _round(v) for k, v in dataclasses.asdict(self).items()}

    @property
    def childness(self) -> float:
        """0 for a 16-year-old (adult proportions) .. 1 for a 2-year-old."""
        lo, hi = AGE_RANGE
        return float(np.clip((hi - self.age) / (hi - lo), 0.0, 1.0))


def _round(v):
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, (list, tuple)):
        return [_round(x) for x in v]
    return v


def _members(rng: np.random.Generator, bank: IdentityBank, spread: float) -> tuple[list[int], np.ndarray]:
    n = len(bank.portraits)
    k = bank.members_per_patient
    if n > k and rng.uniform() < 0.3:
        k += 1
    chosen = sorted(int(i) for i in rng.choice(n, size=k, replace=False))
    if k == 1:
        return chosen, np.ones(1)
    if k == 2:
        w = 0.5 + rng.uniform(-0.3, 0.3) * min(1.0, spread)
        return chosen, np.array([w, 1.0 - w])
    return chosen, rng.dirichlet(np.full(k, 3.0))


def _donor(bank: IdentityBank, members: list[int], weights: np.ndarray, accept) -> int:
    """The heaviest member that ``accept``s, else the heaviest member."""
    order = [members[i] for i in np.argsort(-weights, kind="stable")]
    return next((m for m in order if accept(bank.portraits[m])), order[0])


def _skin(rng: np.random.Generator, spread: float) -> tuple[float, float, float]:
    u = float(np.clip(0.3 + rng.uniform(-0.45, 0.7) * min(1.0, 0.35 + spread), 0.0, 1.0)) ** 1.4
    pos = u * (len(SKIN_PALETTE) - 1)
    i = min(int(pos), len(SKIN_PALETTE) - 2)
    rgb = SKIN_PALETTE[i] + (pos - i) * (SKIN_PALETTE[i + 1] - SKIN_PALETTE[i])
    rgb = rgb * (1.0 + rng.normal(0.0, 0.025, 3))
    return tuple(float(v) for v in np.clip(rgb, 20, 250))


def _hair(rng: np.random.Generator, skin_rgb) -> tuple[str, tuple[float, float, float]]:
    light = float(np.mean(skin_rgb)) > 165
    names = list(HAIR_PALETTE)
    p = np.array([1.0, 1.5, 1.5, 1.2, 1.0, 0.5]) if light else np.array([3.0, 2.0, 0.8, 0.2, 0.05, 0.1])
    name = names[int(rng.choice(len(names), p=p / p.sum()))]
    rgb = np.asarray(HAIR_PALETTE[name], dtype=np.float64) * (1.0 + rng.normal(0.0, 0.08))
    return name, tuple(float(v) for v in np.clip(rgb, 10, 240))


def sample_identity(rng: np.random.Generator, bank: IdentityBank, spread: float, smiling_p: float) -> Identity:
    """Draw one patient; ``spread`` (about 0.3..1.2) scales how much patients differ."""
    members, weights = _members(rng, bank, spread)
    smiling = bool(rng.uniform() < smiling_p)
    hair = _donor(bank, members, weights, lambda p: p.hair_donor)
    mouth = _donor(bank, members, weights, lambda p: p.mouth_open == smiling)
    lo, hi = AGE_RANGE
    half = 0.5 * (hi - lo) * min(1.0, 0.3 + spread / 0.75 * 0.7)
    k = len(bank.space.sds)
    coeffs = np.clip(rng.normal(0.0, 0.7 * spread, k), -1.8 * spread, 1.8 * spread)
    skin = _skin(rng, spread)
    hair_name, hair_rgb = _hair(rng, skin)
    return Identity(
        members=tuple(members),
        weights=tuple(float(w) for w in weights),
        hair_donor=hair,
        mouth_donor=mouth,
        age=float(rng.uniform(0.5 * (lo + hi) - half, 0.5 * (lo + hi) + half)),
        shape_coefficients=tuple(float(c) for c in coeffs),
        expression="smiling" if smiling else "neutral",
        smile=float(rng.uniform(0.3, 1.0) if smiling else rng.uniform(0.0, 0.25)),
        skin_rgb=skin,
        hair_colour=hair_name,
        hair_rgb=hair_rgb,
        eyebrows=float(np.clip(rng.normal(0.0, 0.45 * spread), -0.9, 0.9)),
        hair_volume=float(rng.uniform(0.55, 1.1)),
        hair_length=float(rng.choice([0.0, rng.uniform(0.2, 0.9)], p=[0.6, 0.4])) * min(1.0, spread / 0.75),
        mirrored=bool(rng.uniform() < 0.5),
    )
