"""Writing a simulated release: images, ``disease_images.csv``, ``phenotypes.json``, the config.

Nothing in the CSV says what a condition looks like: names are neutral codes,
patient ids are random tokens (not numbered in condition order), ages are
drawn independently of the condition. The features, the patients' composites,
the photo settings and the source styles are in ``phenotypes.json`` only.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path

import numpy as np

from .._io import atomic_write_bytes, atomic_write_json, atomic_write_text, file_sha256
from ..dataset.release import REQUIRED_COLUMNS
from .features import AXES, FEATURES

EXTRA_COLUMNS = ("identity", "age")


def patient_ids(seed: int, n: int) -> list[str]:
    """``n`` distinct random patient ids (independent of condition and order)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(3,)))
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < n:
        token = f"SIMP-{int(rng.integers(16**10)):010x}"
        if token not in seen:
            seen.add(token)
            ids.append(token)
    return ids


def csv_text(plan, identities: list[str], ages: list[int]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REQUIRED_COLUMNS + EXTRA_COLUMNS)
    for name, ci, ident, age in zip(plan.image_names, plan.image_condition, identities, ages):
        c = plan.conditions[ci]
        w.writerow([name, c.disease_name, c.abbr, c.sub_category, c.gene_name, c.orphanet_code, ident, age])
    return buf.getvalue()


def feature_catalogue() -> dict:
    out = {}
    for name, f in FEATURES.items():
        axis = AXES[f.axis]
        out[name] = {
            "axis": f.axis,
            "sign": f.sign,
            "kind": axis.kind,
            "landmark_measure": axis.measure,
            "description": axis.description,
        }
    return out


def ground_truth(config, plan, results: list[dict], identities: list[str], bank) -> dict:
    images = []
    for name, ci, ident, res in zip(plan.image_names, plan.image_condition, identities, results):
        images.append({"image_name": name, "disease_abbr": plan.conditions[ci].abbr, "patient": ident, **res["truth"]})
    conditions = []
    for cond, style in zip(plan.conditions, plan.source_styles):
        entry = cond.to_dict()
        if config.source_style > 0:
            entry["source_style"] = {k: list(v) if isinstance(v, tuple) else v for k, v in style.items()}
        conditions.append(entry)
    return {
        "simulator": "rdface_hf.sim",
        "version": 2,
        "seed": config.seed,
        "difficulty": config.difficulty,
        "source_style": config.source_style,
        "image_size": config.image_size,
        "source_portraits": len(bank.portraits),
        "builtin_portraits": bank.builtin,
        "portraits_per_patient": bank.members_per_patient,
        "features": feature_catalogue(),
        "conditions": conditions,
        "images": images,
    }


def identities_digest(folder: str | None) -> str | None:
    """sha256 over the names and bytes of the ``--identities`` photos (the simulator's only input)."""
    if folder is None:
        return None
    h = hashlib.sha256()
    for path in sorted(p for p in Path(folder).iterdir() if p.is_file()):
        h.update(path.name.encode() + b"\0" + file_sha256(path).encode() + b"\n")
    return h.hexdigest()


def write_release(tmp: Path, config, plan, results: list[dict], bank) -> None:
    identities = patient_ids(int(config.seed), len(results))
    ages = [int(res["truth"]["age"]) for res in results]
    for name, ci, res in zip(plan.image_names, plan.image_condition, results):
        atomic_write_bytes(tmp / "rd_images" / plan.conditions[ci].abbr / name, res["bytes"])
    atomic_write_text(tmp / "disease_images.csv", csv_text(plan, identities, ages))
    atomic_write_json(tmp / "phenotypes.json", ground_truth(config, plan, results, identities, bank))
    config.save(tmp / config.config_file(), inputs_sha256=identities_digest(config.identities),
                source_portraits=len(bank.portraits))  # fmt: skip
