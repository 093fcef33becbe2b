"""The fixed test split and the cross-validation folds (the paper's protocol,
made leak-free and deterministic).

Every image gets one *partition*:

- ``TEST`` (-2): the fixed test set, identical for every fold;
- ``ALWAYS_TRAIN`` (-1): in the training split of every fold;
- ``0 .. folds-1``: the cross-validation part that is the validation split of
  that fold and in the training split of all the others.

The rules, all counted in *units* (a unit is a near-duplicate group: images
that are likely the same photo; a unit never straddles two splits):

1. **Mixed groups.** A near-duplicate group whose images are filed under
   more than one condition (a likely labelling error, warned about by the
   builder) always trains: it can neither be tested on nor validated without
   its twin leaking, and it must not carry one condition's image into another
   condition's quota.
2. **Test.** Conditions with at least two units give ``test_fraction`` of
   their units to test, at most all but one (every such condition keeps a
   unit out of test). Per condition the quota is ``floor(f * n)``; the
   remaining test places (total ``ceil(f * eligible units)``, as
   ``sklearn.model_selection.train_test_split`` counts) go to the conditions
   with the largest fractional parts, ties broken by a hash of the seed and
   the condition. So each condition's test count is within one of ``f * n``.
   Conditions with a single unit always train (the paper's singleton rule).
3. **Folds.** A condition left with a single unit after the test split goes
   to ``ALWAYS_TRAIN``: validating it would leave its training split empty.
   The units of every other condition are shuffled and dealt round-robin over
   the folds, conditions taken largest first (ties by the hash of their name),
   each deal continuing where the previous stopped. Hence fold sizes differ by
   at most one unit, per condition the fold counts differ by at most one, a
   condition with fewer
   units than folds appears in the validation split of only some folds (never
   all of its images in one), and every training split holds at least one
   unit of every condition.
4. **Determinism and stability.** Every random draw comes from
   ``numpy.random.SeedSequence`` (PCG64, platform-independent) keyed by the
   seed and a hash of the condition's *name*, and units are ordered by their
   smallest image id. So the same ids, conditions, groups and seed give the
   same partitions on any machine, whatever the input row order. A change in
   one condition (a file fixed or removed) leaves every other condition's
   test images where they were, except that the one spare test place of the
   rounding may move to another condition (the folds are re-dealt). The test
   split does not depend on ``folds``.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Hashable, Sequence

import numpy as np

TEST = -2
ALWAYS_TRAIN = -1


def _key(label: Hashable) -> int:
    """A stable 63-bit key of a condition (its name): not Python's salted hash()."""
    return int.from_bytes(hashlib.sha256(str(label).encode("utf-8")).digest()[:8], "big") >> 1


def _rng(seed: int, label: Hashable, stream: int) -> np.random.Generator:
    key = _key(label)
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([int(seed), key >> 32, key & 0xFFFFFFFF, stream]))
    )


def _units(ids: Sequence[str], labels: Sequence[Hashable], groups: Sequence[int] | None):
    """Condition -> its units (row-index lists ordered by smallest id), and the mixed units."""
    if groups is None:
        groups = list(range(len(ids)))
    members: dict[int, list[int]] = defaultdict(list)
    for row, g in enumerate(groups):
        members[int(g)].append(row)
    per_condition: dict[Hashable, list[list[int]]] = defaultdict(list)
    mixed: list[list[int]] = []
    for rows in members.values():
        rows = sorted(rows, key=lambda r: ids[r])
        conditions = {labels[r] for r in rows}
        if len(conditions) > 1:
            mixed.append(rows)
        else:
            per_condition[labels[rows[0]]].append(rows)
    for units in per_condition.values():
        units.sort(key=lambda u: ids[u[0]])
    return per_condition, mixed


def _test_quotas(sizes: dict[Hashable, int], fraction: float, seed: int) -> dict[Hashable, int]:
    eligible = {c: n for c, n in sizes.items() if n >= 2}
    quota = {c: min(math.floor(fraction * n), n - 1) for c, n in eligible.items()}
    remaining = math.ceil(fraction * sum(eligible.values()) - 1e-9) - sum(quota.values())
    order = sorted(
        eligible,
        key=lambda c: (
            -(fraction * eligible[c] - math.floor(fraction * eligible[c])),
            _rng(seed, c, 1).random(),
            _key(c),
        ),
    )
    while remaining > 0:
        progressed = False
        for c in order:
            if remaining > 0 and quota[c] < eligible[c] - 1:
                quota[c] += 1
                remaining -= 1
                progressed = True
        if not progressed:
            break  # every condition is at its cap (all but one unit in test)
    return quota


def assign_partitions(
    ids: Sequence[str],
    labels: Sequence[Hashable],
    groups: Sequence[int] | None = None,
    *,
    test_fraction: float = 0.25,
    folds: int = 5,
    seed: int = 42,
) -> np.ndarray:
    """Return one partition per row: ``TEST``, ``ALWAYS_TRAIN`` or a fold index.

    ``ids`` must be unique; ``labels`` name each row's condition (use the
    condition's name, not a class index that depends on row order);
    ``groups`` (optional) gives each row its near-duplicate group, and rows
    of one group always share a partition.
    """
    if len(ids) != len(labels) or (groups is not None and len(groups) != len(ids)):
        raise ValueError("ids, labels and groups must have the same length")
    if len(set(ids)) != len(ids):
        raise ValueError("ids must be unique")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    partition = np.full(len(ids), ALWAYS_TRAIN, dtype=np.int64)
    units, _mixed = _units(ids, labels, groups)  # mixed groups stay ALWAYS_TRAIN
    quotas = _test_quotas({c: len(u) for c, u in units.items()}, test_fraction, seed)
    rest: dict[Hashable, list[list[int]]] = {}
    for c, condition_units in units.items():
        order = _rng(seed, c, 0).permutation(len(condition_units))
        shuffled = [condition_units[i] for i in order]
        q = quotas.get(c, 0)
        for unit in shuffled[:q]:
            partition[unit] = TEST
        rest[c] = shuffled[q:]
    position = 0  # one deal over all conditions keeps the folds within one unit of each other
    for c in sorted(rest, key=lambda c: (-len(rest[c]), _key(c), str(c))):
        if len(rest[c]) < 2:
            continue  # ALWAYS_TRAIN
        for unit_index in _rng(seed, c, 2).permutation(len(rest[c])):
            partition[rest[c][unit_index]] = position % folds
            position += 1
    return partition


def split_names(partition: np.ndarray, fold: int) -> list[str]:
    """Split name per row for one fold: ``train``, ``validation`` or ``test``."""
    out = []
    for p in np.asarray(partition):
        if p == TEST:
            out.append("test")
        elif p == fold:
            out.append("validation")
        else:
            out.append("train")
    return out


def partition_name(p: int) -> str:
    """Stable shard / column name of a partition."""
    if p == TEST:
        return "test"
    if p == ALWAYS_TRAIN:
        return "train-always"
    return f"cv-{int(p)}"
