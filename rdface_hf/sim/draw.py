"""Fresh simulated patients of a release's conditions: the known truth for benchmarks.

A filter, a generator or a report can be scored on the simulator, where the
truth is known: :func:`draw_patients` draws new patients (new identities, a
different seed) *of the conditions of an existing simulated release*, or
unaffected ones, as positives and negatives. They are drawn with the release's
own settings: its difficulty (feature severities, patient variation, photo
nuisance), source style and source portraits.

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
from ..dataset.landmarks import close_process_landmarkers, resolve_landmarker_model
from .bank import build_bank
from .conditions import Condition
from .patient import MAX_ATTEMPTS, Spec, draw_image

# Keeps fresh draws apart from the release's own images.
FRESH_STREAM = 7


@dataclass(frozen=True)
class DrawnPatient:
    """One fresh simulated patient: RGB pixels, the condition it carries (``None`` if unaffected)."""

    pixels: np.ndarray
    disease_abbr: str | None
    disease_name: str | None
    truth: dict[str, Any]


def _read_json(path: Path, release: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{release} is not a simulated release ({path.name}: {exc})") from None


def _release(release: Path, identities: str | os.PathLike | None):
    """The release's conditions, their source styles, its settings and its identities folder."""
    truth = _read_json(release / "phenotypes.json", release)
    config = (
        _read_json(release / "simulate_config.json", release) if (release / "simulate_config.json").is_file() else {}
    )
    try:
        width = max(3, len(str(len(truth["conditions"]))))
        conditions = [Condition(number=i + 1, features=dict(c["features"]), width=width)
                      for i, c in enumerate(truth["conditions"])]  # fmt: skip
        styles = [c.get("source_style") for c in truth["conditions"]]
        spec = Spec(0, float(truth["difficulty"]), float(truth.get("source_style", 0.0)), int(truth["image_size"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{release}/phenotypes.json is not from this simulator ({exc!r})") from None
    folder = identities if identities is not None else config.get("identities")
    if folder is not None and not Path(folder).is_dir():
        raise InputError(
            f"{release} was simulated with --identities {folder}, which is gone; pass identities= with the same photos"
        )
    return conditions, [_style(s) for s in styles], spec, truth, folder


def _style(style: dict | None) -> dict | None:
    if style is None:
        return None
    return {"cast": tuple(style["cast"]), "border": (style["border"][0], tuple(style["border"][1])),
            "side": int(style["side"]), "quality": int(style["quality"])}  # fmt: skip


def _draw(bank, spec: Spec, job: tuple[int, Condition, dict | None, bool]):
    """One patient, redrawn (as the release's images are) until MediaPipe finds a face."""
    index, condition, style, affected = job
    for attempt in range(MAX_ATTEMPTS + 1):
        out = draw_image(bank, spec, condition, style, index, attempt, affected=affected)
        if out["face"]:
            break
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
    identities: str | os.PathLike | None = None,
) -> list[DrawnPatient]:
    """``per_condition`` new patients of each condition of ``release`` (a folder
    written by ``rdface simulate``), or unaffected patients when not ``affected``.

    ``conditions`` limits the draw to these abbreviations. Same arguments, same
    pixels. Patients have the release's difficulty, source style and portraits
    (``identities`` overrides the folder recorded in its config).
    """
    release = Path(release)
    all_conditions, styles, spec, truth, folder = _release(release, identities)
    chosen = list(range(len(all_conditions)))
    if conditions is not None:
        chosen = [i for i, c in enumerate(all_conditions) if c.abbr in set(conditions)]
        if len(chosen) != len(set(conditions)):
            unknown = sorted(set(conditions) - {c.abbr for c in all_conditions})
            raise InputError(f"{release} has no condition(s) {unknown}")
    bank = build_bank(folder)
    fresh = int(np.random.SeedSequence([seed, FRESH_STREAM]).generate_state(1)[0])
    spec = Spec(fresh, spec.difficulty, spec.source_style, spec.size, str(resolve_landmarker_model()))
    jobs = [(k * per_condition + j, all_conditions[ci], styles[ci] if affected else None, affected)
            for k, ci in enumerate(chosen) for j in range(per_condition)]  # fmt: skip
    drawn = parallel_map(partial(_draw, bank, spec), jobs, workers=workers, chunksize=4, desc="patients",
                         progress=progress, serial_cleanup=close_process_landmarkers)  # fmt: skip
    names = {c["disease_abbr"]: c["disease_name"] for c in truth["conditions"]}
    out = []
    for (index, _, _, _), (pixels, img_truth) in zip(jobs, drawn):
        abbr = all_conditions[chosen[index // per_condition]].abbr if affected else None
        out.append(DrawnPatient(pixels=pixels, disease_abbr=abbr, disease_name=names.get(abbr), truth=img_truth))
    return out
