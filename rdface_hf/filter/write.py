"""Write a scored synthetic set: the input rows (and columns) plus the filter's columns."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import pyarrow as pa

from ..dataset.facade import RDFaceDataset
from ..dataset.synthetic import COLUMNS, FILTER_COLUMNS, SyntheticSet, SyntheticSetWriter, synthetic_card

SHARD_SIZE = 256
LANDMARKS_FEATURE = datasets.Array2D((478, 3), "float32")


def component_column(name: str) -> str:
    return f"score_{name}"


def output_features(
    synthetic: SyntheticSet, components: list[str], *, extra_last: Mapping[str, Any] = (), rescoring: bool = False
) -> dict:
    """Extra features of the output: the input's own extras, then the filter's columns.

    ``rescoring``: the input's ``score_*`` columns (an earlier filter run's components) are
    replaced, not carried, so no stale component sits beside a new score."""
    ours = set(FILTER_COLUMNS) | {component_column(c) for c in components} | set(dict(extra_last))
    carried = {
        k: v
        for k, v in synthetic.features.items()
        if k not in COLUMNS and k not in ours and not (rescoring and k.startswith("score_"))
    }
    return {
        **carried,
        "landmarks": LANDMARKS_FEATURE,
        "score": datasets.Value("float32"),
        "kept": datasets.Value("bool"),
        **{component_column(c): datasets.Value("float32") for c in components},
        **dict(extra_last),
    }


def source_name(dataset: RDFaceDataset) -> str:
    """The dataset's Hub id, or its folder's name (never a local path)."""
    return dataset.repo_id or Path(dataset.root).name


def card_for(
    title: str, description: str, table: pa.Table, dataset: RDFaceDataset, tags=(), gated: bool | None = None
) -> Any:
    """The card of a filtered or merged set; gated unless every image is simulated."""
    generators = sorted(set(table.column("generator").to_pylist()))
    return synthetic_card(
        title=title,
        description=description,
        generator=generators[0] if len(generators) == 1 else "mixed",
        source_dataset=source_name(dataset),
        gated=generators != ["simulate"] if gated is None else gated,
        tags=tags,
    )


def finish(writer: SyntheticSetWriter, card) -> None:
    """Flush, then write the card with its shards named one by one.

    ``datasets`` caches a local folder by its name and the card's ``data_files``
    patterns: with a glob (``data/train-*.parquet``), rewriting a folder of the same
    name (``--overwrite``, or another ``out/``) would load the old rows from the
    cache. Shard names carry content hashes, so naming them makes the cache key
    follow the content.
    """
    writer.flush()
    files = [p.relative_to(writer.folder).as_posix() for p in writer.shards()]
    card.data.configs = [{"config_name": "default", "data_files": [{"split": "train", "path": files}]}]
    writer.finish(card)


def _float(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def write_scored_set(
    folder: Path, config, dataset: RDFaceDataset, synthetic: SyntheticSet, table: pa.Table,
    points: np.ndarray, scores: dict[str, np.ndarray], kept: np.ndarray,
    extra: Mapping[str, tuple] | None = None, card_note: str = "",
) -> None:  # fmt: skip
    """Every input row with ``landmarks`` (None without a face), ``score`` (None when not
    scored), ``kept``, the score's components and the ``extra`` columns (``{name: (feature,
    values)}``: the near-copy guard's), in the input's order."""
    components = [k for k in scores if k != "score"]
    extra = dict(extra or {})
    features = output_features(synthetic, components, rescoring=True, extra_last={k: f for k, (f, _) in extra.items()})
    writer = SyntheticSetWriter(folder, dataset.class_names, extra_features=features, shard_size=SHARD_SIZE)
    names = [n for n in table.column_names if n in writer.features]
    for i, row in enumerate(table.select(names).to_pylist()):
        face = not np.isnan(points[i]).any()
        row["landmarks"] = points[i] if face else None
        row["score"] = _float(scores["score"][i])
        row["kept"] = bool(kept[i])
        for c in components:
            row[component_column(c)] = _float(scores[c][i])
        row.update({k: values[i] for k, (_, values) in extra.items()})
        writer.add(row)
    rule = (
        f"score >= {config.threshold}"
        if config.mode == "threshold"
        else f"{config.mode}, n = {config.keep_per_condition or config.top_n}"
    )
    description = (
        f"Synthetic faces scored by `rdface filter` (`{config.score}` score, {rule}) against the real training "
        f"faces of fold `{config.fold}` of `{source_name(dataset)}` (never its test split). Every input image "
        f"is here: {int(kept.sum())} of {len(kept)} are `kept`. Use "
        "`load_dataset(<folder>, split='train').filter(lambda r: r['kept'])`, or `rdface merge`."
    )
    description += card_note
    finish(writer, card_for("Filtered synthetic faces", description, table, dataset, tags=("filtered",)))
