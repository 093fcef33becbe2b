"""Output folders: the one guard every command's OUT / ``--output-dir`` goes through.

Rules (whatever the flags; users run as root, with typos and unset variables):

- OUT may not be empty text, ``.``, ``..``, a name with a ``~`` or ``$`` the
  shell did not expand, control characters or stray spaces, the filesystem
  root, a home folder (any user's) or one of its ancestors, a system folder,
  the current directory or one of its ancestors, an input, inside an input or
  around an input, or a symbolic link (a symlinked *parent* is followed: the
  checks and the work use the real folder).
- A non-empty OUT is used only if this command made it before, recognised by
  its *owner marker*: ``OUT/<stage>_config.json`` whose ``stage`` names the
  command. ``--overwrite`` then replaces it; without it the command refuses
  (or, for resumable stages, continues the run). Any other non-empty folder is
  refused, with ``--overwrite`` too, and so is one of ours that holds files
  the command does not write (``Owner.files``), so nothing a person put there
  is deleted.
- One run at a time per OUT: a lock file beside it (``.<name>.lock``); a
  second run exits at once with one line.
- Outputs appear whole: work happens in ``.<name>.partial-*`` beside OUT and
  becomes OUT in one rename; the next run removes the leftovers of a killed
  run (or puts back an output a killed ``--overwrite`` had moved aside) and
  says so.
- Any ``OSError`` while writing (a full disk, a vanished folder) becomes one
  line (:class:`OutputWriteError`); the partial output is removed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Collection, Iterator
from pathlib import Path

from ._errors import InputError, RDFaceError
from ._io import _umask
from ._owner import Owner, list_files, remove_leftovers, write_manifest
from ._owner import note as note  # re-exported: the stages say their notes through the guard module

# Folders no command may write into or replace (and anything below them).
SYSTEM_TREES = (
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/sbin", "/sys", "/usr",
    "/nix", "/System", "/Library", "/Applications", "/private/etc", "/private/var/db",
)  # fmt: skip
# Folders no command may replace (their subfolders are fine).
SYSTEM_FOLDERS = (
    "/home", "/mnt", "/media", "/opt", "/root", "/run", "/srv", "/tmp", "/var", "/var/tmp", "/var/lib", "/var/log",
    "/var/cache", "/snap", "/Users", "/Volumes", "/private", "/private/tmp", "/private/var",
)  # fmt: skip


class OutputWriteError(RDFaceError):
    """Writing the output failed (full disk, permissions, a vanished folder): one line, exit 2."""


def describe_oserror(exc: BaseException) -> str:
    """``No space left on device (ENOSPC): /path`` (no traceback, no ``[Errno 28]``)."""
    if not isinstance(exc, OSError):
        return f"{type(exc).__name__}: {exc}"
    code = errno.errorcode.get(exc.errno or 0, "")
    text = exc.strerror or str(exc) or type(exc).__name__
    where = f": {exc.filename}" if exc.filename else ""
    return f"{text}{f' ({code})' if code else ''}{where}"


def _check_name(raw: str) -> None:
    if "\x00" in raw:
        raise InputError(f"refusing output folder {raw!r}: it contains a NUL byte")
    if raw.strip() in ("", ".", "..") or Path(raw).name in ("", ".", ".."):
        raise InputError(f"refusing output folder {raw!r}: name a new folder (an unset variable gives '')")
    for part in Path(raw).parts:
        if part != "/" and (part != part.strip() or any(ord(c) < 32 or ord(c) == 127 for c in part)):
            raise InputError(f"refusing output folder {raw!r}: a part of it has stray spaces or control characters")
        if part.startswith("~") or "$" in part:
            raise InputError(
                f"refusing output folder {raw!r}: {part!r} looks like a '~' or '$' the shell did not expand; "
                "write the path in full"
            )


def _homes() -> set[Path]:
    """The home folders of this user and of every user the system knows."""
    homes = set()
    with contextlib.suppress(RuntimeError, KeyError, OSError):
        homes.add(Path.home().resolve())
    with contextlib.suppress(ImportError, OSError, RuntimeError):
        import pwd  # POSIX only: absent on Windows

        for entry in pwd.getpwall():
            if entry.pw_dir and entry.pw_dir != "/":
                homes.add(Path(entry.pw_dir).resolve())
    return homes


def _refuse_dangerous(out: Path, raw: str, inputs: Collection[str | os.PathLike]) -> Path:
    """Refuse what no command may write; returns the real (resolved) path."""
    _check_name(raw)
    try:
        if out.is_symlink():
            raise InputError(f"output folder {out} is a symbolic link: give the folder itself")
        resolved = out.parent.resolve() / out.name
        cwd = Path.cwd().resolve()
    except (OSError, RuntimeError) as exc:  # a link loop in a parent, a deleted cwd, a name too long
        raise InputError(f"cannot use output folder {out}: {describe_oserror(exc)}") from None
    if resolved == Path(resolved.anchor):
        raise InputError(f"refusing to write to the filesystem root {resolved}")
    for home in _homes():
        if resolved == home or home.is_relative_to(resolved):
            raise InputError(f"refusing output folder {resolved}: it is a home folder or contains one")
    if str(resolved) in SYSTEM_FOLDERS or any(resolved == Path(t) or resolved.is_relative_to(t) for t in SYSTEM_TREES):
        raise InputError(f"refusing to write to the system folder {resolved}")
    if cwd.is_relative_to(resolved):
        raise InputError(f"refusing output folder {resolved}: it is the current folder or contains it")
    for source in inputs:
        try:
            src = Path(source).resolve()
        except (OSError, RuntimeError) as exc:
            raise InputError(f"cannot resolve the input {source}: {describe_oserror(exc)}") from None
        if resolved == src or resolved.is_relative_to(src) or src.is_relative_to(resolved):
            raise InputError(f"output folder {out} overlaps the input {source}: choose a folder outside it")
    return resolved


def _check_existing(path: Path, owner: Owner | None, overwrite: bool, resume: bool) -> None:
    if not path.is_dir():
        raise InputError(f"output path {path} exists and is not a folder")
    if not any(path.iterdir()):
        return
    if owner is None or not owner.owns(path):
        raise InputError(
            f"output folder {path} is not empty and was not written by this command "
            f"(no {owner.marker if owner else 'marker file'}); nothing was changed: choose a new folder"
        )
    if not (overwrite or resume):
        raise InputError(f"output folder {path} is not empty (pass --overwrite to replace it)")
    strangers = owner.strangers(path) if overwrite else []
    if strangers:
        raise InputError(
            f"output folder {path} holds files this command did not write ({', '.join(strangers)}); "
            "move them out or choose a new folder"
        )


def check_output_dir(
    out: str | os.PathLike,
    *,
    owner: Owner | None = None,
    overwrite: bool = False,
    resume: bool = False,
    inputs: Collection[str | os.PathLike] = (),
) -> Path:
    """Refuse, before any work, an output folder that cannot or must not be written.

    Returns the absolute real path (symlinked parents resolved). A non-empty
    OUT passes only if ``owner`` owns it and ``overwrite`` (replace) or
    ``resume`` (continue) is set.
    """
    raw = os.fspath(out)
    if not isinstance(raw, str):
        raw = os.fsdecode(raw)
    path = _refuse_dangerous(Path(raw).absolute(), raw, inputs)
    try:
        if path.exists() or path.is_symlink():
            _check_existing(path, owner, overwrite, resume)
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is None or not parent.is_dir():
            raise InputError(f"cannot create output folder {path}: {parent} is not a folder")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise InputError(f"cannot create output folder {path}: {parent} is not writable")
    except OSError as exc:
        raise InputError(f"cannot use output folder {path}: {describe_oserror(exc)}") from None
    return path


def _recheck(out: str | os.PathLike, path: Path, **kwargs) -> None:
    """The checks again, under the lock: nothing changed since the first look."""
    if check_output_dir(out, **kwargs) != path:
        raise InputError(f"output folder {out} now resolves elsewhere (a parent link changed); nothing was written")


def _open_lock(lock: Path) -> int:
    try:
        return os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except PermissionError:  # a lock file of another user: reading is enough for flock
        return os.open(lock, os.O_RDONLY | os.O_NOFOLLOW)


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold ``.<name>.lock`` beside ``out``: a second run on the same OUT exits at once.

    The lock file is removed on release; a run that opened it just before
    checks, once it holds the lock, that the file is still the one on disk.
    """
    out = Path(out)
    lock = out.parent / f".{out.name}.lock"
    for _ in range(20):
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            fd = _open_lock(lock)
        except OSError as exc:
            raise InputError(f"cannot create output folder {out}: {describe_oserror(exc)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise InputError(f"another rdface run is writing {out}; wait for it to finish") from None
            raise InputError(f"cannot lock output folder {out}: {describe_oserror(exc)}") from None
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock, follow_symlinks=False))
        except OSError:
            same = False
        if same:
            break
        os.close(fd)  # released and removed by its holder meanwhile: take the new one
    else:  # pragma: no cover - 20 races in a row
        raise InputError(f"cannot lock output folder {out}: the lock file keeps changing")
    try:
        remove_leftovers(out)
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)


