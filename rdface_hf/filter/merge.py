"""``rdface merge``: one fold's real training split plus the kept synthetic images.

The output is a synthetic set (``load_dataset(O, split="train")``) with one more
column, ``is_synthetic``: ``False`` rows are the fold's real training images
(``generator`` ``"real"``, ``image_id`` the dataset's ``rdf-...`` id, the same
``condition`` ClassLabel, the dataset's landmarks), ``True`` rows the synthetic
images that ``rdface filter`` kept. Validation and test splits are never read.
``merge_config.json`` records the fold (and a digest of its training split), so
``rdface train-classifier --extra-train O`` can check it trains that fold.

Refused, with one line: a set filtered against another fold or dataset, and
synthetic rows whose generator saw images outside the fold's training split
(``trained_on`` ``test`` or another fold: they would leak the validation split).
"""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa

from .._errors import InputError
from .._outputs import atomic_output_dir
from ..dataset.heldout import kept_flags
from ..dataset.synthetic import GENERATION_CONFIG, SyntheticSet, SyntheticSetWriter
from .config import FilterConfig, MergeConfig, MergeResult
from .inputs import (
    TrainingSplit,
    clean_table,
    fold_tag,
    foreign_parents,
    leaky_rows,
    open_dataset,
    open_synthetic,
    quiet_datasets,
    read_labels,
    read_rows,
    set_digest,
    training_split,
)
from .near_copy import merge_near_copies
from .write import card_for, finish, output_features, source_name

MERGE_COLUMN = "is_synthetic"


