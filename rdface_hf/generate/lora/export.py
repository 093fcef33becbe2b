"""Writing and reading an adapter folder: diffusers LoRA files, per-adapter records, the index.

Each condition's LoRA slot is written with diffusers' own
``StableDiffusionLoraLoaderMixin.save_lora_weights`` (``unet.*`` / ``text_encoder.*``
keys, the LoRA config in the safetensors metadata), so that a stock
``StableDiffusionPipeline`` reads it with ``load_lora_weights(O, subfolder=abbr,
weight_name="pytorch_lora_weights.safetensors")``. A condition is finished
when ``O/<abbr>/adapter.json`` exists: it is written last, after the weights.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from diffusers.loaders import StableDiffusionLoraLoaderMixin

from ..._errors import InputError
from ..._io import atomic_write_bytes, atomic_write_json, file_sha256
from .config import ADAPTER_RECORD, CHECKPOINTS, CLASS_IMAGES, INDEX_FILE, WEIGHT_NAME

INDEX_FORMAT = "rdface_hf/lora-adapters/1"
RESERVED = {CHECKPOINTS, CLASS_IMAGES, "data"}


def check_folder_names(abbrs: Sequence[str]) -> None:
    """Abbreviations become folder names: refuse any that could leave O or hide."""
    bad = [a for a in abbrs if not a or a in RESERVED or a.startswith(".") or any(c in a for c in "/\\\0:")]
    if bad:
        raise InputError(f"condition abbreviation(s) {bad} cannot name an adapter folder")
    lowered = [a.lower() for a in abbrs]
    clash = sorted({a for a, low in zip(abbrs, lowered) if lowered.count(low) > 1})
    if clash:
        raise InputError(f"condition abbreviations {clash} differ only in case: their adapter folders would clash")


def canonical_safetensors(path: Path) -> None:
    """Rewrite a safetensors header in a fixed order (metadata keys sorted, tensors by offset).

    safetensors writes its metadata map in hash order, so two saves of the same tensors can
    differ in their header bytes; after this, identical adapters are identical files (their
    sha256 in ``adapter.json`` identifies them). The tensor bytes are not touched."""
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    ordered = {}
    if "__metadata__" in header:
        ordered["__metadata__"] = dict(sorted(header.pop("__metadata__").items()))
    ordered.update(sorted(header.items(), key=lambda item: (item[1]["data_offsets"][0], item[0])))
    text = json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    atomic_write_bytes(path, struct.pack("<Q", len(text)) + text + data[8 + length :])


def write_adapter(
    folder: Path,
    abbr: str,
    unet_layers: Mapping[str, Any],
    text_layers: Mapping[str, Any] | None,
    metadata: Mapping[str, dict],
    record: dict[str, Any],
) -> dict[str, Any]:
    """``O/<abbr>/pytorch_lora_weights.safetensors`` then ``O/<abbr>/adapter.json`` (atomically)."""
    tmp = folder / CHECKPOINTS / f"export-{abbr}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    StableDiffusionLoraLoaderMixin.save_lora_weights(
        tmp,
        unet_lora_layers=dict(unet_layers),
        text_encoder_lora_layers=dict(text_layers) if text_layers else None,
        weight_name=WEIGHT_NAME,
        unet_lora_adapter_metadata=dict(metadata["unet"]),
        text_encoder_lora_adapter_metadata=dict(metadata["text_encoder"]) if text_layers else None,
    )
    dest = folder / abbr
    dest.mkdir(parents=True, exist_ok=True)
    canonical_safetensors(tmp / WEIGHT_NAME)
    os.replace(tmp / WEIGHT_NAME, dest / WEIGHT_NAME)
    shutil.rmtree(tmp, ignore_errors=True)
    record = {**record, "weight_name": WEIGHT_NAME, "sha256": file_sha256(dest / WEIGHT_NAME)}
    atomic_write_json(dest / ADAPTER_RECORD, record)
    return record


def read_record(folder: Path, abbr: str) -> dict[str, Any] | None:
    """The record of a finished adapter, or ``None`` (not finished, or its weights are gone)."""
    path = folder / abbr / ADAPTER_RECORD
    if not path.is_file() or not (folder / abbr / WEIGHT_NAME).is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("condition") == abbr else None


def write_index(folder: Path, header: Mapping[str, Any], abbrs: Sequence[str], skipped: Mapping[str, str]) -> dict:
    """``O/adapters.json``: the run's settings and every finished adapter's record."""
    records = {a: r for a in abbrs if (r := read_record(folder, a)) is not None}
    index = {"format": INDEX_FORMAT, **header, "adapters": records, "skipped": dict(skipped)}
    atomic_write_json(folder / INDEX_FILE, index)
    return index


def read_index(folder: Path) -> dict[str, Any]:
    """``adapters.json`` of an adapter folder (or of a Hub snapshot), checked."""
    path = Path(folder) / INDEX_FILE
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{folder} is not an adapter folder of 'rdface train-lora' (no {INDEX_FILE})") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path} is not readable JSON ({type(exc).__name__})") from None
    if (
        not isinstance(index, dict)
        or index.get("format") != INDEX_FORMAT
        or not isinstance(index.get("adapters"), dict)
    ):
        raise InputError(f"{path} is not an index written by 'rdface train-lora'")
    missing = [k for k in ("class_names", "abbreviations") if not isinstance(index.get(k), list)]
    if missing:
        raise InputError(f"{path} lacks {missing}")
    return index
