"""``rdface generate --generator morph``: new faces of a condition from two of its training faces.

Leak-free by construction: parents, shape statistics and identity partners
all come from ``RDFaceDataset.training_split(fold)``; the test split is never
read. CPU only, no training; images are made in worker processes and written
shard by shard, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import datasets
import numpy as np
from PIL import Image
from tqdm.auto import tqdm

from ..._config import open_run_dir
from ..._errors import InputError
from ..._outputs import note
from ..._parallel import default_workers, process_pool
from ...dataset.facade import RDFaceDataset, parse_fold
from ...dataset.images import ImageRejected, decode_rgb
from ...dataset.synthetic import SyntheticImage, SyntheticSetWriter, synthetic_card
from ..config import GenerateConfig, GenerateResult
from .morph import MorphInput, morph_pair
from .plan import MorphJob, MorphPlan, plan_morphs
from .shapes import ShapeStats, fit_shape_stats
from .warp import to_index_coords

BLOCK = 64  # images per worker round and per parquet shard (the unit of resumption)


class TrainingFaces:
    """The training split's images (scaled to ``max_side``) and landmarks, in row order."""

    def __init__(self, dataset: RDFaceDataset, fold: str, max_side: int) -> None:
        split = dataset.training_split(fold)
        if len(split) == 0:
            raise InputError(f"{dataset.source}: the training split of fold {fold} is empty")
        self.labels = [int(y) for y in split["condition"]]
        self.ids = list(split["image_id"])
        landmarks = dataset.landmarks(split)
        self.pixels: list[np.ndarray] = []
        self.points: list[np.ndarray | None] = []
        images = split.select_columns(["image"]).cast_column("image", datasets.Image(decode=False))["image"]
        for i, image in enumerate(images):
            try:  # the builder's limits; an undecodable training image is one line
                pixels = _scaled(np.asarray(decode_rgb((image or {}).get("bytes"))), max_side)
            except ImageRejected as exc:
                raise InputError(
                    f"{dataset.source}: training image {self.ids[i]}: {exc}; rebuild the dataset"
                ) from None
            self.pixels.append(pixels)
            face = _usable(landmarks[i])
            self.points.append(to_index_coords(landmarks[i], pixels.shape[1], pixels.shape[0]) if face else None)

    @property
    def has_face(self) -> list[bool]:
        return [p is not None for p in self.points]

    def shape_stats(self) -> ShapeStats:
        faces = [i for i, p in enumerate(self.points) if p is not None]
        if not faces:
            raise InputError("no training image has landmarks: nothing to morph")
        return fit_shape_stats([self.points[i] for i in faces], [self.labels[i] for i in faces])


def _usable(points: np.ndarray) -> bool:
    """A face's landmarks: present (no NaN) and spread out (a hostile column could hold one point 478 times)."""
    return bool(not np.isnan(points).any() and np.ptp(points[:, 0]) > 0 and np.ptp(points[:, 1]) > 0)


def _scaled(pixels: np.ndarray, max_side: int) -> np.ndarray:
    height, width = pixels.shape[:2]
    if max(height, width) <= max_side:
        return pixels
    scale = max_side / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.asarray(Image.fromarray(pixels).resize(size, Image.LANCZOS))


def job_input(job: MorphJob, faces: TrainingFaces, stats: ShapeStats, config: GenerateConfig) -> MorphInput:
    a, b = job.parent_a, job.parent_b
    return MorphInput(
        pixels_a=faces.pixels[a],
        points_a=faces.points[a],
        pixels_b=faces.pixels[b],
        points_b=faces.points[b],
        mix=job.mix,
        condition_mean=stats.conditions[job.condition],
        deviation=stats.deviation(job.condition),
        toward_mean=config.toward_mean,
        caricature=config.caricature,
        own_shape_only=job.own_shape_only,
    )


def _morph_blocks(jobs: list[MorphJob], inputs, workers: int) -> Iterator[tuple[list[MorphJob], list[np.ndarray]]]:
    """``(block, images)`` for consecutive blocks of jobs, in order, from one process pool."""
    blocks = [jobs[i : i + BLOCK] for i in range(0, len(jobs), BLOCK)]
    if workers <= 1 or len(jobs) <= 8:  # a pool costs a second or two to start
        for block in blocks:
            yield block, [morph_pair(inputs(j)) for j in block]
        return
    with process_pool(workers) as pool:
        for block in blocks:
            yield block, list(pool.map(morph_pair, [inputs(j) for j in block], chunksize=4))


