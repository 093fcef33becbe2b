"""The synthetic set: what every generator writes and the filter, merge and classifier read.

A synthetic set is a folder that ``datasets.load_dataset(folder)`` opens
(split ``train``)::

    README.md                           card: what made it, from which data; its YAML
                                        `configs` point at the shards below
    data/train-<NNNNN>-<hash>.parquet   shards, appended as generation goes (resumable)
    generation_config.json              the generator's config and provenance
    sample_sheet.png                    a generator's: a row per condition, its first images

Columns (:data:`COLUMNS`):

- ``image``: PNG, no metadata; ``image_id``: sha256 (hex) of those PNG bytes;
- ``condition``: ``ClassLabel`` with the *source dataset's* class names, in its order;
- ``generator``: one of :data:`GENERATORS`; ``source``: the adapter / model id and revision;
- ``prompt`` (empty for generators without one), ``seed`` (int64), ``params``
  (JSON text of the generation settings), ``parent_ids`` (the real training images
  used, if any), ``trained_on`` (``fold_k``, or ``test`` for "all non-test images").

The filter adds ``landmarks`` (478x3 float32, ``None`` without a face),
``score`` (float32) and ``kept`` (bool); other stages may add columns of
their own after these. Nobody needs to know which generator made an image.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from huggingface_hub import DatasetCard, DatasetCardData
from PIL import Image

from .._errors import InputError
from .._io import atomic_write_bytes, atomic_write_text
from .._sheets import Row, write_sheets
from .card import gated_card_fields, unique_tags
from .files import refuse_special
from .images import encode_png

GENERATORS = ("lora", "fastgan", "morph", "simulate")
COLUMNS = (
    "image", "image_id", "condition", "generator", "source", "prompt", "seed", "params", "parent_ids", "trained_on",
)  # fmt: skip
FILTER_COLUMNS = ("landmarks", "score", "kept")
GENERATION_CONFIG = "generation_config.json"
SHARD_PREFIX = "data/train-"
SYNTHETIC_PROMPT = (
    "These images were made by generators trained on photographs of children with rare genetic conditions "
    "and may reproduce those faces. Access is granted manually to researchers with ethics approval for the "
    "intended use. You agree not to attempt to identify any person and not to redistribute the images."
)
SAMPLE_SHEET = "sample_sheet.png"
SHEET_IMAGES = 8  # images per condition on the sample sheet
CARD_CONFIGS = [{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*.parquet"}]}]


def synthetic_features(class_names: Sequence[str], extra: Mapping[str, Any] | None = None) -> datasets.Features:
    """The schema of a synthetic set over ``class_names``; ``extra`` columns come last."""
    columns = {
        "image": datasets.Image(),
        "image_id": datasets.Value("string"),
        "condition": datasets.ClassLabel(names=list(class_names)),
        "generator": datasets.Value("string"),
        "source": datasets.Value("string"),
        "prompt": datasets.Value("string"),
        "seed": datasets.Value("int64"),
        "params": datasets.Value("string"),
        "parent_ids": datasets.List(datasets.Value("string")),
        "trained_on": datasets.Value("string"),
    }
    return datasets.Features({**columns, **dict(extra or {})})


@dataclass
class SyntheticImage:
    """One generated image and its provenance (a row of the set)."""

    image: Image.Image | np.ndarray
    condition: int
    generator: str
    source: str
    seed: int
    trained_on: str
    prompt: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)
    parent_ids: Sequence[str] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The parquet row: PNG bytes without metadata, their sha256 as the id."""
        pixels = np.asarray(self.image.convert("RGB") if isinstance(self.image, Image.Image) else self.image)
        png = encode_png(pixels.astype(np.uint8))
        image_id = hashlib.sha256(png).hexdigest()
        return {
            "image": {"bytes": png, "path": f"{image_id[:16]}.png"},
            "image_id": image_id,
            "condition": int(self.condition),
            "generator": self.generator,
            "source": self.source,
            "prompt": self.prompt,
            "seed": int(self.seed),
            "params": json.dumps(dict(self.params), sort_keys=True),
            "parent_ids": list(self.parent_ids),
            "trained_on": self.trained_on,
            **dict(self.extra),
        }


