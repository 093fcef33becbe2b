"""The report folder: a dataset that ``datasets.load_dataset(folder)`` opens (split ``train``).

::

    O/
      README.md                              card: what made the reports, columns, privacy
      data/reports-<NNNNN>-<hash>.parquet    shards, written as the run goes (or .jsonl)
      report_config.json                     the run's settings and provenance
      reference_stats.json                   landmark reports: the reference's medians and spreads
      summary.json                           counts: reports, unparsed, incomplete, no face

An interrupted run resumes: the image ids already in the shards are skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
from huggingface_hub import DatasetCard, DatasetCardData

from .._io import atomic_write_bytes, atomic_write_text
from ..dataset.card import gated_card_fields
from ..metrics.report_similarity.sections import REGIONS

REPORTS_PROMPT = (
    "These reports describe the faces of children with rare genetic conditions. Access is granted manually to "
    "researchers with ethics approval for the intended use. You agree not to attempt to identify any person and "
    "not to redistribute the reports."
)

SHARD_PREFIX = "data/reports-"


def report_features(class_names: Sequence[str]) -> datasets.Features:
    """The columns of a report folder."""
    text = datasets.Value("string")
    return datasets.Features(
        {
            "image_id": text,
            "condition": datasets.ClassLabel(names=list(class_names)),
            "condition_name": text,
            "disease_abbr": text,
            "source": text,  # real | synthetic
            "split": text,  # the dataset partition (test, train-always, cv-k) or "synthetic"
            "generator": text,  # synthetic images: lora, fastgan, morph, simulate
            "status": text,  # ok | no_face | unreadable | empty
            "regions": dict.fromkeys(REGIONS, text),
            "text": text,  # the regions in the report layout
            "raw_text": text,  # what the model wrote (landmark reports: the same as text)
            "unparsed": text,  # raw text that fitted no section
            "missing_regions": datasets.List(text),
            "hpo_terms": datasets.List(text),
            "hpo_names": datasets.List(text),
            "measurements": text,  # JSON: measure -> {"value", "z"} (landmark reports)
            "model": text,
            "model_revision": text,
            "prompt": text,
            "generation": text,  # JSON of the generation settings
        }
    )


class ReportWriter:
    """Append report rows as atomically written shards of ``shard_size`` rows."""

    def __init__(self, folder: str | os.PathLike, class_names: Sequence[str], fmt: str, shard_size: int = 64) -> None:
        self.folder = Path(folder)
        self.features = report_features(class_names)
        self.fmt = fmt
        self.shard_size = shard_size
        self._pending: list[dict[str, Any]] = []
        (self.folder / "data").mkdir(parents=True, exist_ok=True)

    @property
    def suffix(self) -> str:
        return ".parquet" if self.fmt == "parquet" else ".jsonl"

    def shards(self) -> list[Path]:
        return sorted(self.folder.glob(SHARD_PREFIX + "*" + self.suffix))

    def rows(self, columns: Sequence[str]) -> list[dict[str, Any]]:
        """``columns`` of every written row."""
        out: list[dict[str, Any]] = []
        for shard in self.shards():
            if self.fmt == "parquet":
                out += pq.read_table(shard, columns=list(columns)).to_pylist()
            else:
                for line in shard.read_text(encoding="utf-8").splitlines():
                    if line.strip():
                        row = json.loads(line)
                        out.append({c: row.get(c) for c in columns})
        return out

    def done(self) -> set[str]:
        """Image ids already reported (an earlier run's)."""
        return {r["image_id"] for r in self.rows(["image_id"])}

    def add(self, row: dict[str, Any]) -> None:
        self._pending.append(row)
        if len(self._pending) >= self.shard_size:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        if self.fmt == "parquet":
            table = datasets.Dataset.from_list(self._pending, features=self.features).with_format("arrow")[:]
            sink = pa.BufferOutputStream()
            pq.write_table(table, sink)
            data = sink.getvalue().to_pybytes()
        else:
            data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in self._pending).encode()
        name = f"{SHARD_PREFIX}{len(self.shards()):05d}-{hashlib.sha256(data).hexdigest()[:8]}{self.suffix}"
        atomic_write_bytes(self.folder / name, data)
        self._pending = []

    def finish(self, card: DatasetCard) -> None:
        self.flush()
        atomic_write_text(self.folder / "README.md", str(card))


def report_card(*, shards: Sequence[str], model: str, source: str, kind: str, reports: int) -> DatasetCard:
    """A card for a report folder: the shards by name (``datasets`` caches a local folder by
    its data files' names, and these carry their content hashes), what made it, the privacy note."""
    data = DatasetCardData(
        pretty_name="RDFace phenotype reports",
        **gated_card_fields(prompt=REPORTS_PROMPT),
        tags=["rdface", "phenotype", "dysmorphology", "human-phenotype-ontology", "reports"],
        configs=[{"config_name": "default", "data_files": [{"split": "train", "path": list(shards)}]}],
    )
    how = (
        "measured from MediaPipe landmarks (z-scores against the dataset's training images, HPO terms by threshold)"
        if model == "landmarks"
        else f"written by the vision-language model `{model}` from the structured prompt in the `prompt` column"
    )
    text = (
        f"---\n{data.to_yaml()}\n---\n\n# RDFace phenotype reports\n\n"
        f"{reports} structured reports of {kind} images of `{source}`, {how}. Sections: overall impression, "
        "left eye, right eye, nose, mouth and lips, suggested diagnosis (column `regions`; `text` holds them "
        "in the report layout, `raw_text` what was written, `unparsed` what fitted no section).\n\n"
        "Compare sets of reports with the `report_similarity` and `hpo_similarity` evaluate modules of "
        "`rdface_hf`.\n\n"
        "**Privacy.** The reports describe the faces of children with rare conditions and carry their "
        "image ids and conditions: treat them as derived from gated data and publish them only as a "
        "private, gated repository. Reports are not diagnoses.\n"
    )
    return DatasetCard(text)
