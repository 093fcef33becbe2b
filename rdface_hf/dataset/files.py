"""The files under ``rd_images/``: the file each CSV row names, and every entry no row names.

Nothing here follows a symbolic link without saying so, opens a FIFO, or
raises on a link loop: each odd entry becomes a reason for the report.
Names in messages are shown as written, or escaped (``'cafe\\u0301.png'``)
when they are not plain, NFC-normalised, printable text, so that two names
that differ only by Unicode normalisation never look alike.
"""

from __future__ import annotations

import os
import stat
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .._errors import InputError
from .release import IMAGES_DIR, RawRelease, ReleaseRow

SPECIAL_KINDS = (
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
)


def shown(text: str) -> str:
    """``text`` as messages show it: escaped when it is not plain, NFC, printable text."""
    if text.isprintable() and unicodedata.normalize("NFC", text) == text and text == text.strip():
        return text
    return ascii(text)


def lookalike_key(text: str) -> str:
    """Names that a person cannot tell apart share a key (normalisation, letter case)."""
    return unicodedata.normalize("NFC", text).casefold()


def special_kind(mode: int) -> str:
    """``FIFO``, ``socket``, ... for a file that is neither regular nor a folder."""
    return next((name for test, name in SPECIAL_KINDS if test(mode)), "special file")


def refuse_special(paths, where: str) -> None:
    """Refuse, without opening it, any of ``paths`` that is not a regular file (a FIFO would
    block the reader forever, a device would be read without end)."""
    for path in paths:
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            raise InputError(f"{where}: cannot read {Path(path).name} ({type(exc).__name__})") from None
        if not stat.S_ISREG(mode):
            kind = "folder" if stat.S_ISDIR(mode) else special_kind(mode)
            raise InputError(f"{where}: {Path(path).name} is a {kind}, not a regular file; refused unopened")


@dataclass(frozen=True)
class Located:
    """Where a row's file is: ``path`` (a regular file) or ``reason`` (why not)."""

    path: Path | None
    reason: str | None


def _folder_link_reason(images_dir: Path, abbr: str) -> str | None:
    """A condition folder that is a symbolic link: say where it points."""
    link = images_dir / abbr
    if not link.is_symlink():
        return None
    here = f"{IMAGES_DIR}/{shown(abbr)}"
    try:
        target = link.resolve()
    except (OSError, RuntimeError):
        return f"condition folder is a symbolic link loop ({here})"
    root = images_dir.resolve()
    if target.is_relative_to(root) and target != root:
        rel = target.relative_to(root).as_posix()
        what = "another condition's folder" if "/" not in rel else f"a folder inside {IMAGES_DIR}/"
        return f"condition folder is a symbolic link to {what} ({here} -> {IMAGES_DIR}/{shown(rel)})"
    return f"condition folder is a symbolic link to a folder outside {IMAGES_DIR}/ ({here})"


def locate(release: RawRelease, row: ReleaseRow, *, show_paths: bool = True) -> Located:
    """The regular file a row names, or the reason there is none (never raises)."""
    abbr, name = row.disease_abbr, row.image_name
    where = f": {IMAGES_DIR}/{shown(abbr + '/' + name)}" if show_paths else ""
    if "\x00" in abbr or "\x00" in name:
        return Located(None, "invalid path (ValueError: embedded null byte)")
    a, n = Path(abbr), Path(name)
    if a.is_absolute() or n.is_absolute() or len(a.parts) != 1 or a.name in ("", ".", ".."):
        return Located(None, f"path leaves {IMAGES_DIR}/{shown(abbr)}/")
    try:
        link = _folder_link_reason(release.images_dir, abbr)
        if link:
            return Located(None, link)
        folder = (release.images_dir / abbr).resolve()
        candidate = (folder / n).resolve()
        if candidate == folder or not candidate.is_relative_to(folder):
            return Located(None, f"path leaves {IMAGES_DIR}/{shown(abbr)}/")
        mode = os.stat(candidate).st_mode
    except RuntimeError:  # Path.resolve on a link loop (Python < 3.13)
        return Located(None, f"symbolic link loop{where}")
    except (FileNotFoundError, NotADirectoryError):
        dangling = os.path.lexists(release.images_dir / abbr / n)
        return Located(None, f"file missing{' (dangling symbolic link)' if dangling else ''}{where}")
    except (OSError, ValueError) as exc:  # a name too long, ELOOP, EACCES, ...
        code = getattr(exc, "strerror", None) or exc
        return Located(None, f"invalid path ({type(exc).__name__}: {code})")
    if stat.S_ISDIR(mode):
        return Located(None, f"not a file but a folder{where}")
    if not stat.S_ISREG(mode):
        return Located(None, f"not a regular file ({special_kind(mode)}){where}")
    return Located(candidate, None)


