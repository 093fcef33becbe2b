"""Simulated conditions: feature combinations, image counts, per-image expressivity.

A condition's number, abbreviation, name, gene and Orphanet code are neutral
codes; which features it has is recorded in ``phenotypes.json`` alone.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .features import AXES, FEATURES

MAX_PER_CONDITION = 7
SINGLETON_FRACTION = 0.03  # RDFace has a few single-image conditions
FEATURES_PER_CONDITION = ((2, 0.35), (3, 0.45), (4, 0.20))


@dataclass(frozen=True)
class Condition:
    """One simulated syndrome: named features with their severities."""

    number: int  # 1-based
    features: dict[str, float] = field(default_factory=dict)  # name -> severity (> 0)
    width: int = 3

    def _code(self, prefix: str) -> str:
        return f"{prefix}{self.number:0{self.width}d}"

    @property
    def abbr(self) -> str:
        return self._code("SIM")

    @property
    def disease_name(self) -> str:
        """A neutral name: the features are in ``phenotypes.json`` only, never in a name."""
        return self._code("Simulated syndrome ")

    @property
    def gene_name(self) -> str:
        return self._code("SIMG")

    @property
    def orphanet_code(self) -> str:
        return self._code("SIM-")

    sub_category = "simulated"

    def to_dict(self) -> dict:
        return {
            "disease_abbr": self.abbr,
            "disease_name": self.disease_name,
            "features": {k: round(v, 6) for k, v in self.features.items()},
        }


def severity_scale(difficulty: float) -> float:
    """Typical feature severity at a difficulty (1.6 at 0, 1.33 at 0.5, 0.64 at 1)."""
    return 1.6 * (1.0 - 0.3 * difficulty - 0.3 * difficulty**4)


def identity_spread(difficulty: float) -> float:
    """Scale of identity variation (shape, age, colouring) at a difficulty."""
    return 0.3 + 0.8 * difficulty


def nuisance_level(difficulty: float) -> float:
    """Range of the photo's nuisance (pose, light, background, reproduction), 0..1 (slow at first)."""
    return float(difficulty) ** 1.5


def smiling_probability(difficulty: float) -> float:
    return 0.15 + 0.5 * difficulty


@lru_cache(maxsize=1)
def max_conditions() -> int:
    """How many distinct conditions exist: feature sets of the sizes in
    ``FEATURES_PER_CONDITION``, at most one feature per axis."""
    per_axis = Counter(f.axis for f in FEATURES.values())
    sizes = {k for k, _ in FEATURES_PER_CONDITION}
    return sum(
        math.prod(per_axis[a] for a in axes) for k in sizes for axes in itertools.combinations(sorted(per_axis), k)
    )


def sample_conditions(n: int, rng: np.random.Generator, difficulty: float) -> list[Condition]:
    """``n`` distinct feature combinations (no axis twice, no repeated combination)."""
    by_axis: dict[str, list[str]] = {}
    for name, f in FEATURES.items():
        by_axis.setdefault(f.axis, []).append(name)
    axes = list(AXES)
    sizes, probs = zip(*FEATURES_PER_CONDITION)
    width = max(3, len(str(n)))
    seen: set[frozenset] = set()
    out: list[Condition] = []
    while len(out) < n:
        k = int(rng.choice(sizes, p=probs))
        chosen = sorted(rng.choice(len(axes), size=k, replace=False))
        names = [by_axis[axes[i]][int(rng.integers(len(by_axis[axes[i]])))] for i in chosen]
        key = frozenset(names)
        if key in seen:
            continue
        seen.add(key)
        sev = rng.uniform(0.8, 1.2, size=k) * severity_scale(difficulty)
        out.append(Condition(number=len(out) + 1, features=dict(zip(names, map(float, sev))), width=width))
    return out


def sample_counts(n: int, mean: float, rng: np.random.Generator) -> list[int]:
    """Images per condition: 1..7 each, ``round(n * mean)`` in all, a few singletons."""
    total = round(n * mean)
    total = min(max(total, n), MAX_PER_CONDITION * n)
    p = min(max((mean - 1.0) / (MAX_PER_CONDITION - 1), 0.0), 1.0)
    counts = 1 + rng.binomial(MAX_PER_CONDITION - 1, p, size=n)
    singles = round(SINGLETON_FRACTION * n)
    while singles and (n - singles) * MAX_PER_CONDITION + singles < total:
        singles -= 1
    fixed = set(rng.choice(n, size=singles, replace=False).tolist()) if singles else set()
    for i in fixed:
        counts[i] = 1
    free = [i for i in range(n) if i not in fixed]
    while counts.sum() != total:
        if counts.sum() < total:
            options = [i for i in free if counts[i] < MAX_PER_CONDITION]
            counts[options[int(rng.integers(len(options)))]] += 1
        else:
            options = [i for i in free if counts[i] > (2 if singles else 1)] or [i for i in free if counts[i] > 1]
            counts[options[int(rng.integers(len(options)))]] -= 1
    return [int(c) for c in counts]


def image_severities(condition: Condition, rng: np.random.Generator, difficulty: float) -> dict[str, float]:
    """Per-image severities: variable expressivity, and reduced penetrance when hard."""
    out = {}
    for name, sev in condition.features.items():
        factor = float(np.exp(rng.normal(0.0, 0.08 + 0.25 * difficulty)))
        present = rng.uniform() >= 0.2 * difficulty
        out[name] = float(min(sev * factor, 1.7)) if present else 0.0
    return out
