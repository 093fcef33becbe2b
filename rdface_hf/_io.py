"""Atomic file writes: an interrupted run never leaves a half-written file.

(Output *folders* are guarded in :mod:`rdface_hf._outputs`.)"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def input_digest(spec: str | os.PathLike | None) -> str | None:
    """The identity of an input a run reads: sha256 over a folder's files (names and contents,
    links not followed), a file's sha256, or the text itself (a Hub id, ``ORG/NAME@revision``)."""
    if spec is None:
        return None
    path = Path(spec)
    if path.is_file():
        return file_sha256(path)
    if not path.is_dir():
        return str(spec)
    digest = hashlib.sha256()
    for item in sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink()):
        rel = item.relative_to(path).as_posix()
        if any(part.startswith(".") for part in Path(rel).parts):
            continue  # locks, partial writes, caches
        digest.update(rel.encode() + b"\0" + file_sha256(item).encode() + b"\0")
    return digest.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would surprise a reader
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def public_name(value: Any) -> Any:
    """A local path (absolute, ``~``, ``.``, or an existing file or folder) becomes its name: cards,
    columns and pushed files name a folder by its name and a repo by its id, never a local path."""
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(("/", "~", ".")) or os.path.exists(value):
        return Path(value).expanduser().resolve().name or value
    return value
