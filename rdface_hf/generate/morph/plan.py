"""Which morphs to make: the parents and mix of every image, from the seed alone.

Image ``i`` of condition ``c`` in a run with ``--seed S`` has the row seed
``S + i``; its parents and mix are drawn from a generator keyed on
``(S + i, c)``, so ``--seed S + i --per-condition 1`` remakes exactly that
image, and a resumed run makes the same images as an uninterrupted one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class MorphJob:
    """One image to make: indices into the training rows, and its mix."""

    condition: int
    seed: int
    parent_a: int
    parent_b: int
    mix: float
    own_shape_only: bool  # the condition has one training face: B is an identity partner of another condition


@dataclass
class MorphPlan:
    jobs: list[MorphJob] = field(default_factory=list)
    own_shape_only: list[int] = field(default_factory=list)  # conditions with a single training face
    no_face: list[int] = field(default_factory=list)  # conditions without any training face (skipped)
    no_partner: list[int] = field(default_factory=list)  # one face and no other condition's face (skipped)


def plan_morphs(
    labels: list[int],
    has_face: list[bool],
    conditions: list[int],
    *,
    per_condition: int,
    seed: int,
    mix_range: tuple[float, float],
) -> MorphPlan:
    """Parents and mix of ``per_condition`` morphs of each of ``conditions``.

    Parents are training rows with a face of the same condition (two distinct
    ones). A condition with one such row is morphed toward its own shape only:
    the second parent is drawn from the other conditions' faces and lends
    identity, and its weight is at most one half, so the condition's face
    dominates.
    """
    members: dict[int, list[int]] = {}
    for i, (label, face) in enumerate(zip(labels, has_face)):
        if face:
            members.setdefault(int(label), []).append(i)
    plan = MorphPlan()
    low, high = mix_range
    for condition in conditions:
        own = members.get(condition, [])
        if not own:
            plan.no_face.append(condition)
            continue
        partners = own if len(own) >= 2 else [i for c, rows in sorted(members.items()) if c != condition for i in rows]
        single = len(own) == 1
        if single:
            if not partners:
                plan.no_partner.append(condition)
                continue
            plan.own_shape_only.append(condition)
        for k in range(per_condition):
            rng = np.random.default_rng([seed + k, condition])
            if single:
                a, b = own[0], partners[int(rng.integers(len(partners)))]
            else:
                a, b = (own[int(j)] for j in rng.choice(len(own), size=2, replace=False))
            mix = float(rng.uniform(low, high))
            if single:
                mix = min(mix, 1.0 - mix)
            plan.jobs.append(MorphJob(condition, seed + k, int(a), int(b), round(mix, 6), single))
    return plan
