"""The ``report`` stage: one report per image, written as a resumable dataset folder."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from .._config import open_run_dir
from .._io import atomic_write_json, input_digest
from ..metrics.report_similarity.sections import REGIONS
from .config import ReportConfig, ReportResult
from .inputs import Source, open_source
from .prompt import check_prompt, prompt_text
from .rows import base_row, empty_row, text_row
from .writer import ReportWriter, report_card

REFERENCE_FILE = "reference_stats.json"
SUMMARY_FILE = "summary.json"


def _model_digest(config: ReportConfig) -> str:
    """The report model is an input: a local folder's contents, or the Hub id at its revision."""
    if config.measured:
        return "landmarks"
    if Path(config.model).is_dir():
        return input_digest(config.model) or ""
    return f"{config.model}@{config.revision or 'main'}"


def _vlm_reports(config: ReportConfig, source: Source, todo: list[int], writer: ReportWriter, bar, vlm) -> None:
    from .vlm import generate_texts  # torch: kept out of the CLI's start-up

    generation, prompt = json.dumps(config.generation(), sort_keys=True), prompt_text()
    for start, batch in zip(range(0, len(todo), config.batch_size), source.batches(todo, config.batch_size)):
        readable = [row for row in batch if row["image"] is not None]
        texts = readable and generate_texts(
            vlm,
            [row["image"] for row in readable],
            max_new_tokens=config.max_new_tokens,
            do_sample=config.sample,
            temperature=config.temperature,
            top_p=config.top_p,
            seed=config.seed + todo[start],
        )
        by_id = {row["image_id"]: text for row, text in zip(readable, texts)}
        for row in batch:
            if row["image"] is None:
                cols = {**empty_row("unreadable", row["error"]), "model": config.model, "model_revision": vlm.revision,
                        "prompt": prompt, "generation": generation}  # fmt: skip
            else:
                text = by_id[row["image_id"]]
                cols = text_row(text, model=config.model, revision=vlm.revision, prompt=prompt, generation=generation)
            writer.add({**base_row(source, row), **cols})
        bar.update(len(batch))


def summarise(writer: ReportWriter) -> dict[str, Any]:
    """Counts over every row of the folder."""
    rows = writer.rows(["status", "missing_regions", "unparsed", "hpo_terms"])
    ok = [r for r in rows if r["status"] == "ok"]
    return {
        "reports": len(rows),
        "status": dict(sorted(Counter(r["status"] for r in rows).items())),
        "unparsed": sum(1 for r in ok if len(r["missing_regions"]) == len(REGIONS)),
        "incomplete": sum(1 for r in ok if r["missing_regions"]),
        "with_unparsed_text": sum(1 for r in ok if (r["unparsed"] or "").strip()),
        "missing_by_region": {reg: sum(1 for r in ok if reg in r["missing_regions"]) for reg in REGIONS},
        "hpo_terms": dict(sorted(Counter(t for r in rows for t in r["hpo_terms"]).items())),
    }


def make_reports(config: ReportConfig) -> ReportResult:
    """Report on every image the config names; resumes a run with the same settings."""
    started = time.perf_counter()
    source = open_source(config)
    check_prompt([*source.class_names, *source.abbreviations])
    # The model or the reference first: a bad model id or too few reference faces write nothing.
    if config.measured:
        from .measured import fit_reference, landmark_reports

        prepared = fit_reference(config, source)
    else:
        from .vlm import load_vlm  # torch: kept out of the CLI's start-up

        prepared = load_vlm(config.model, revision=config.revision, dtype=config.dtype)
    inputs = [p for p in (config.dataset, config.synthetic) if p and Path(p).exists()]
    provenance = {"inputs_sha256": source.digest}
    if source.dataset is not None:
        provenance["dataset_sha256"] = source.dataset.digest
    digests = {"image set": source.digest, "dataset": provenance.get("dataset_sha256"), "model": _model_digest(config)}
    with open_run_dir(
        config, config.output_dir, overwrite=config.overwrite, inputs=inputs, digests=digests, **provenance
    ) as (
        folder,
        resumed,
    ):
        writer = ReportWriter(folder, source.class_names, config.format)
        done = writer.done() if resumed else set()
        todo = [i for i, image_id in enumerate(source.image_ids) if image_id not in done]
        with tqdm(total=len(todo), desc="report", unit="img", disable=not config.progress) as bar:
            if config.measured:
                landmark_reports(config, source, todo, writer, bar, prepared, folder / REFERENCE_FILE)
            else:
                _vlm_reports(config, source, todo, writer, bar, prepared)
        writer.flush()
        summary = summarise(writer)
        writer.finish(
            report_card(
                shards=[p.relative_to(folder).as_posix() for p in writer.shards()],
                model=config.model,
                source=config.synthetic or config.dataset,
                kind=source.kind,
                reports=summary["reports"],
            )
        )
        atomic_write_json(folder / SUMMARY_FILE, summary)
    return ReportResult(
        out=folder,
        model=config.model,
        reports=summary["reports"],
        new_reports=len(todo),
        unparsed=summary["unparsed"],
        incomplete=summary["incomplete"],
        no_face=summary["status"].get("no_face", 0),
        unreadable=summary["status"].get("unreadable", 0),
        seconds=time.perf_counter() - started,
    )
