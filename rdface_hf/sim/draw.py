"""Fresh simulated patients of a release's conditions: the known truth for benchmarks.

A filter, a generator or a report can be scored on the simulator, where the
truth is known: :func:`draw_patients` draws new patients (new identities, a
different seed) *of the conditions of an existing simulated release*, or
unaffected ones, as positives and negatives.

>>> patients = draw_patients("sim_release", per_condition=5, seed=1)        # doctest: +SKIP
>>> controls = draw_patients("sim_release", per_condition=2, seed=2, affected=False)  # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .._errors import InputError
from .._parallel import parallel_map
from .conditions import Condition
from .identities import build_bank
from .simulate import draw_image

# Keeps fresh draws apart from the release's own images (whose spawn keys start with 1).
FRESH_STREAM = 7


@dataclass(frozen=True)
class DrawnPatient:
    """One fresh simulated patient: RGB pixels, the condition it carries (``None`` if unaffected)."""

    pixels: np.ndarray
    disease_abbr: str | None
    disease_name: str | None
    truth: dict[str, Any]


def _release_conditions(release: Path) -> tuple[list[Condition], dict[str, Any]]:
    """The release's conditions (as the simulator drew them) and its ground truth."""
    try:
        truth = json.loads((release / "phenotypes.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{release} is not a simulated release (phenotypes.json: {exc})") from None
    width = max(3, len(str(len(truth["conditions"]))))
    conditions = [
        Condition(number=i + 1, features=dict(c["features"]), width=width) for i, c in enumerate(truth["conditions"])
    ]
    return conditions, truth


def _draw(bank, spec: dict, job: tuple[int, Condition]) -> np.ndarray:
    index, condition = job
    out = draw_image(bank, spec, condition, index, 0)
    with Image.open(io.BytesIO(out["bytes"])) as im:
        return np.asarray(im.convert("RGB")), out["truth"]


def draw_patients(
    release: str | os.PathLike,
    *,
    per_condition: int,
    seed: int,
    conditions: list[str] | None = None,
    affected: bool = True,
    workers: int | None = None,
    progress: bool = False,
) -> list[DrawnPatient]:
    """``per_condition`` new patients of each condition of ``release`` (a folder
    written by ``rdface simulate``), or unaffected patients when not ``affected``.

    ``conditions`` limits the draw to these abbreviations. Same arguments, same
    pixels. Images have the release's size and difficulty.
    """
    release = Path(release)
    all_conditions, truth = _release_conditions(release)
    chosen = all_conditions if conditions is None else [c for c in all_conditions if c.abbr in set(conditions)]
    if conditions is not None and len(chosen) != len(set(conditions)):
        unknown = sorted(set(conditions) - {c.abbr for c in all_conditions})
        raise InputError(f"{release} has no condition(s) {unknown}")
    bank = build_bank(int(truth["image_size"]))
    spec = {"seed": int(np.random.SeedSequence([seed, FRESH_STREAM]).generate_state(1)[0]),
            "difficulty": float(truth["difficulty"])}  # fmt: skip
    jobs = []
    for ci, cond in enumerate(chosen):
        target = cond if affected else Condition(number=cond.number, features={}, width=cond.width)
        jobs += [(ci * per_condition + j, target) for j in range(per_condition)]
    drawn = parallel_map(partial(_draw, bank, spec), jobs, workers=workers, chunksize=4, desc="patients",
                         progress=progress)  # fmt: skip
    names = {c["disease_abbr"]: c["disease_name"] for c in truth["conditions"]}
    out = []
    for (index, _), (pixels, img_truth) in zip(jobs, drawn):
        abbr = chosen[index // per_condition].abbr if affected else None
        out.append(DrawnPatient(pixels=pixels, disease_abbr=abbr, disease_name=names.get(abbr), truth=img_truth))
    return out
