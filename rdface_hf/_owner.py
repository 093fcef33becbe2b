"""What a command wrote in its output folder: the manifest and the owner check.

Every output folder carries ``.rdface_manifest.json``: the command that wrote
it (``stage``), whether its run finished (``complete``) and every file it wrote
with its size. ``--overwrite`` replaces a folder only when all it holds is
listed there (or, while a resumable run is unfinished, matches the command's
own file patterns); a file a person added, or one of ours they changed, stops
the run. See :mod:`rdface_hf._outputs`.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import re
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from ._io import atomic_write_json

ALWAYS_ALLOWED = (".DS_Store", "*/.DS_Store")  # a file browser's droppings are not a person's files

MANIFEST = ".rdface_manifest.json"  # what a run wrote: {"stage", "complete", "files": {name: size}}
# Leftovers of an interrupted atomic file write (rdface_hf._io): ours, never a person's.
WRITE_LEFTOVERS = (".*.tmp", "*/.*.tmp")


def note(message: str) -> None:
    """One line on stderr that a person should read (not an error)."""
    print(f"rdface: note: {message}", file=sys.stderr)


def read_manifest(folder: Path) -> dict | None:
    """``folder``'s manifest, or None when it has none (or an unreadable one)."""
    path = Path(folder) / MANIFEST
    try:
        if path.is_symlink() or not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("files"), dict):
        return None
    return data


def list_files(folder: Path) -> dict[str, int]:
    """Every regular file below ``folder`` (links not followed) as ``{relative POSIX path: size}``."""
    found: dict[str, int] = {}
    for top, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(top, d))]
        for name in files:
            path = os.path.join(top, name)
            rel = Path(path).relative_to(folder).as_posix()
            with contextlib.suppress(OSError):
                st = os.lstat(path)
                found[rel] = st.st_size if stat.S_ISREG(st.st_mode) else -1
    found.pop(MANIFEST, None)
    return found


def write_manifest(folder: Path, stage: str, files: dict[str, int], *, complete: bool) -> None:
    """Record what this run wrote in ``folder`` (atomically)."""
    data = {"stage": stage, "complete": complete, "files": dict(sorted(files.items()))}
    atomic_write_json(Path(folder) / MANIFEST, data)


@dataclass(frozen=True)
class Owner:
    """How a command recognises a folder it made: ``marker`` file whose
    ``"stage"`` value is one of ``stages``, and a manifest (``.rdface_manifest.json``)
    whose ``"stage"`` is one of them too (a filter output holds a copy of its
    input's ``generation_config.json``, and is still the filter's).

    What may be replaced with ``--overwrite``: the files the manifest lists, at
    the sizes it records. While a resumable run is unfinished (manifest not
    ``complete``) the glob patterns ``files`` (relative POSIX paths of what the
    command writes) also count as its own. Anything else is a person's file
    and stops the run."""

    marker: str
    stages: tuple[str, ...]
    files: tuple[str, ...] = ()

    def owns(self, folder: Path) -> bool:
        path = folder / self.marker
        try:
            if path.is_symlink():
                return False
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not (isinstance(data, dict) and data.get("stage") in self.stages):
            return False
        manifest = read_manifest(folder)
        return manifest is None or manifest.get("stage") in self.stages

    def own_files(self, folder: Path) -> set[str]:
        """The files in ``folder`` that this command wrote (see the class docstring)."""
        manifest = read_manifest(folder) or {"files": {}, "complete": False}
        listed = manifest["files"]
        patterns = (self.marker, *ALWAYS_ALLOWED, *WRITE_LEFTOVERS)
        if not manifest.get("complete"):
            patterns += self.files
        return {
            rel
            for rel, size in list_files(folder).items()
            if (rel in listed and listed[rel] == size and size >= 0)
            or (size >= 0 and any(fnmatch.fnmatchcase(rel, p) for p in patterns))
        }

    def strangers(self, folder: Path, limit: int = 5) -> list[str]:
        """Up to ``limit`` entries of ``folder`` the command did not write (or that changed since)."""
        own = self.own_files(folder)
        found = [rel for rel in list_files(folder) if rel not in own]
        for top, dirs, _files in os.walk(folder):  # empty folders and links a person made
            for name in dirs:
                path = Path(top, name)
                rel = path.relative_to(folder).as_posix() + "/"
                mine = any(o.startswith(rel) for o in own)
                if (path.is_symlink() or not mine) and not any(f.startswith(rel) for f in found):
                    found.append(rel)
            dirs[:] = [d for d in dirs if not Path(top, d).is_symlink()]
        return sorted(found)[:limit]


def _leftovers(out: Path) -> list[Path]:
    pattern = re.compile(rf"\.{re.escape(out.name)}\.(partial-[a-z0-9_]{{8}}|old-\d+)")
    try:
        names = os.listdir(out.parent)
    except OSError:
        return []
    return [out.parent / n for n in sorted(names) if pattern.fullmatch(n)]


def remove_leftovers(out: Path) -> None:
    """``.<name>.partial-*`` / ``.<name>.old-*`` of a killed run (the lock is held: none is live).

    An ``.old-*`` folder with no OUT beside it is an output that a killed
    ``--overwrite`` had moved aside: it is put back, not deleted.
    """
    for path in _leftovers(out):
        if path.name.startswith(f".{out.name}.old-") and not path.is_symlink() and not os.path.lexists(out):
            os.rename(path, out)
            note(f"restored {out} from {path.name}, moved aside by an interrupted run")
            continue
        if path.is_symlink() or not path.is_dir():
            path.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)
        note(f"removed {path.name}, left behind by an interrupted run")
