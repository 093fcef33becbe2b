"""Output folders: the one guard every command's OUT / ``--output-dir`` goes through.

Rules (whatever the flags; users run as root, with typos):

- OUT may not be empty text, ``.``, ``..``, the filesystem root, the home
  folder, a system folder, the current directory or one of its ancestors, an
  input, inside an input or around an input, or a symbolic link.
- A non-empty OUT is used only if this command made it before, recognised by
  its *owner marker*: ``OUT/<stage>_config.json`` whose ``stage`` names the
  command. ``--overwrite`` then replaces it; without it the command refuses
  (or, for resumable stages, continues the run). Any other non-empty folder is
  refused, with ``--overwrite`` too.
- One run at a time per OUT: a lock file beside it (``.<name>.lock``).
- Outputs appear whole: work happens in ``.<name>.partial-*`` beside OUT and
  becomes OUT in one rename; leftovers of a killed run are removed (and said
  so) by the next run.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

from ._errors import InputError
from ._io import _umask

# Folders no command may write into or replace (and anything below the first group).
SYSTEM_TREES = (
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/sbin",
    "/sys",
    "/usr",
)
SYSTEM_FOLDERS = ("/home", "/mnt", "/media", "/opt", "/root", "/run", "/srv", "/tmp", "/var", "/var/tmp", "/snap")


@dataclass(frozen=True)
class Owner:
    """How a command recognises a folder it made: ``marker`` file whose
    ``"stage"`` value is one of ``stages``."""

    marker: str
    stages: tuple[str, ...]

    def owns(self, folder: Path) -> bool:
        path = folder / self.marker
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(data, dict) and data.get("stage") in self.stages


def note(message: str) -> None:
    """One line on stderr that a person should read (not an error)."""
    print(f"rdface: note: {message}", file=sys.stderr)


def _refuse_dangerous(out: Path, raw: str, inputs: Collection[str | os.PathLike]) -> None:
    if raw.strip() in ("", ".", "..") or Path(raw).name in ("", ".", ".."):
        raise InputError(f"refusing output folder {raw!r}: name a new folder")
    if out.is_symlink():
        raise InputError(f"output folder {out} is a symbolic link: give the folder itself")
    resolved = out.resolve()
    if resolved == Path(resolved.anchor):
        raise InputError(f"refusing to write to the filesystem root {resolved}")
    home = Path.home().resolve()
    if resolved == home:
        raise InputError(f"refusing to write to the home folder {resolved}: name a folder inside it")
    if str(resolved) in SYSTEM_FOLDERS or any(resolved == Path(t) or resolved.is_relative_to(t) for t in SYSTEM_TREES):
        raise InputError(f"refusing to write to the system folder {resolved}")
    if Path.cwd().resolve().is_relative_to(resolved):
        raise InputError(f"refusing output folder {resolved}: it is the current folder or contains it")
    for source in inputs:
        src = Path(source).resolve()
        if resolved == src or resolved.is_relative_to(src) or src.is_relative_to(resolved):
            raise InputError(f"output folder {out} overlaps the input {source}: choose a folder outside it")


def check_output_dir(
    out: str | os.PathLike,
    *,
    owner: Owner | None = None,
    overwrite: bool = False,
    resume: bool = False,
    inputs: Collection[str | os.PathLike] = (),
) -> Path:
    """Refuse, before any work, an output folder that cannot or must not be written.

    Returns the absolute path. A non-empty OUT passes only if ``owner`` owns it
    and ``overwrite`` (replace) or ``resume`` (continue) is set.
    """
    raw = os.fspath(out)
    path = Path(raw).absolute()
    _refuse_dangerous(path, raw, inputs)
    if path.exists():
        if not path.is_dir():
            raise InputError(f"output path {path} exists and is not a folder")
        if any(path.iterdir()):
            ours = owner is not None and owner.owns(path)
            if not ours:
                raise InputError(
                    f"output folder {path} is not empty and was not written by this command "
                    f"(no {owner.marker if owner else 'marker file'}); choose a new folder"
                )
            if not (overwrite or resume):
                raise InputError(f"output folder {path} is not empty (pass --overwrite to replace it)")
    parent = next((p for p in path.parents if p.exists()), None)
    if parent is None or not parent.is_dir():
        raise InputError(f"cannot create output folder {path}: {parent} is not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot create output folder {path}: {parent} is not writable")
    return path


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside ``out``: a second run on the same OUT exits at once."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(out.parent / f".{out.name}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise InputError(f"cannot create output folder {out}: {exc.strerror or exc}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise InputError(f"another rdface run is writing {out}; wait for it to finish") from None
            raise
        _remove_leftovers(out)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(out.parent / f".{out.name}.lock")
        os.close(fd)


def _remove_leftovers(out: Path) -> None:
    """``.<name>.partial-*`` / ``.<name>.old-*`` of a killed run (the lock is held: none is live)."""
    for pattern in (f".{out.name}.partial-*", f".{out.name}.old-*"):
        for path in sorted(out.parent.glob(pattern)):
            if path.is_symlink() or path.is_file():
                path.unlink()
            else:
                shutil.rmtree(path, ignore_errors=True)
            note(f"removed {path.name}, left behind by an interrupted run")


def _publish(tmp: Path, out: Path, *, owner: Owner | None, overwrite: bool) -> None:
    """Rename the finished ``tmp`` to ``out``; never replace what is not ours."""
    if out.exists() and any(out.iterdir()):
        if not (overwrite and owner is not None and owner.owns(out)):
            raise InputError(f"output folder {out} appeared while this run worked; nothing was replaced")
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
        return
    try:
        os.rename(tmp, out)  # replaces an empty folder only
    except OSError as exc:
        raise InputError(f"cannot create output folder {out}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def atomic_output_dir(
    out: str | os.PathLike,
    *,
    owner: Owner | None = None,
    overwrite: bool = False,
    inputs: Collection[str | os.PathLike] = (),
) -> Iterator[Path]:
    """Yield a temporary sibling folder that becomes ``out`` only on success.

    See the module docstring for what ``out`` may be. An interrupted run
    (exception, Ctrl-C, SIGTERM via the CLI) removes the temporary folder.
    """
    path = check_output_dir(out, owner=owner, overwrite=overwrite, inputs=inputs)
    with output_lock(path):
        check_output_dir(out, owner=owner, overwrite=overwrite, inputs=inputs)  # again, under the lock
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-", dir=path.parent))
        except OSError as exc:
            raise InputError(f"cannot create output folder {path}: {exc.strerror or exc}") from None
        os.chmod(tmp, 0o777 & ~_umask())
        try:
            yield tmp
            _publish(tmp, path, owner=owner, overwrite=overwrite)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


@contextlib.contextmanager
def resumable_output_dir(
    out: str | os.PathLike,
    *,
    owner: Owner,
    overwrite: bool = False,
    inputs: Collection[str | os.PathLike] = (),
) -> Iterator[tuple[Path, bool]]:
    """For long runs that write as they go: yield ``(folder, resumed)``.

    A folder this command made earlier is continued (``resumed``), or with
    ``overwrite`` emptied first; a new one is created. The caller writes the
    owner marker (its config) at once and every file atomically; whether an
    earlier run's settings match is the caller's check (see
    :func:`rdface_hf._config.open_run_dir`).
    """
    path = check_output_dir(out, owner=owner, overwrite=overwrite, resume=True, inputs=inputs)
    with output_lock(path):
        existing = path.is_dir() and any(path.iterdir())
        if existing and overwrite:
            old = path.parent / f".{path.name}.old-{os.getpid()}"
            os.replace(path, old)
            shutil.rmtree(old, ignore_errors=True)
            existing = False
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create output folder {path}: {exc.strerror or exc}") from None
        yield path, existing
