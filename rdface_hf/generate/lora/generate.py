"""``rdface generate --generator lora``: a synthetic set from per-condition adapters, with provenance.

Image ``j`` of a condition has the seed ``derive_seed(--seed, abbr, j)`` and its
own generator, so it does not depend on the batch it was made in: a resumed run
makes exactly the images that are missing. Dropped outputs (NSFW-flagged,
black, blank) are counted and recorded in ``G/dropped.json`` and replaced by
later seeds, up to twice ``--per-condition`` attempts per condition.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..._config import open_run_dir, require
from ..._io import atomic_write_json, input_digest, public_name
from ...dataset.synthetic import SyntheticImage, SyntheticSetWriter, synthetic_card
from ..config import GenerateConfig, GenerateResult
from . import sampling
from .export import read_index
from .hub import checked_adapters, resolve_adapters
from .loop import derive_seed

DROPPED_FILE = "dropped.json"
ATTEMPTS = 2  # candidate seeds per wanted image
SHARD_ROWS = 256  # rows per parquet shard (an interrupted run loses at most these)


@dataclass
class Job:
    abbr: str
    record: dict
    seeds: list[int]  # the condition's candidate seeds, in order


def _read_dropped(out: Path) -> list[list]:
    path = out / DROPPED_FILE
    if not path.is_file():
        return []
    try:
        return [list(r) for r in json.loads(path.read_text(encoding="utf-8")).get("dropped", [])]
    except (OSError, ValueError, AttributeError):
        return []


def next_round(jobs: list[Job], per_condition: int, kept: set, dropped: set) -> list[tuple[Job, int]]:
    """The (job, seed) pairs still to make: for each condition, enough untried seeds to reach
    ``per_condition`` kept images (none once its candidates run out)."""
    todo = []
    for job in jobs:
        ci = job.record["class_index"]
        have = sum((ci, s) in kept for s in job.seeds)
        untried = [s for s in job.seeds if (ci, s) not in kept and (ci, s) not in dropped]
        todo += [(job, s) for s in untried[: max(0, per_condition - have)]]
    return todo


def _batches(todo: list[tuple[Job, int]], size: int, mixed: bool) -> list[list[tuple[Job, int]]]:
    """Batches of ``size``; with hot-swapping, one condition per batch."""
    if mixed:
        return [todo[i : i + size] for i in range(0, len(todo), size)]
    out = []
    for abbr in dict.fromkeys(j.abbr for j, _ in todo):
        mine = [t for t in todo if t[0].abbr == abbr]
        out += [mine[i : i + size] for i in range(0, len(mine), size)]
    return out


class Sampler:
    """The pipeline and its adapters: prompt embeddings per condition, adapters switched or mixed."""

    def __init__(self, pipe, folder: Path, jobs: list[Job], *, mixed: bool, device) -> None:
        self.pipe, self.folder, self.mixed, self.device = pipe, folder, mixed, device
        self.embeds: dict[str, tuple] = {}
        self.active: str | None = None
        self.adapters: dict[str, tuple] = {}
        for job in jobs:
            unet_state, text_state, metadata = sampling.read_adapter(folder, job.abbr)
            self.embeds[job.abbr] = sampling.encode_condition(pipe, job.record["prompt"], text_state, metadata, device)
            if mixed:
                sampling.load_unet_adapter(pipe, unet_state, metadata, job.abbr, hotswap=False)
            else:
                self.adapters[job.abbr] = (unet_state, metadata)

    def run(self, batch: list[tuple[Job, int]], *, steps: int, guidance: float, size: int):
        names = [job.abbr for job, _ in batch]
        if not self.mixed and self.active != names[0]:
            unet_state, metadata = self.adapters[names[0]]
            sampling.load_unet_adapter(self.pipe, unet_state, metadata, sampling.SLOT, hotswap=self.active is not None)
            self.active = names[0]
        embeds = [self.embeds[n] for n in names]
        seeds = [s for _, s in batch]
        if self.mixed:
            with sampling.per_sample_adapters(self.pipe.unet, names, cfg=guidance > 1):
                return sampling.sample(self.pipe, embeds, seeds, steps=steps, guidance=guidance, size=size)
        return sampling.sample(self.pipe, embeds, seeds, steps=steps, guidance=guidance, size=size)


def _provenance(job: Job, seed: int, config: GenerateConfig, info: dict, ref: dict, size: int) -> dict:
    record = job.record
    return {
        "steps": config.steps, "guidance": config.guidance, "height": size, "width": size,
        "adapter": job.abbr, "adapter_sha256": record.get("sha256"), "adapters": ref["source"],
        "adapters_revision": ref["revision"], "lora_batching": config.lora_batching,
        "negative_prompt": "", **info,
    }  # fmt: skip


def generate_lora(config: GenerateConfig) -> GenerateResult:
    """Make ``--per-condition`` kept images for each wanted adapter; see the module docstring."""
    start = time.monotonic()
    require(config.lora_batching in ("hotswap", "mixed"), "lora_batching", "must be 'hotswap' or 'mixed'")
    require(config.steps >= 1, "steps", f"must be at least 1, got {config.steps}")
    require(config.guidance >= 0, "guidance", f"must be non-negative, got {config.guidance}")
    folder, source, revision = resolve_adapters(config.adapters, config.conditions)
    index = read_index(folder)
    wanted = checked_adapters(index, config.conditions, source=source)
    jobs = [
        Job(a, index["adapters"][a], [derive_seed(config.seed, a, j) for j in range(config.per_condition * ATTEMPTS)])
        for a in wanted
    ]
    ref = {"source": source, "revision": revision}
    inputs = [folder] if revision == "local" else []
    digests = {"adapter set": input_digest(folder) if revision == "local" else f"{source}@{revision}"}
    with open_run_dir(config, config.output_dir, overwrite=config.overwrite, inputs=inputs, digests=digests,
                      adapters=ref) as (out, _r):  # fmt: skip
        writer = SyntheticSetWriter(out, index["class_names"], shard_size=SHARD_ROWS)
        kept, before = writer.done(("condition", "seed")), writer.count()
        dropped_rows = _read_dropped(out)
        _generate(config, index, folder, jobs, ref, writer, kept, dropped_rows, out)
        card = synthetic_card(
            title="RDFace synthetic faces (LoRA DreamBooth adapters)",
            description=(
                f"Faces generated by the per-condition LoRA adapters `{source}` ({len(wanted)} conditions, "
                f"{config.steps} steps, guidance {config.guidance}), with provenance in every row."
            ),
            generator="lora", source_dataset=str(Path(str(index.get("dataset"))).name), gated=True,
        )  # fmt: skip
        writer.finish(card, sample_sheet=True)
        total = writer.count()
    counts = Counter(r[2] for r in _read_dropped(out))
    return GenerateResult(
        out=out, generator="lora", images=total, new_images=total - before, dropped=dict(counts),
        seconds=time.monotonic() - start,
    )  # fmt: skip


def _generate(config, index, folder, jobs, ref, writer, kept, dropped_rows, out) -> int:
    """Rounds of batches until every condition has its images or has run out of seeds."""
    dropped = {(r[0], r[1]) for r in dropped_rows}
    todo = next_round(jobs, config.per_condition, kept, dropped)
    if not todo:
        return 0
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dtype = torch.float16 if device == "cuda" else torch.float32
    base = config.base_model or index.get("base_model")
    pipe, info = sampling.load_pipeline(
        base, index.get("vae", "base"), safety_checker=config.safety_checker, device=device, dtype=dtype
    )
    info = {k: public_name(v) for k, v in info.items()}  # the rows' params name folders, never local paths
    size = int(next(iter(jobs)).record.get("resolution") or 0) or pipe.unet.config.sample_size * pipe.vae_scale_factor
    sampler = Sampler(pipe, folder, jobs, mixed=config.lora_batching == "mixed", device=device)
    made = 0
    bar = tqdm(total=len(todo), desc="generate lora", unit="img")
    with bar:
        while todo:
            for batch in _batches(todo, config.batch_size, sampler.mixed):
                images, nsfw = sampler.run(batch, steps=config.steps, guidance=config.guidance, size=size)
                for (job, seed), image, reason in zip(batch, images, sampling.screen(images, nsfw)):
                    ci = job.record["class_index"]
                    if reason:
                        dropped.add((ci, seed))
                        dropped_rows.append([ci, seed, reason])
                        continue
                    writer.add(SyntheticImage(
                        image=(np.clip(image, 0, 1) * 255).round().astype(np.uint8), condition=ci,
                        generator="lora", source=f"{ref['source']}/{job.abbr}@{ref['revision']}", seed=seed,
                        trained_on=job.record.get("trained_on", index.get("trained_on", "")),
                        prompt=job.record["prompt"], params=_provenance(job, seed, config, info, ref, size),
                        parent_ids=job.record.get("image_ids", []),
                    ))  # fmt: skip
                    kept.add((ci, seed))
                    made += 1
                atomic_write_json(out / DROPPED_FILE, {"dropped": dropped_rows})
                bar.update(len(batch))
            todo = next_round(jobs, config.per_condition, kept, dropped)
            bar.total += len(todo)
    return made
