"""The ``simulate`` stage: a raw RDFace-shaped release with known phenotypes.

Output folder (written atomically: it appears only when complete)::

    OUT/
      rd_images/<abbr>/<image_name>   JPEG (quality, size, crop, colour: see the image nuisance), no metadata
      disease_images.csv              RDFace's six columns, then ``identity`` (a random patient id) and ``age``
      phenotypes.json                 ground truth: settings, features, conditions, every patient
      simulate_config.json            the SimConfig that made it
      preview.png                     with --preview: real images of some conditions beside unaffected twins

Every image is a function of ``(seed, image index, attempt)`` only, so the
output is byte-identical for a seed whatever the number of workers. An image
in which MediaPipe finds no face (decoded as ``rdface build`` decodes it), or
whose perceptual hash falls near an earlier one's, is redrawn with the next
attempt number, in index order: every image of a release has a face and
builds without a rejected row. :attr:`SimResult.face_rate` says how often a
first draw had one.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from threadpoolctl import threadpool_limits

from .._errors import RDFaceError
from .._outputs import atomic_output_dir, check_output_dir
from .._parallel import default_workers, parallel_map
from .._results import StageResult
from ..dataset.images import NEAR_DUPLICATE_DISTANCE
from ..dataset.landmarks import close_process_landmarkers, resolve_landmarker_model
from .bank import FEW_PORTRAITS, IdentityBank, build_bank
from .conditions import Condition, sample_conditions, sample_counts
from .config import SimConfig
from .patient import MAX_ATTEMPTS, Spec, draw_image, image_rng
from .preview import write_preview
from .release import write_release
from .style import sample_source_style

__all__ = ["MAX_ATTEMPTS", "Plan", "SimResult", "Spec", "draw_image", "image_rng", "make_plan", "simulate"]


@dataclass(frozen=True)
class SimResult(StageResult):
    out: Path
    conditions: int
    images: int
    redrawn: int  # images redrawn to avoid a near-duplicate
    seconds: float
    portraits: int = 2  # source portraits in use
    no_face: int = 0  # draws redrawn because MediaPipe found no face in them

    @property
    def face_rate(self) -> float:
        """Share of first draws in which MediaPipe found a face (every written image has one)."""
        return 1.0 - self.no_face / max(1, self.images)


@dataclass(frozen=True)
class Plan:
    """What to draw: conditions (with their source styles), and per image its condition and name."""

    conditions: list[Condition]
    source_styles: list[dict]
    image_condition: list[int]
    image_names: list[str]


def make_plan(config: SimConfig) -> Plan:
    rng = np.random.default_rng(np.random.SeedSequence(config.seed, spawn_key=(0,)))
    conditions = sample_conditions(config.conditions, rng, config.difficulty)
    counts = sample_counts(config.conditions, float(config.per_condition_mean), rng)
    styles = [sample_source_style(_style_rng(config.seed, i), int(config.image_size)) for i in range(len(conditions))]
    image_condition, names = [], []
    for ci, (cond, count) in enumerate(zip(conditions, counts)):
        for j in range(count):
            image_condition.append(ci)
            names.append(f"{cond.abbr}_{j + 1:02d}.jpg")
    return Plan(conditions, styles, image_condition, names)


def _style_rng(seed: int, condition: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(4, condition)))


def _draw_one(bank: IdentityBank, spec: Spec, plan: Plan, job: tuple[int, int]) -> dict[str, Any]:
    index, attempt = job
    ci = plan.image_condition[index]
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with threadpool_limits(1):  # one BLAS thread: fast under a pool, same bits everywhere
            return draw_image(bank, spec, plan.conditions[ci], plan.source_styles[ci], index, attempt)
    finally:
        cv2.setNumThreads(threads)


def _too_close(candidate: int, accepted: np.ndarray, limit: int) -> bool:
    """Is ``candidate`` within ``limit`` bits of any accepted perceptual hash (vectorised)?"""
    if not len(accepted):
        return False
    xor = np.bitwise_xor(accepted, np.uint64(candidate))
    return bool((np.unpackbits(xor.view(np.uint8).reshape(-1, 8), axis=1).sum(axis=1) <= limit).any())


def _rejected(results: list[dict]) -> list[int]:
    """Images, in index order, without a face or too close to an earlier kept one."""
    kept = np.zeros(len(results), dtype=np.uint64)
    n_kept, out = 0, []
    for i, res in enumerate(results):
        if not res["face"] or _too_close(res["hash"], kept[:n_kept], NEAR_DUPLICATE_DISTANCE):
            out.append(i)  # the builder hashes the same decoded JPEG pixels
        else:
            kept[n_kept] = np.uint64(res["hash"])
            n_kept += 1
    return out


def _redraw(results: list[dict], draw, workers: int) -> tuple[int, int]:
    """Redraw, in rounds, every image without a face or near an earlier one (each with its
    next attempt number, all of a round in parallel) until none is; returns the counts of
    both kinds of redraw. The rounds depend on the images alone, not on ``workers``."""
    attempts = [0] * len(results)
    no_face = duplicate = 0
    while rejected := _rejected(results):
        for i in rejected:
            no_face += not results[i]["face"]
            duplicate += bool(results[i]["face"])
            attempts[i] += 1
            if attempts[i] > MAX_ATTEMPTS:
                raise RDFaceError(
                    f"could not draw image {i + 1} with a face, distinct from the others, in {MAX_ATTEMPTS} "
                    "attempts (too many images for this --image-size; use a larger size or fewer images)"
                )
        jobs = [(i, attempts[i]) for i in rejected]
        for i, res in zip(rejected, parallel_map(draw, jobs, workers=workers, chunksize=2, progress=False)):
            results[i] = res
    return no_face, duplicate


def warn_few_portraits(bank: IdentityBank) -> None:
    n = len(bank.portraits)
    if n < FEW_PORTRAITS:
        print(
            f"rdface simulate: warning: only {n} source portrait(s) in use (fewer than {FEW_PORTRAITS}): "
            f"patients share their source faces; pass --identities DIR with {FEW_PORTRAITS} or more portraits",
            file=sys.stderr,
        )


def simulate(config: SimConfig, *, progress: bool = True) -> SimResult:
    """Write a simulated raw release to ``config.out`` (see module docstring)."""
    start = time.perf_counter()
    inputs = (config.identities,) if config.identities else ()
    owner = config.owner()
    check_output_dir(config.out, owner=owner, overwrite=config.overwrite, inputs=inputs)  # before any slow work
    bank = build_bank(config.identities)
    warn_few_portraits(bank)
    plan = make_plan(config)
    model = str(resolve_landmarker_model())
    spec = Spec(int(config.seed), float(config.difficulty), float(config.source_style), int(config.image_size), model)
    workers = default_workers() if config.workers is None else config.workers
    draw = partial(_draw_one, bank, spec, plan)
    with atomic_output_dir(config.out, owner=owner, overwrite=config.overwrite, inputs=inputs) as tmp:
        jobs = [(i, 0) for i in range(len(plan.image_names))]
        results = parallel_map(draw, jobs, workers=workers, chunksize=8, desc="simulate", progress=progress)
        try:
            no_face, redrawn = _redraw(results, draw, workers)
            write_release(tmp, config, plan, results, bank)
            if config.preview:
                write_preview(tmp / "preview.png", bank, spec, plan, results)
        finally:
            close_process_landmarkers()
    seconds = time.perf_counter() - start
    return SimResult(Path(config.out).absolute(), len(plan.conditions), len(results), redrawn, seconds,
                     len(bank.portraits), no_face)  # fmt: skip
