"""Atomic writes: an interrupted run never leaves a half-written artefact."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._errors import InputError


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
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


def check_output_dir(
    out: str | os.PathLike, *, overwrite: bool = False, inputs: tuple[str | os.PathLike, ...] = ()
) -> Path:
    """Refuse, before any work, an output folder that cannot or must not be written.

    ``inputs`` are folders the run reads: the output may be none of them, inside
    none of them and contain none of them (``--overwrite`` would delete them).
    """
    out = Path(out).absolute()
    resolved = out.resolve()
    for source in inputs:
        src = Path(source).resolve()
        if resolved == src or resolved.is_relative_to(src) or src.is_relative_to(resolved):
            raise InputError(f"output folder {out} overlaps the input {source}: choose a folder outside it")
    if out.exists():
        if not out.is_dir():
            raise InputError(f"output path {out} exists and is not a folder")
        if any(out.iterdir()) and not overwrite:
            raise InputError(f"output folder {out} is not empty (pass --overwrite to replace it)")
    parent = next((p for p in out.parents if p.exists()), None)
    if parent is None or not parent.is_dir():
        raise InputError(f"cannot create output folder {out}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot create output folder {out}: {parent} is not writable")
    return out


@contextlib.contextmanager
def atomic_output_dir(
    out: str | os.PathLike, *, overwrite: bool = False, inputs: tuple[str | os.PathLike, ...] = ()
) -> Iterator[Path]:
    """Yield a temporary sibling folder that becomes ``out`` only on success.

    ``out`` must not exist, or be empty, unless ``overwrite`` is true; in that
    case the old folder is replaced in one rename once the new one is complete.
    An interrupted run (exception, Ctrl-C, SIGTERM via the CLI) removes the
    temporary folder. ``inputs``: see :func:`check_output_dir`.
    """
    out = check_output_dir(out, overwrite=overwrite, inputs=inputs)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    except OSError as exc:
        raise InputError(f"cannot create output folder {out}: {exc.strerror or exc}") from None
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