def _check_filtered_for(config: MergeConfig, synthetic_path: Path, train: TrainingSplit) -> None:
    """A filtered set must have been scored against this fold's training split of this dataset."""
    saved = synthetic_path / FilterConfig.config_file()
    if not saved.is_file():
        return
    try:
        record = json.loads(saved.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise InputError(f"{saved} is not readable JSON") from None
    provenance = record.get("provenance") or {}
    if fold_tag(str(record.get("fold", ""))) != fold_tag(config.fold):
        raise InputError(
            f"{synthetic_path} was filtered against fold {record.get('fold')}, not fold {config.fold}: "
            f"rerun 'rdface filter --fold {config.fold}' (its prototypes must come from this fold's training split)"
        )
    if provenance.get("training_split_digest") not in (None, train.digest()):
        raise InputError(
            f"{synthetic_path} was filtered against another dataset's fold {config.fold} training split "
            f"({provenance.get('dataset')}); rerun 'rdface filter' on {config.dataset}"
        )


def _kept_rows(config: MergeConfig, table) -> np.ndarray:
    if config.unfiltered:
        return np.ones(table.num_rows, dtype=bool)
    if "kept" not in table.column_names:
        raise InputError(
            f"{config.synthetic} has no 'kept' column: run 'rdface filter' on it first "
            "(or pass --unfiltered to merge every image)"
        )
    return kept_flags(table.column("kept").to_pylist(), str(config.synthetic))


def _check_score(table, where: str) -> None:
    """A ``score`` column (the filter's) must be numbers; a text column is one clear line."""
    if "score" in table.column_names:
        kind = table.schema.field("score").type
        if not (pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_null(kind)):
            raise InputError(f"{where}: column 'score' must be numbers, not {kind}")


def _real_rows(train: TrainingSplit, names: list[str]):
    """The fold's real training images as rows of the merged set."""
    tag, source = fold_tag(train.fold), source_name(train.dataset)
    for i, (image, image_id) in enumerate(zip(train.rows["image"], train.rows["image_id"])):
        points = train.points[i]
        row = dict.fromkeys(names)
        row.update(
            image={"bytes": image["bytes"], "path": f"{image_id}.png"}, image_id=image_id,
            condition=int(train.labels[i]), generator="real", source=source, prompt="", seed=0, params="{}",
            parent_ids=[], trained_on=tag, landmarks=None if np.isnan(points).any() else points,
            score=None, kept=True, **{MERGE_COLUMN: False},
        )  # fmt: skip
        yield row


def _guard_note(guard: dict | None) -> str:
    if guard is None:
        return " Near copies of real training faces were not checked (the face model is not installed)."
    allowed = " (merged with --allow-near-copies)" if guard["near_copies"] else ""
    return (
        f" Near-copy check ({guard['source']}): {guard['near_copies']} synthetic image(s) are near copies of real "
        f"training faces{allowed}."
    )


def merge(config: MergeConfig) -> MergeResult:
    """Write the merged set (see the module docstring)."""
    SyntheticSet(config.synthetic)  # a bad set is refused before the dataset loads
    dataset = open_dataset(config.dataset)
    with quiet_datasets():
        train = training_split(dataset, config.fold)
        synthetic = open_synthetic(config.synthetic, dataset.class_names)
    _check_filtered_for(config, synthetic.path, train)
    table = read_rows(synthetic)
    read_labels(table, len(dataset.class_names), str(synthetic.path))
    kept = _kept_rows(config, table)
    _check_score(table, str(config.synthetic))
    chosen = table.filter(kept)
    trained_on, generators = chosen.column("trained_on").to_pylist(), chosen.column("generator").to_pylist()
    leaks = leaky_rows(trained_on, generators, config.fold, dataset.num_folds, str(config.synthetic))
    if leaks:
        shown = ", ".join(f"{n} trained on {tag}" for tag, n in sorted(leaks.items()))
        raise InputError(
            f"{config.synthetic}: {shown}: their generators saw images outside fold {config.fold}'s training split "
            f"(its validation images); use images generated from fold {config.fold} ('--fold {config.fold}')"
        )
    foreign = foreign_parents(chosen.column("parent_ids").to_pylist(), set(train.rows["image_id"]))
    if foreign:
        raise InputError(
            f"{config.synthetic}: {foreign} kept image(s) were made from real images outside fold {config.fold}'s "
            "training split (parent_ids: validation or test images); they cannot train this fold"
        )
    chosen, _ = clean_table(chosen, dataset, config.fold, str(config.synthetic))  # no held-out image, no metadata
    guard = merge_near_copies(chosen, train, config.allow_near_copies, config.synthetic)
    features = output_features(synthetic, [], extra_last={MERGE_COLUMN: datasets.Value("bool")})
    inputs = [p for p in (config.dataset, config.synthetic) if Path(p).exists()]
    with atomic_output_dir(config.output_dir, owner=MergeConfig.owner(), overwrite=config.overwrite,
                           inputs=inputs) as tmp:  # fmt: skip
        writer = SyntheticSetWriter(tmp, dataset.class_names, extra_features=features, shard_size=256)
        names = list(writer.features)
        for row in _real_rows(train, names):
            writer.add(row)
        for row in chosen.select([n for n in chosen.column_names if n in writer.features]).to_pylist():
            points = row.get("landmarks")  # one array type per column (lists and arrays do not mix)
            row.update({MERGE_COLUMN: True, "kept": True})
            row["landmarks"] = None if points is None else np.asarray(points, dtype=np.float32)
            writer.add(row)
        description = (
            f"Fold `{config.fold}` of `{source_name(dataset)}`: its {len(train.labels)} real training images "
            f"(`is_synthetic` False) and {chosen.num_rows} kept synthetic images (`is_synthetic` True), for "
            "`rdface train-classifier --extra-train`. Validation and test images are not here. The real rows are the "
            "dataset's own (gated) images: keep this set under the dataset's access terms." + _guard_note(guard)
        )
        title = "Real training split + filtered synthetic faces"
        finish(writer, card_for(title, description, chosen, dataset, tags=("merged",), gated=True))
        if (synthetic.path / GENERATION_CONFIG).is_file():
            (tmp / GENERATION_CONFIG).write_bytes((synthetic.path / GENERATION_CONFIG).read_bytes())
        config.save(
            tmp / config.config_file(), dataset=source_name(dataset), training_fold=fold_tag(config.fold),
            training_split_digest=train.digest(), real_images=len(train.labels), synthetic_images=chosen.num_rows,
            synthetic_digest=set_digest(synthetic.path), near_copy_guard=guard,
        )  # fmt: skip
    return MergeResult(out=Path(config.output_dir).absolute(), fold=str(config.fold), real=len(train.labels),
                       synthetic=chosen.num_rows, skipped_synthetic=int((~kept).sum()))  # fmt: skip
