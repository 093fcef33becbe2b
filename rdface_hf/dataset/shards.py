"""The built dataset's parquet shards and their schema (``datasets`` features)."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

from .._io import atomic_write_bytes
from . import splits
from .build_files import DATA_DIR, shard_file
from .geometry import NUM_LANDMARKS
from .release import REQUIRED_COLUMNS


def dataset_features(class_names: list[str], extra_columns: tuple[str, ...]):
    from datasets import Array2D, ClassLabel, Features, Image, List, Value  # datasets: kept out of start-up

    columns = {
        "image": Image(),
        "image_id": Value("string"),
        "condition": ClassLabel(names=class_names),
        **{c: Value("string") for c in REQUIRED_COLUMNS},
        **{c: Value("string") for c in extra_columns},
        "source_sha256": Value("string"),
        "landmarks": Array2D(shape=(NUM_LANDMARKS, 3), dtype="float32"),
        "face_box": List(Value("float32"), length=4),
        "near_duplicate_group": Value("string"),
        "partition": Value("string"),
        "warnings": Value("string"),
    }
    return Features(columns)


def write_shards(
    tmp: Path, kept, labels, groups, partition, class_names, folds, *, columns=(), anonymize=False
) -> tuple[dict[str, int], dict[str, str]]:
    """Write one parquet shard per non-empty partition; returns sizes and file names.

    ``columns``: the extra CSV columns to publish (see :mod:`.columns`); with
    ``anonymize``, ``image_name`` holds the ``image_id``.

    Shard names carry a hash of their bytes (``data/test-1a2b3c4d.parquet``):
    ``datasets`` caches a local folder by its card's file patterns, so a
    rebuild with other content must not reuse the same names.
    """
    # pyarrow and datasets: kept out of the CLI's start-up
    import pyarrow as pa
    import pyarrow.parquet as pq
    from datasets import Dataset

    features = dataset_features(class_names, tuple(columns))
    group_rep: dict[int, str] = {}
    group_size = Counter(groups)
    for r, g in sorted(zip(kept, groups), key=lambda x: x[0].image_id):
        group_rep.setdefault(g, r.image_id)
    (tmp / DATA_DIR).mkdir()
    names = [splits.partition_name(p) for p in [splits.TEST, splits.ALWAYS_TRAIN, *range(folds)]]
    sizes, files = {}, {}
    for name in names:
        rows = [i for i, p in enumerate(partition) if splits.partition_name(int(p)) == name]
        rows.sort(key=lambda i: (labels[i], kept[i].image_id))
        table = {k: [] for k in features}
        for i in rows:
            r = kept[i]
            table["image"].append({"bytes": r.png, "path": f"{r.image_id}.png"})
            table["image_id"].append(r.image_id)
            table["condition"].append(labels[i])
            for c in (*REQUIRED_COLUMNS, *columns):
                table[c].append(r.row.values.get(c) or None)
            if anonymize:
                table["image_name"][-1] = r.image_id
            table["source_sha256"].append(r.file_sha256)
            table["landmarks"].append(r.landmarks)
            table["face_box"].append(None if r.face_box is None else [float(v) for v in r.face_box])
            table["near_duplicate_group"].append(group_rep[groups[i]] if group_size[groups[i]] > 1 else None)
            table["partition"].append(name)
            table["warnings"].append("; ".join(r.reasons) or None)
        sizes[name] = len(rows)
        if rows:  # an empty shard is not written: datasets cannot read a split of none
            arrow = Dataset.from_dict(table, features=features).with_format("arrow")[:]
            sink = pa.BufferOutputStream()
            pq.write_table(arrow, sink)
            data = sink.getvalue().to_pybytes()
            files[name] = shard_file(name, hashlib.sha256(data).hexdigest()[:8])
            atomic_write_bytes(tmp / files[name], data)
    return sizes, files