def _publish(tmp: Path, out: Path, *, owner: Owner | None, overwrite: bool) -> None:
    """Rename the finished ``tmp`` to ``out``; never replace what is not ours."""
    if os.path.islink(out):
        raise InputError(f"output folder {out} became a symbolic link while this run worked; nothing was replaced")
    if out.is_dir() and any(out.iterdir()):
        if not (overwrite and owner is not None and owner.owns(out)) or owner.strangers(out):
            raise InputError(f"output folder {out} changed while this run worked; nothing was replaced")
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.rename(out, old)
        try:
            os.rename(tmp, out)
        except OSError:
            os.rename(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)
        return
    try:
        os.rename(tmp, out)  # replaces an empty folder only
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise InputError(f"output folder {out} appeared while this run worked; nothing was replaced") from None
        raise


def _kept(path: Path, existed: bool) -> str:
    """What a failed run leaves, said truthfully."""
    return f"the earlier output in {path} is kept unchanged" if existed else "nothing was written"


@contextlib.contextmanager
def atomic_output_dir(
    out: str | os.PathLike,
    *,
    owner: Owner | None = None,
    overwrite: bool = False,
    inputs: Collection[str | os.PathLike] = (),
) -> Iterator[Path]:
    """Yield a temporary sibling folder that becomes ``out`` only on success.

    See the module docstring for what ``out`` may be. The lock is held for the
    whole block: a second run on the same OUT is refused at once. An
    interrupted run (exception, Ctrl-C, SIGTERM via the CLI) removes the
    temporary folder and leaves an earlier output as it was; an ``OSError``
    becomes :class:`OutputWriteError`. The finished folder carries the
    manifest of what the run wrote.
    """
    path = check_output_dir(out, owner=owner, overwrite=overwrite, inputs=inputs)
    with output_lock(path):
        _recheck(out, path, owner=owner, overwrite=overwrite, inputs=inputs)
        existed = path.is_dir() and any(path.iterdir())
        with _fresh_beside(path, owner, overwrite=overwrite, existed=existed) as tmp:
            yield tmp