def _card(dataset: RDFaceDataset, config: GenerateConfig, plan: MorphPlan, trained_on: str, abbr: list[str]):
    singles = ", ".join(abbr[c] for c in plan.own_shape_only) or "none"
    skipped = ", ".join(abbr[c] for c in plan.no_face + plan.no_partner) or "none"
    description = (
        f"Landmark morphs of the training images of `{trained_on}` (never the test split): two real faces "
        "of a condition are aligned on their 478 MediaPipe landmarks, warped piecewise-affinely to an "
        f"interpolated shape and cross-dissolved (second parent's weight {config.mix_min}..{config.mix_max}, "
        f"toward the condition's mean shape {config.toward_mean}, caricature {config.caricature}).\n\n"
        f"Conditions with a single training face, morphed toward their own shape only with identity "
        f"partners from other conditions (`params.own_shape_only`): {singles}.\n\n"
        f"Conditions skipped (no training face, or no partner): {skipped}."
    )
    return synthetic_card(
        title=f"Landmark morphs of {dataset.repo_id or dataset.root.name}",
        description=description,
        generator="morph",
        source_dataset=dataset.repo_id or dataset.root.name,
        tags=["morph"],
    )


def _row(job: MorphJob, image: np.ndarray, faces: TrainingFaces, config, abbr, source, trained_on) -> SyntheticImage:
    partner = abbr[faces.labels[job.parent_b]] if job.own_shape_only else None
    params = {
        "mix": job.mix,
        "toward_mean": config.toward_mean,
        "caricature": config.caricature,
        "own_shape_only": job.own_shape_only,
        "partner_condition": partner,
        "max_side": config.max_side,
    }
    return SyntheticImage(
        image=image,
        condition=job.condition,
        generator="morph",
        source=source,
        seed=job.seed,
        trained_on=trained_on,
        params=params,
        parent_ids=[faces.ids[job.parent_a], faces.ids[job.parent_b]],
    )


def _report(plan: MorphPlan, abbr: list[str], per_condition: int) -> dict[str, int]:
    if plan.own_shape_only:
        note(
            f"{len(plan.own_shape_only)} condition(s) with one training face are morphed toward their own shape "
            f"only, with identity partners from other conditions: {', '.join(abbr[c] for c in plan.own_shape_only)}"
        )
    for reason, conditions in (("no training face", plan.no_face), ("no identity partner", plan.no_partner)):
        if conditions:
            note(f"skipped {len(conditions)} condition(s) with {reason}: {', '.join(abbr[c] for c in conditions)}")
    return {
        "no training face": len(plan.no_face) * per_condition,
        "no identity partner": len(plan.no_partner) * per_condition,
    }


def generate_morph(config: GenerateConfig, *, progress: bool = True) -> GenerateResult:
    """Write (or resume) a synthetic set of morphs; see the module docstring."""
    start = time.perf_counter()
    dataset = RDFaceDataset(config.dataset)
    fold = parse_fold(config.fold)
    trained_on = "test" if fold is None else f"fold_{fold}"
    conditions = dataset.select_conditions(config.conditions)
    abbr = dataset.abbreviations
    faces = TrainingFaces(dataset, config.fold, config.max_side)
    stats = faces.shape_stats()
    plan = plan_morphs(
        faces.labels, faces.has_face, conditions, per_condition=config.per_condition, seed=config.seed,
        mix_range=(config.mix_min, config.mix_max),
    )  # fmt: skip
    dropped = _report(plan, abbr, config.per_condition)
    source = f"{dataset.repo_id}@{dataset.root.name}" if dataset.repo_id else dataset.root.name
    inputs = [dataset.root] if dataset.repo_id is None else []
    workers = config.workers or default_workers()
    with open_run_dir(config, config.output_dir, overwrite=config.overwrite, inputs=inputs,
                      digests={"dataset": dataset.digest}, dataset_digest=dataset.digest,
                      dataset=source) as (folder, _resumed):  # fmt: skip
        writer = SyntheticSetWriter(folder, dataset.class_names, shard_size=BLOCK)
        done = writer.done(("condition", "seed"))
        todo = [j for j in plan.jobs if (j.condition, j.seed) not in done]
        made = 0
        with tqdm(total=len(todo), desc="morph", unit="img", disable=not progress) as bar:
            for block, images in _morph_blocks(todo, lambda j: job_input(j, faces, stats, config), workers):
                for job, image in zip(block, images):
                    writer.add(_row(job, image, faces, config, abbr, source, trained_on))
                writer.flush()
                made += len(block)
                bar.update(len(block))
        writer.finish(_card(dataset, config, plan, trained_on, abbr), sample_sheet=True)
        total = writer.count()
    return GenerateResult(
        out=Path(folder), generator="morph", images=total, new_images=made,
        dropped={k: v for k, v in dropped.items() if v}, seconds=time.perf_counter() - start,
    )  # fmt: skip