class SyntheticSetWriter:
    """Write a synthetic set shard by shard, so that an interrupted run resumes.

    >>> writer = SyntheticSetWriter(folder, class_names)      # doctest: +SKIP
    >>> done = writer.done(("condition", "seed"))               # keys written by an earlier run
    >>> writer.add(SyntheticImage(...)); writer.finish(card_text)
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        class_names: Sequence[str],
        *,
        extra_features: Mapping[str, Any] | None = None,
        shard_size: int = 64,
    ) -> None:
        self.folder = Path(folder)
        self.features = synthetic_features(class_names, extra_features)
        self.shard_size = shard_size
        self._pending: list[dict[str, Any]] = []
        (self.folder / "data").mkdir(parents=True, exist_ok=True)

    def shards(self) -> list[Path]:
        return sorted(self.folder.glob(SHARD_PREFIX + "*.parquet"))

    def done(self, keys: Sequence[str] = ("condition", "seed")) -> set[tuple]:
        """The ``keys`` tuples of every row already written (to skip on resume)."""
        out: set[tuple] = set()
        for shard in self.shards():
            table = pq.read_table(shard, columns=list(keys))
            out.update(zip(*(table.column(k).to_pylist() for k in keys)))
        return out

    def count(self) -> int:
        return sum(pq.ParquetFile(s).metadata.num_rows for s in self.shards())

    def add(self, item: SyntheticImage | Mapping[str, Any]) -> None:
        self._pending.append(item.row() if isinstance(item, SyntheticImage) else dict(item))
        if len(self._pending) >= self.shard_size:
            self.flush()

    def flush(self) -> None:
        """Write the pending rows as one shard (atomically)."""
        if not self._pending:
            return
        columns = {name: [row.get(name) for row in self._pending] for name in self.features}
        table = datasets.Dataset.from_dict(columns, features=self.features).with_format("arrow")[:]
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        data = sink.getvalue().to_pybytes()
        name = f"{SHARD_PREFIX}{len(self.shards()):05d}-{hashlib.sha256(data).hexdigest()[:8]}.parquet"
        atomic_write_bytes(self.folder / name, data)
        self._pending = []

    def finish(self, card: DatasetCard | str, *, sample_sheet: bool = False) -> None:
        """Flush and write the card, its YAML ``configs`` naming every shard (and, for a
        generator, ``sample_sheet.png``: one row per condition with its first images).

        Names, not a glob: ``datasets`` caches a local folder by its card's
        configs, so a glob would let a resumed or regenerated set (or another set
        in a folder of the same name) load stale cached rows. Shard names carry
        their content hash, so the card changes whenever the rows do.
        """
        self.flush()
        card = card if isinstance(card, DatasetCard) else DatasetCard(str(card))
        paths = [p.relative_to(self.folder).as_posix() for p in self.shards()]
        if paths:
            card.data.configs = [{"config_name": "default", "data_files": [{"split": "train", "path": paths}]}]
        if sample_sheet:
            write_sample_sheet(self.folder, self.features["condition"].names)
        atomic_write_text(self.folder / "README.md", str(card))


def write_sample_sheet(folder: Path, class_names: Sequence[str], per_condition: int = SHEET_IMAGES) -> Path:
    """``folder/sample_sheet.png``: a row per condition (class order) with its first images."""
    firsts: dict[int, list[bytes]] = {}
    counts: dict[int, int] = {}
    for shard in sorted(folder.glob(SHARD_PREFIX + "*.parquet")):
        wanted = []
        for i, c in enumerate(pq.read_table(shard, columns=["condition"]).column("condition").to_pylist()):
            if counts.get(c, 0) < per_condition:
                counts[c] = counts.get(c, 0) + 1
                wanted.append((i, c))
        if wanted:
            images = pq.read_table(shard, columns=["image"]).column("image").to_pylist()
            for i, c in wanted:
                firsts.setdefault(c, []).append(images[i]["bytes"])
    rows = [Row(class_names[c], firsts[c]) for c in sorted(firsts)]
    return write_sheets(folder / SAMPLE_SHEET, rows, rows_per_page=len(rows) or 1)[0]


def synthetic_card(
    *,
    title: str,
    description: str,
    generator: str,
    source_dataset: str,
    gated: bool = True,
    tags: Iterable[str] = (),
) -> DatasetCard:
    """A card for a synthetic set: what made it, from what, and the privacy warning."""
    source_repo = source_dataset if "/" in str(source_dataset) and not str(source_dataset).startswith("/") else None
    access = gated_card_fields(prompt=SYNTHETIC_PROMPT, source_repo=source_repo)
    if not gated:  # made without gated images: the licence, no access questions
        access = {k: v for k, v in access.items() if k.startswith("license")}
    data = DatasetCardData(
        pretty_name=title,
        tags=unique_tags(["synthetic", "rdface", "face", generator, *tags]),
        task_categories=["image-classification"],
        configs=CARD_CONFIGS,
        **access,
    )
    warning = (
        "Generators trained on gated, pediatric faces can reproduce those faces: treat this set as "
        "gated data and publish it only as a private, gated repository."
        if gated
        else "Made without gated images (simulated or public-domain sources)."
    )
    text = (
        f"---\n{data.to_yaml()}\n---\n\n# {title}\n\n{description}\n\n"
        f"- generator: `{generator}`\n- source dataset: `{source_dataset}`\n\n"
        f"**Privacy.** {warning}\n\n"
        "Columns, provenance and the loading contract: `rdface_hf.dataset.synthetic`. "
        "Load with `datasets.load_dataset(<this folder or repo>, split='train')`.\n"
    )
    return DatasetCard(text)


class SyntheticSet:
    """A synthetic set folder, checked: the columns of :data:`COLUMNS` and a condition ClassLabel."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise InputError(f"no such synthetic set folder: {self.path}")
        if not list(self.path.glob(SHARD_PREFIX + "*.parquet")):
            raise InputError(f"{self.path} holds no synthetic images (no {SHARD_PREFIX}*.parquet)")
        refuse_special(self.path.glob(SHARD_PREFIX + "*.parquet"), str(self.path))
        missing = [c for c in COLUMNS if c not in self.features]
        if missing:
            raise InputError(f"{self.path} is not a synthetic set: missing columns {missing}")
        if not isinstance(self.features["condition"], datasets.ClassLabel):
            raise InputError(f"{self.path}: column 'condition' is not a ClassLabel")

    @cached_property
    def features(self) -> datasets.Features:
        shard = next(iter(sorted(self.path.glob(SHARD_PREFIX + "*.parquet"))))
        try:
            return datasets.Features.from_arrow_schema(pq.read_schema(shard))
        except Exception as exc:  # not parquet, or no datasets schema: one line
            raise InputError(f"{shard} is not a readable synthetic set shard ({type(exc).__name__})") from None

    @cached_property
    def dataset(self) -> datasets.Dataset:
        """All rows (``load_dataset(folder, split="train")``)."""
        files = [str(p) for p in sorted(self.path.glob(SHARD_PREFIX + "*.parquet"))]
        return datasets.load_dataset("parquet", data_files={"train": files}, split="train", features=self.features)

    @property
    def class_names(self) -> list[str]:
        return list(self.features["condition"].names)

    @cached_property
    def generation_config(self) -> dict[str, Any]:
        path = self.path / GENERATION_CONFIG
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def __len__(self) -> int:
        return sum(pq.ParquetFile(p).metadata.num_rows for p in self.path.glob(SHARD_PREFIX + "*.parquet"))

    def check_classes(self, class_names: Sequence[str]) -> None:
        """Refuse a set made for other conditions (names and order must match the dataset's)."""
        mine = self.class_names
        if mine == list(class_names):
            return
        unknown = [n for n in mine if n not in set(class_names)]
        if unknown:
            shown = ", ".join(repr(n) for n in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
            raise InputError(
                f"{self.path}: {len(unknown)} condition name(s) are not in the dataset ({shown}); "
                "was it generated from another dataset?"
            )
        raise InputError(f"{self.path}: its conditions are in another order than the dataset's; regenerate it")