def _record(folder: Path, owner: Owner, mine: set[str], before: set[str], *, complete: bool) -> None:
    """The manifest of a resumable run: what was ours before it, and what it added."""
    if not (folder / owner.marker).is_file():  # removed on the way out (a run that wrote nothing)
        return
    files = {rel: size for rel, size in list_files(folder).items() if rel in mine or rel not in before}
    write_manifest(folder, owner.stages[0], files, complete=complete)


@contextlib.contextmanager
def resumable_output_dir(
    out: str | os.PathLike,
    *,
    owner: Owner,
    overwrite: bool = False,
    inputs: Collection[str | os.PathLike] = (),
) -> Iterator[tuple[Path, bool]]:
    """For long runs that write as they go: yield ``(folder, resumed)``.

    A folder this command made earlier is continued (``resumed``); a new one is
    created. With ``overwrite`` an earlier output stays as it is while the new
    run works in a temporary sibling, which replaces it only when the run
    finishes (a failed or interrupted run leaves the old output). The caller
    writes the owner marker (its config) at once and every file atomically;
    whether an earlier run's settings and inputs match is the caller's check
    (see :func:`rdface_hf._config.open_run_dir`). The manifest records what the
    run wrote, also when it is interrupted. An ``OSError`` becomes
    :class:`OutputWriteError`; what was written stays, to be resumed.
    """
    path = check_output_dir(out, owner=owner, overwrite=overwrite, resume=True, inputs=inputs)
    with output_lock(path):
        _recheck(out, path, owner=owner, overwrite=overwrite, resume=True, inputs=inputs)
        existing = path.is_dir() and any(path.iterdir())
        if existing and overwrite:
            with _fresh_beside(path, owner, overwrite=True, existed=True, resumable=True) as tmp:
                yield tmp, False
            return
        try:
            path.mkdir(parents=True, exist_ok=True)
            mine, before = owner.own_files(path), set(list_files(path))
            _record(path, owner, mine, before, complete=False)
        except OSError as exc:
            raise OutputWriteError(f"cannot create output folder {path}: {describe_oserror(exc)}") from None
        complete = False
        try:
            yield path, existing
            complete = True
        except OSError as exc:
            raise OutputWriteError(
                f"cannot finish {path}: {describe_oserror(exc)}; what was written is kept: "
                "rerun the same command to resume"
            ) from None
        finally:
            with contextlib.suppress(OSError):
                _record(path, owner, mine, before, complete=complete)


@contextlib.contextmanager
def _fresh_beside(
    path: Path, owner: Owner | None, *, overwrite: bool, existed: bool, resumable: bool = False
) -> Iterator[Path]:
    """Work in a temporary sibling of ``path`` that replaces it only when the block finishes
    (with the manifest of what it holds); on any error the sibling goes and ``path`` stays."""
    tmp = None
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.partial-", dir=path.parent))
        os.chmod(tmp, 0o777 & ~_umask())
        if owner is not None and resumable:  # a resumable run's files are its own while it is unfinished
            write_manifest(tmp, owner.stages[0], {}, complete=False)
        yield tmp
        if owner is not None:
            write_manifest(tmp, owner.stages[0], list_files(tmp), complete=True)
        _publish(tmp, path, owner=owner, overwrite=overwrite)
    except BaseException as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if not isinstance(exc, OSError):
            raise
        detail = describe_oserror(exc).replace(str(tmp), str(path)) if tmp else describe_oserror(exc)
        raise OutputWriteError(f"cannot finish {path}: {detail}; {_kept(path, existed)}") from None
