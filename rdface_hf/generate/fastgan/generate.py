"""``rdface generate --generator fastgan``: a synthetic set from a trained FastGAN.

A class-conditional model draws ``--per-condition`` images of each chosen
condition (row seed ``--seed + i``; the same seed gives the same image). A
pooled model draws samples with seeds ``--seed``, ``--seed + 1``, ... and
labels each with the nearest condition landmark prototype (MediaPipe
landmarks of the sample, Procrustes-aligned); a sample without a face, of a
condition not asked for, or of a condition already full is dropped (counted),
until every condition is full or ``--pooled-budget`` samples per requested
image were drawn. Both write the synthetic set format, resumably.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..._config import open_run_dir
from ..._errors import InputError
from ..._io import input_digest
from ...dataset.facade import select_conditions
from ...dataset.synthetic import SyntheticImage, SyntheticSetWriter, synthetic_card
from ..config import GenerateConfig, GenerateResult
from .hub import load_generator
from .prototypes import nearest_prototype


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _row(g, image, condition: int, seed: int, source: str, params: dict) -> SyntheticImage:
    return SyntheticImage(
        image=image, condition=condition, generator="fastgan", source=source, seed=seed,
        trained_on=g.provenance.get("trained_on", "unknown"), params=params, parent_ids=g.training_ids[condition],
    )  # fmt: skip


def _conditional(g, writer, conditions, config: GenerateConfig, source, progress) -> tuple[int, dict]:
    done = writer.done(("condition", "seed"))
    jobs = [(c, config.seed + i) for c in conditions for i in range(config.per_condition)]
    jobs = [j for j in jobs if j not in done]
    params = {"mode": "conditional", "resolution": g.resolution}
    with tqdm(total=len(jobs), desc="fastgan", unit="img", disable=not progress) as bar:
        for start in range(0, len(jobs), config.batch_size):
            chunk = jobs[start : start + config.batch_size]
            images = g.sample([s for _, s in chunk], [c for c, _ in chunk], batch_size=config.batch_size)
            for (c, s), image in zip(chunk, images):
                writer.add(_row(g, image, c, s, source, params))
            bar.update(len(chunk))
    return len(jobs), {}


def _pooled(g, writer, conditions, config: GenerateConfig, source, progress, landmarker) -> tuple[int, dict]:
    """Sample, label by the nearest prototype, keep until every condition has its images."""
    counts = dict.fromkeys(conditions, 0)
    seeds = [s for _, s in writer.done(("condition", "seed"))]
    for c, _ in writer.done(("condition", "seed")):
        if c in counts:
            counts[c] += 1
    next_seed = max(seeds) + 1 if seeds else config.seed
    budget = config.per_condition * len(conditions) * config.pooled_budget
    template, prototypes = g.template.cpu().double().numpy(), g.prototypes.cpu().double().numpy()
    dropped = {"no face": 0, "other condition": 0, "condition full": 0}
    made, wanted = 0, config.per_condition * len(conditions)
    params = {"mode": "pooled", "resolution": g.resolution, "label": "nearest landmark prototype"}
    with tqdm(total=wanted, initial=sum(counts.values()), desc="fastgan", unit="img", disable=not progress) as bar:
        while min(counts.values()) < config.per_condition and next_seed - config.seed < budget:
            batch = list(range(next_seed, next_seed + config.batch_size))
            next_seed += len(batch)
            for seed, image in zip(batch, g.sample(batch, batch_size=config.batch_size)):
                face = landmarker.detect(image)
                if face is None:
                    dropped["no face"] += 1
                    continue
                label, distance = nearest_prototype(face.pixels(), template, prototypes, g.trained_conditions)
                if label not in counts:
                    dropped["other condition"] += 1
                elif counts[label] >= config.per_condition:
                    dropped["condition full"] += 1
                else:
                    counts[label] += 1
                    made += 1
                    writer.add(_row(g, image, label, seed, source, {**params, "distance": round(distance, 6)}))
                    bar.update(1)
    dropped["budget spent"] = sum(config.per_condition - n for n in counts.values())
    return made, dropped


def _card(g, source: str, config: GenerateConfig, conditions: list[int]):
    mode = "class-conditional" if g.conditional else "pooled (labelled by the nearest landmark prototype)"
    description = (
        f"Samples of the {mode} FastGAN `{source}` ({g.resolution} px), trained on "
        f"`{g.provenance.get('trained_on', '?')}` of `{g.provenance.get('dataset', '?')}`: "
        f"{config.per_condition} per condition asked for, {len(conditions)} conditions, seed {config.seed}. "
        "`parent_ids` lists the training images of the row's condition."
    )
    return synthetic_card(
        title=f"FastGAN samples of {source}", description=description, generator="fastgan",
        source_dataset=str(g.provenance.get("dataset", "unknown")), tags=["gan"],
    )  # fmt: skip


def generate_fastgan(config: GenerateConfig, *, progress: bool = True, landmarker=None) -> GenerateResult:
    """Write (or resume) a synthetic set from ``config.model``; ``landmarker`` labels pooled
    samples (any object with ``detect(image)``; MediaPipe's by default)."""
    start = time.perf_counter()
    g, source = load_generator(config.model, config.model_revision)
    conditions = select_conditions(config.conditions, g.abbreviations)
    untrained = [g.abbreviations[c] for c in conditions if c not in g.trained_conditions]
    if untrained and config.conditions.strip().lower() != "all":
        raise InputError(f"the model was not trained on {', '.join(untrained)}")
    conditions = [c for c in conditions if c in g.trained_conditions]
    if not conditions:
        raise InputError(f"the model {source} was trained on none of the chosen conditions")
    g.to(_device())
    inputs = [config.model] if Path(config.model).is_dir() else []
    digest = input_digest(config.model) if Path(config.model).is_dir() else f"{source}"
    with open_run_dir(
        config, config.output_dir, overwrite=config.overwrite, inputs=inputs, digests={"model": digest}, model=source
    ) as (folder, _resumed):
        writer = SyntheticSetWriter(folder, g.class_names)
        if g.conditional:
            made, dropped = _conditional(g, writer, conditions, config, source, progress)
        else:
            own = landmarker is None
            if own:
                from ...dataset.landmarks import FaceLandmarker  # MediaPipe: only pooled models label samples

                landmarker = FaceLandmarker()
            try:
                made, dropped = _pooled(g, writer, conditions, config, source, progress, landmarker)
            finally:
                if own:
                    landmarker.close()
        writer.finish(_card(g, source, config, conditions), sample_sheet=True)
        total = writer.count()
    return GenerateResult(
        out=Path(folder), generator="fastgan", images=total, new_images=made,
        dropped={k: v for k, v in dropped.items() if v}, seconds=time.perf_counter() - start,
    )  # fmt: skip
