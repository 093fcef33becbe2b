"""``rdface audit-synthetic``: how close is each synthetic face to a real child?

Every synthetic image is embedded (dlib's face-recognition ResNet, aligned from MediaPipe's
landmarks) and compared with every real image of the dataset and its mirror image, *test
included*: privacy concerns every child. The audit informs and never trains: nothing it reads
reaches a training selection (the filter's guard, which does select, uses training images only).

Output folder::

    data/train-*.parquet   one row per synthetic image: image_id, condition, generator, status,
                           nearest_real_id, nearest_real_split, distance, neighbours, near_copy,
                           same_person (load with datasets.load_dataset(O, split="train"))
    README.md              its card (gated wording unless the dataset is simulated)
    summary.json / .md     near copies per condition and per generator, the calibration
    distance_histogram.png synthetic-to-nearest-real against real-to-nearest-other-real
    contact_sheet.png      the closest pairs: only for a simulated dataset or with --include-faces
    audit_config.json      settings and provenance
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import datasets
import numpy as np
from huggingface_hub import DatasetCard, DatasetCardData
from PIL import Image

from .._errors import InputError
from .._outputs import atomic_output_dir
from ..dataset.facade import RDFaceDataset
from ..dataset.landmarks import Landmarker
from ..dataset.near_copies import calibrated_threshold, nearest_real, quantiles
from .config import AuditConfig, AuditResult
from .embed import Reals, altered_copy_distances, embed_synthetic, fold_ok, make_embedder, real_images, synthetic_rows
from .report import GATED_NOTE, contact_sheet, group_rows, histogram, write_summary

SIMULATED_NOTE = "Made from a simulated dataset (no gated photographs): the contact sheet shows no real child."


def _calibration(config: AuditConfig, reals: Reals, altered: dict) -> tuple[float, dict]:
    try:
        calibrated, nn = calibrated_threshold(reals.refs, config.percentile)
    except ValueError as exc:
        if config.threshold is None:
            raise InputError(f"{config.dataset}: {exc}; pass --threshold") from None
        calibrated, nn = float("nan"), np.full(len(reals.ids), np.nan)
    threshold = calibrated if config.threshold is None else float(config.threshold)
    info = {
        "threshold": round(threshold, 4),
        "threshold_source": f"{config.percentile:g}th percentile of real-to-nearest-other-real distances"
        if config.threshold is None
        else "--threshold",
        "calibrated_threshold": None if np.isnan(calibrated) else round(calibrated, 4),
        "real_to_nearest_other_real": quantiles(nn),
        "altered_copies": {
            name: {
                **quantiles(d),
                "share_under_threshold": round(float(np.mean(d[np.isfinite(d)] < threshold)), 4)
                if np.isfinite(d).any()
                else None,
                "no_face": int((~np.isfinite(d)).sum()),
            }
            for name, d in altered.items()
        },
    }
    return threshold, {**info, "_nn": nn}


def _rows(config, syn, reals: Reals, emb, status, threshold):
    idx, dist = nearest_real(emb, reals.refs, k=config.neighbours)
    d0 = np.where(np.isfinite(dist[:, 0]), dist[:, 0], np.nan)
    near = np.isfinite(d0) & (d0 < threshold)
    same = np.isfinite(d0) & (d0 < config.same_person)
    names = syn.features["condition"].names
    table = {
        "image_id": list(syn["image_id"]),
        "condition": [names[c] for c in syn["condition"]],
        "generator": list(syn["generator"]),
        "status": status,
        "nearest_real_id": [reals.ids[j] if j >= 0 else None for j in idx[:, 0]],
        "nearest_real_split": [reals.roles[j] if j >= 0 else None for j in idx[:, 0]],
        "distance": [None if np.isnan(v) else float(v) for v in d0],
        "neighbour_ids": [[reals.ids[j] for j in row if j >= 0] for row in idx],
        "neighbour_distances": [[float(v) for v in row if np.isfinite(v)] for row in dist],
        "near_copy": [bool(v) for v in near],
        "same_person": [bool(v) for v in same],
    }
    return table, d0, near, same, idx


def _write_rows(folder: Path, table: dict, description: str) -> None:
    shard = folder / "data" / "train-00000-of-00001.parquet"
    shard.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_dict(table).to_parquet(str(shard))
    data = DatasetCardData(
        configs=[{"config_name": "default", "data_files": [{"split": "train", "path": "data/train-*.parquet"}]}],
        tags=["rdface", "memorisation-audit"],
    )
    card = DatasetCard.from_template(
        data, template_str="---\n{{ card_data }}\n---\n\n# Memorisation audit\n\n" + description + "\n"
    )
    (folder / "README.md").write_text(str(card), encoding="utf-8")


def _pixels(image: dict) -> np.ndarray:
    with Image.open(io.BytesIO(image["bytes"])) as im:
        return np.asarray(im.convert("RGB"))


def _sheet(folder: Path, config, syn, reals: Reals, d0, idx) -> bool:
    order = [int(i) for i in np.argsort(np.where(np.isfinite(d0), d0, np.inf)) if np.isfinite(d0[i])][: config.pairs]
    if not order:
        return False
    pairs = [
        (_pixels(syn[i]["image"]), _pixels(reals.rows[int(idx[i, 0])]["image"]), f"{d0[i]:.3f} {reals.ids[idx[i, 0]]}")
        for i in order
    ]
    contact_sheet(folder / "contact_sheet.png", pairs)
    return True


def _summary(config, dataset, syn, reals, cal, table, d0, near, same) -> dict:
    status = table["status"]
    return {
        "images": len(status),
        "embedded": status.count("ok"),
        "status": {s: status.count(s) for s in sorted(set(status))},
        "near_copies": int(near.sum()),
        "same_person": int(same.sum()),
        "same_person_rule": config.same_person,
        "real_images": len(reals.ids),
        "nearest_real_split": {
            r: int(sum(1 for x, n in zip(table["nearest_real_split"], near) if n and x == r))
            for r in ("training", "validation", "test")
        },
        "calibration": {k: v for k, v in cal.items() if not k.startswith("_")},
        "synthetic_to_nearest_real": quantiles(d0),
        "per_condition": group_rows(table["condition"], near, same, d0, status),
        "per_generator": group_rows(table["generator"], near, same, d0, status),
        "simulated_dataset": dataset.simulated,
        "privacy": SIMULATED_NOTE if dataset.simulated else GATED_NOTE,
    }


def run_audit(config: AuditConfig, *, landmarker: Landmarker | None = None, embedder=None) -> AuditResult:
    """Audit ``config.synthetic`` against every real image of ``config.dataset`` (module docstring)."""
    start = time.perf_counter()
    if not config.progress:
        datasets.disable_progress_bars()
    dataset = RDFaceDataset(config.dataset)
    fold_ok(dataset, config.fold)
    syn = synthetic_rows(config.synthetic, dataset.class_names)
    embedder, cache = make_embedder(embedder)
    inputs = [p for p in (config.dataset, config.synthetic) if Path(p).exists()]
    with atomic_output_dir(config.output_dir, owner=config.owner(), overwrite=config.overwrite, inputs=inputs) as tmp:
        reals = real_images(dataset, config.fold, embedder, cache)
        altered = altered_copy_distances(reals, config.altered_copies, embedder, landmarker, config)
        threshold, cal = _calibration(config, reals, altered)
        emb, status = embed_synthetic(syn, embedder, cache, landmarker, config)
        table, d0, near, same, idx = _rows(config, syn, reals, emb, status, threshold)
        summary = _summary(config, dataset, syn, reals, cal, table, d0, near, same)
        sheet = (dataset.simulated or config.include_faces) and _sheet(tmp, config, syn, reals, d0, idx)
        summary["contact_sheet"] = bool(sheet)
        _write_rows(tmp, table, _card_text(summary))
        write_summary(tmp, summary)
        histogram(tmp / "distance_histogram.png", d0, cal["_nn"], threshold, config.same_person)
        config.save(tmp / config.config_file(), dataset_digest=dataset.digest, embedder=getattr(embedder, "name", ""),
                    near_copies=summary["near_copies"], threshold=summary["calibration"]["threshold"])  # fmt: skip
    return AuditResult(out=Path(config.output_dir).absolute(), images=summary["images"], embedded=summary["embedded"],
                       near_copies=summary["near_copies"], same_person=summary["same_person"], threshold=threshold,
                       contact_sheet=bool(sheet), seconds=time.perf_counter() - start)  # fmt: skip


def _card_text(summary: dict) -> str:
    cal = summary["calibration"]
    return (
        f"One row per synthetic image: its nearest real faces (every real image of the dataset, test included) and "
        f"face-identity distances (dlib ResNet). {summary['near_copies']} of {summary['images']} are near copies "
        f"(distance < {cal['threshold']:.4g}, {cal['threshold_source']}). See summary.md for the calibration and "
        f"per-condition and per-generator shares.\n\n**Privacy.** {summary['privacy']}\n\n"
        "This audit informs and never trains: its rows must not select training data."
    )
