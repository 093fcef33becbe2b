"""The ``simulate`` stage: a raw RDFace-shaped release with known phenotypes.

Output folder (written atomically: it appears only when complete)::

    OUT/
      rd_images/<abbr>/<image_name>   JPEG, quality 92, no metadata
      disease_images.csv              RDFace columns, then ``identity``
      phenotypes.json                 ground truth: conditions, identities, severities
      simulate_config.json            the SimConfig that made it
      preview.png                     with --preview: conditions x identities

Every image is a function of ``(seed, image index, attempt)`` only, so the
output is byte-identical for a seed whatever the number of workers. An image
whose perceptual hash falls near an earlier one's is redrawn with the next
attempt number, in index order.
"""

from __future__ import annotations

import csv
import hashlib
import io
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from threadpoolctl import threadpool_limits

from .._errors import RDFaceError
from .._io import atomic_write_bytes, atomic_write_json, atomic_write_text, file_sha256
from .._outputs import atomic_output_dir, check_output_dir
from .._parallel import default_workers, parallel_map
from .._results import StageResult
from ..dataset.images import NEAR_DUPLICATE_DISTANCE, perceptual_hash
from ..dataset.release import REQUIRED_COLUMNS
from .conditions import Condition, identity_spread, image_severities, sample_conditions, sample_counts
from .config import SimConfig
from .features import AXES, FEATURES
from .identities import IdentityBank, build_bank, sample_identity
from .preview import write_preview
from .render import render

EXTRA_COLUMNS = ("identity",)
JPEG_QUALITY = 92
MAX_ATTEMPTS = 50


@dataclass(frozen=True)
class SimResult(StageResult):
    out: Path
    conditions: int
    images: int
    redrawn: int  # images redrawn to avoid a near-duplicate
    seconds: float


@dataclass(frozen=True)
class _Plan:
    """What to draw: conditions, and per image its condition and name."""

    conditions: list[Condition]
    image_condition: list[int]
    image_names: list[str]


def make_plan(config: SimConfig) -> _Plan:
    rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(0,)))
    conditions = sample_conditions(config.conditions, rng, config.difficulty)
    counts = sample_counts(config.conditions, float(config.per_condition_mean), rng)
    image_condition, names = [], []
    for ci, (cond, count) in enumerate(zip(conditions, counts)):
        for j in range(count):
            image_condition.append(ci)
            names.append(f"{cond.abbr}_{j + 1:02d}.jpg")
    return _Plan(conditions, image_condition, names)


def image_rng(seed: int, index: int, attempt: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, index, attempt)))


