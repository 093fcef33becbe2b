"""The morph plan: parents and mixes from the seed alone; single-face conditions; no face."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rdface_hf.generate.morph.plan import plan_morphs

LABELS = [0, 0, 0, 1, 2, 2, 3]
FACES = [True, True, True, True, True, True, False]


def _plan(**kw):
    args = dict(per_condition=4, seed=0, mix_range=(0.3, 0.7))
    return plan_morphs(LABELS, FACES, [0, 1, 2, 3], **{**args, **kw})


def test_parents_belong_to_the_condition():
    plan = _plan()
    for job in plan.jobs:
        if job.condition in (0, 2):
            assert LABELS[job.parent_a] == LABELS[job.parent_b] == job.condition
            assert job.parent_a != job.parent_b and not job.own_shape_only
            assert 0.3 <= job.mix <= 0.7


def test_single_face_condition_uses_identity_partners():
    plan = _plan()
    assert plan.own_shape_only == [1] and plan.no_face == [3]
    singles = [j for j in plan.jobs if j.condition == 1]
    assert len(singles) == 4
    for job in singles:
        assert job.own_shape_only and job.parent_a == 3 and LABELS[job.parent_b] != 1
        assert job.mix <= 0.5  # the condition's own face dominates


def test_no_partner_at_all():
    plan = plan_morphs([0], [True], [0], per_condition=2, seed=0, mix_range=(0.3, 0.7))
    assert plan.jobs == [] and plan.no_partner == [0]


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(0, 5))
def test_row_seed_remakes_the_image(seed, k):
    """Image k of a run with --seed S is image 0 of a run with --seed S + k."""
    whole = plan_morphs(LABELS, FACES, [0, 2], per_condition=6, seed=seed, mix_range=(0.2, 0.8))
    alone = plan_morphs(LABELS, FACES, [0, 2], per_condition=1, seed=seed + k, mix_range=(0.2, 0.8))
    for condition in (0, 2):
        job = [j for j in whole.jobs if j.condition == condition][k]
        assert job == next(j for j in alone.jobs if j.condition == condition)
        assert job.seed == seed + k