@dataclass(frozen=True)
class Entry:
    """One entry under ``rd_images/`` (links not followed): ``parts`` below it and,
    for what cannot be an image file, ``problem``."""

    parts: tuple[str, ...]
    problem: str | None = None
    folder: bool = False  # a (linked) folder, not a file


def _scan(folder: Path, parts: tuple[str, ...], out: list[Entry], images_dir: Path) -> None:
    try:
        with os.scandir(folder) as it:
            children = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        out.append(Entry(parts, f"cannot list folder ({exc.strerror or exc})", folder=True))
        return
    for child in children:
        here = (*parts, child.name)
        try:
            if child.is_symlink():
                link = _folder_link_reason(images_dir, child.name) if not parts else None
                if link or (not parts and child.is_dir()):
                    out.append(Entry(here, (link or "symbolic link to a folder") + "; not followed", folder=True))
                else:
                    out.append(Entry(here))
            elif child.is_dir(follow_symlinks=False):
                _scan(Path(child.path), here, out, images_dir)
            elif child.is_file(follow_symlinks=False):
                out.append(Entry(here))
            else:
                kind = special_kind(child.stat(follow_symlinks=False).st_mode)
                out.append(Entry(here, f"not a regular file ({kind})"))
        except OSError as exc:
            out.append(Entry(here, f"cannot read entry ({exc.strerror or exc})"))


def scan_images(release: RawRelease) -> list[Entry]:
    """Every file, link and odd entry under ``rd_images/`` (sorted; links not followed)."""
    out: list[Entry] = []
    _scan(release.images_dir, (), out, release.images_dir)
    return out


def listed_key(abbr: str, name: str) -> str:
    return os.path.normpath(os.path.join(abbr, name))


def unlisted_entries(release: RawRelease, entries: list[Entry]) -> list[tuple[Entry, str]]:
    """Entries no row names, with the reason each is reported."""
    listed = {listed_key(r.disease_abbr, r.image_name) for r in release.rows if r.image_name and r.disease_abbr}
    out = []
    for entry in entries:
        key = os.path.normpath(os.path.join(*entry.parts))
        if entry.problem and (len(entry.parts) == 1 or key not in listed):
            suffix = "" if key in listed or entry.folder else "; not listed in disease_images.csv"
            out.append((entry, entry.problem + suffix))
        elif key not in listed:
            where = "" if len(entry.parts) > 1 else " (not in a condition folder)"
            out.append((entry, f"not listed in disease_images.csv{where}"))
    return out


def _difference(a: str, b: str) -> str:
    if unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b):
        return "Unicode normalisation"
    return "letter case" if a.casefold() == b.casefold() else "Unicode normalisation and letter case"


def lookalike_hints(
    missing: list[tuple[int, ReleaseRow]], unlisted: list[tuple[Entry, str]], *, show_paths: bool = True
) -> tuple[dict[int, str], dict[int, str]]:
    """Rows whose file is missing and unlisted files whose names differ only by
    Unicode normalisation or letter case: a hint for each side (by index)."""
    files = defaultdict(list)
    for j, (entry, _) in enumerate(unlisted):
        if len(entry.parts) > 1:
            files[(entry.parts[0], lookalike_key("/".join(entry.parts[1:])))].append(j)
    row_hints, file_hints = {}, {}
    for i, row in missing:
        for j in files.get((row.disease_abbr, lookalike_key(row.image_name)), []):
            disk = "/".join(unlisted[j][0].parts[1:])
            how = _difference(disk, row.image_name)
            if show_paths:
                row_hints[i] = f"the folder has {disk!a}, which differs from {row.image_name!a} only by {how}"
                file_hints[j] = f"row {row.number} names {row.image_name!a}, which differs only by {how}"
            else:
                row_hints[i] = f"the folder has a file whose name differs only by {how}"
                file_hints[j] = f"row {row.number} names this file with a name that differs only by {how}"
    return row_hints, file_hints