def encode_jpeg(pixels: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def _hash_of(data: bytes) -> int:
    with Image.open(io.BytesIO(data)) as im:
        return perceptual_hash(np.asarray(im.convert("RGB")))


def draw_image(bank: IdentityBank, spec: dict, condition: Condition, index: int, attempt: int) -> dict[str, Any]:
    """One simulated patient: JPEG bytes, perceptual hash and ground truth."""
    rng = image_rng(spec["seed"], index, attempt)
    ident = sample_identity(rng, bank, identity_spread(spec["difficulty"]))
    sev = image_severities(condition, rng, spec["difficulty"])
    out = render(bank, ident, sev)
    data = encode_jpeg(out.pixels)
    truth = {
        "identity": ident.to_dict(),
        "features": {k: round(v * out.warp_scale, 6) for k, v in sev.items()},
        "warp_scale": out.warp_scale,
        "attempt": attempt,
    }
    return {"index": index, "bytes": data, "hash": _hash_of(data), "truth": truth}


def _draw_one(bank: IdentityBank, spec: dict, conditions: list[Condition], job: tuple[int, int, int]) -> dict[str, Any]:
    index, ci, attempt = job
    with threadpool_limits(1):  # one BLAS thread: fast under a pool, same bits everywhere
        return draw_image(bank, spec, conditions[ci], index, attempt)


def _draw_all(bank: IdentityBank, spec: dict, plan: _Plan, workers: int, progress: bool) -> list[dict]:
    jobs = [(i, ci, 0) for i, ci in enumerate(plan.image_condition)]
    draw = partial(_draw_one, bank, spec, plan.conditions)
    return parallel_map(draw, jobs, workers=workers, chunksize=8, desc="simulate", progress=progress)


def _too_close(candidate: int, accepted: np.ndarray, limit: int) -> bool:
    """Is ``candidate`` within ``limit`` bits of any accepted perceptual hash (vectorised)?"""
    if not len(accepted):
        return False
    xor = np.bitwise_xor(accepted, np.uint64(candidate))
    return bool((np.unpackbits(xor.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1) <= limit).any())


def _dedupe(results: list[dict], bank: IdentityBank, spec: dict, plan: _Plan) -> int:
    """Redraw, in index order, any image too close to an earlier one; returns the count."""
    limit = NEAR_DUPLICATE_DISTANCE  # the builder hashes the same decoded JPEG pixels
    accepted = np.zeros(len(results), dtype=np.uint64)
    redrawn = 0
    for i, res in enumerate(results):
        attempt = 0
        while _too_close(res["hash"], accepted[:i], limit):
            attempt += 1
            if attempt > MAX_ATTEMPTS:
                raise RDFaceError(
                    f"could not draw image {i + 1} distinct from the others in {MAX_ATTEMPTS} attempts "
                    "(too many images for this --image-size; use a larger size or fewer images)"
                )
            res = _draw_one(bank, spec, plan.conditions, (i, plan.image_condition[i], attempt))
            redrawn += 1
        results[i] = res
        accepted[i] = np.uint64(res["hash"])
    return redrawn


def _csv_text(plan: _Plan, identities: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REQUIRED_COLUMNS + EXTRA_COLUMNS)
    for name, ci, ident in zip(plan.image_names, plan.image_condition, identities):
        c = plan.conditions[ci]
        w.writerow([name, c.disease_name, c.abbr, c.sub_category, c.gene_name, c.orphanet_code, ident])
    return buf.getvalue()


def _ground_truth(config: SimConfig, plan: _Plan, results: list[dict], identities: list[str]) -> dict:
    images = []
    for name, ci, ident, res in zip(plan.image_names, plan.image_condition, identities, results):
        images.append({"image_name": name, "disease_abbr": plan.conditions[ci].abbr, "patient": ident, **res["truth"]})
    return {
        "simulator": "rdface_hf.sim",
        "seed": config.seed,
        "difficulty": config.difficulty,
        "image_size": config.image_size,
        "features": {
            n: {"axis": f.axis, "sign": f.sign, "measure": AXES[f.axis].description} for n, f in FEATURES.items()
        },
        "conditions": [c.to_dict() for c in plan.conditions],
        "images": images,
    }


def _identities_digest(folder: str | None) -> str | None:
    """sha256 over the names and bytes of the ``--identities`` photos (the simulator's only input)."""
    if folder is None:
        return None
    h = hashlib.sha256()
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file()):
        h.update(path.name.encode() + b"\0" + file_sha256(path).encode() + b"\n")
    return h.hexdigest()


def _write_release(tmp: Path, config: SimConfig, plan: _Plan, results: list[dict]) -> None:
    identities = [f"SIMP{i + 1:05d}" for i in range(len(results))]
    for name, ci, res in zip(plan.image_names, plan.image_condition, results):
        atomic_write_bytes(tmp / "rd_images" / plan.conditions[ci].abbr / name, res["bytes"])
    atomic_write_text(tmp / "disease_images.csv", _csv_text(plan, identities))
    atomic_write_json(tmp / "phenotypes.json", _ground_truth(config, plan, results, identities))
    config.save(tmp / config.config_file(), inputs_sha256=_identities_digest(config.identities))


def simulate(config: SimConfig, *, progress: bool = True) -> SimResult:
    """Write a simulated raw release to ``config.out`` (see module docstring)."""
    start = time.perf_counter()
    inputs = (config.identities,) if config.identities else ()
    owner = config.owner()
    check_output_dir(config.out, owner=owner, overwrite=config.overwrite, inputs=inputs)  # before any slow work
    bank = build_bank(config.image_size, config.identities)
    plan = make_plan(config)
    spec = {"seed": config.seed, "difficulty": float(config.difficulty)}
    workers = default_workers() if config.workers is None else config.workers
    with atomic_output_dir(config.out, owner=owner, overwrite=config.overwrite, inputs=inputs) as tmp:
        results = _draw_all(bank, spec, plan, workers, progress)
        redrawn = _dedupe(results, bank, spec, plan)
        _write_release(tmp, config, plan, results)
        if config.preview:
            write_preview(tmp / "preview.png", bank, plan.conditions, config.seed)
    return SimResult(
        Path(config.out).absolute(), len(plan.conditions), len(results), redrawn, time.perf_counter() - start
    )
