"""Typed stage configs: the single source of truth of a command.

A stage's config is a dataclass derived from :class:`StageConfig`. Each field
is declared once with :func:`option`: its type, default and help text. The
command line is generated from it (:mod:`rdface_hf._argparse`), a YAML or JSON
file can supply it (``--config FILE``), it is validated on construction, and it
is saved beside the stage's outputs as ``<stage>_config.json`` together with the
package version and a digest of the inputs, so that
``--config OUT/<stage>_config.json`` reruns the same work.

Validation raises :class:`ConfigError`, which names the *field*
(``test_fraction must be ...``); the CLI rewrites the name as the *flag*
(``--test-fraction must be ...``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from ._errors import InputError
from ._io import atomic_write_json
from ._outputs import Owner, note, resumable_output_dir
from ._owner import MANIFEST
from ._values import MAX_BYTES, BadValue, FieldError, checked_fields, parse_text
from ._version import __version__

T = TypeVar("T", bound="StageConfig")

# Keys a saved config carries besides its fields; ignored when it is read back.
SAVED_EXTRAS = ("stage", "provenance")
# Run-time switches: never saved in a config, never taken from a config file (a rerun from a
# saved config must not delete what the first run made).
RUN_TIME_SWITCHES = ("overwrite",)
# Where a run writes is not what it makes: a moved output folder still resumes.
WHERE_FIELDS = ("output_dir", "out")
# Metadata keys of ours; the others (help, metavar, aliases, choices) go to argparse.
OWN_METADATA = ("positional", "run_only", "flag")


def option(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    positional: bool = False,
    run_only: bool = False,
    metavar: str | None = None,
    aliases: tuple[str, ...] = (),
    flag: str | None = None,
    default_factory: Any = dataclasses.MISSING,
) -> Any:
    """A config field with its help text, declared once.

    ``positional``: a command-line argument without a flag (``rdface build RAW OUT``).
    ``run_only``: changes how a run happens, not what it makes (paths, workers,
    progress bars); left out of the saved config's identity.
    ``flag``: the command line's spelling when it is not the field's name (``--landmarker``
    for ``landmarker_model``; the field's own spelling stays an alias); for a positional, its
    flag form (``rdface simulate --output-dir OUT`` as well as ``rdface simulate OUT``).
    """
    metadata: dict[str, Any] = {"help": help, "positional": positional, "run_only": run_only}
    if metavar:
        metadata["metavar"] = metavar
    if aliases:
        metadata["aliases"] = list(aliases)
    if flag:
        metadata["flag"] = flag
    return dataclasses.field(default=default, default_factory=default_factory, metadata=metadata)


class ConfigError(InputError):
    """A config value is invalid; ``field`` names it (the CLI turns it into a flag)."""

    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message
        super().__init__(f"{field} {message}")


MAX_SEED = 2**63 - 1


def require(condition: bool, field: str, message: str) -> None:
    """Raise :class:`ConfigError` for ``field`` unless ``condition``."""
    if not condition:
        raise ConfigError(field, message)


def is_hub_repo_id(text: object) -> bool:
    """``ORG/NAME`` as the Hub accepts it (huggingface_hub's rules: characters, length, no ``--``):
    a bad ``--push-to-hub`` is refused before the work, not after it."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id  # only configs with a repo id need it

    if not isinstance(text, str) or text.count("/") != 1:
        return False
    try:
        validate_repo_id(text)
    except HFValidationError:
        return False
    return True


@dataclasses.dataclass
class StageConfig:
    """Base class of stage configs; subclasses validate in :meth:`validate`.

    Class attributes: ``stage`` (the command's name) and ``config_file``
    (``<stage>_config.json``, also the marker by which the command recognises
    an output folder that it wrote itself).
    """

    stage: ClassVar[str] = "stage"
    # The saved config's file name when not ``<stage>_config.json`` (e.g. ``generation_config.json``).
    config_filename: ClassVar[str | None] = None
    # Fields that may hold local paths and are left out of a published config.
    private: ClassVar[tuple[str, ...]] = ()
    # Glob patterns of what a resumable run writes in its folder: its own files while the run is
    # unfinished (a finished run's manifest lists them exactly; see rdface_hf._owner).
    output_files: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        try:  # every field type-checked before the stage's validate uses it
            checked = checked_fields(self)
        except FieldError as exc:
            raise ConfigError(exc.field, exc.message) from None
        for name, value in checked.items():
            object.__setattr__(self, name, value)
        for f in dataclasses.fields(self):  # seeds go to int64 columns and generators: 0 .. 2**63 - 1
            value = getattr(self, f.name)
            if (
                (f.name == "seed" or f.name.endswith("_seed"))
                and isinstance(value, int)
                and not isinstance(value, bool)
            ):
                require(0 <= value <= MAX_SEED, f.name, f"must be in 0..2**63-1, got {str(value)[:30]}")
        self.validate()

    def validate(self) -> None:  # pragma: no cover - overridden
        pass

    @classmethod
    def config_file(cls) -> str:
        return cls.config_filename or f"{cls.stage.replace('-', '_')}_config.json"

    @classmethod
    def owner(cls) -> Owner:
        """How the command recognises an output folder it wrote: its saved config."""
        return Owner(cls.config_file(), (cls.stage, cls.__name__), files=cls.output_files)

    @classmethod
    def run_only_fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls) if f.metadata.get("run_only"))

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, os.PathLike):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def identity(self) -> dict[str, Any]:
        """The fields that determine the output (no run-only fields)."""
        skip = (*self.run_only_fields(), *RUN_TIME_SWITCHES, *WHERE_FIELDS)
        return {k: v for k, v in self.to_dict().items() if k not in skip}

    def save(self, path: str | os.PathLike, **provenance: Any) -> Path:
        """Write ``<stage>_config.json``: the fields (less ``private`` ones),
        the stage name and ``provenance`` (package version, input digests)."""
        data = {k: v for k, v in self.to_dict().items() if k not in self.private and k not in RUN_TIME_SWITCHES}
        record = {"rdface_hf_version": __version__, **provenance}
        return atomic_write_json(path, {"stage": self.stage, **data, "provenance": record})

    @classmethod
    def read_file(cls, path: str | os.PathLike) -> dict[str, Any]:
        """Field values from a YAML or JSON file (a saved config or one written by hand)."""
        path = Path(path)
        try:
            text = _read_config_text(path)
        except OSError as exc:
            raise InputError(f"cannot read config {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise InputError(f"config {path} is not UTF-8 text") from None
        try:
            data = parse_text(text, as_json=path.suffix.lower() == ".json", where=f"config {path}")
        except BadValue as exc:
            raise InputError(str(exc)) from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise InputError(f"config {path} must hold a mapping of field names to values")
        odd = [k for k in data if not isinstance(k, str)]
        if odd:
            raise InputError(f"config {path}: field names must be text, got {odd[0]!r}")
        saved_stage = data.get("stage")
        if saved_stage is not None and saved_stage not in (cls.stage, cls.__name__):
            raise InputError(f"config {path} was saved by '{saved_stage}', not by '{cls.stage}'")
        data = {k.replace("-", "_"): v for k, v in data.items() if k not in SAVED_EXTRAS}
        for switch in RUN_TIME_SWITCHES:
            if data.pop(switch, None):
                note(f"config {path.name}: '{switch}' is a run-time switch and was ignored; pass --{switch} to use it")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InputError(f"config {path}: unknown field(s) {unknown} for '{cls.stage}'")
        return data

    @classmethod
    def load(cls: type[T], path: str | os.PathLike, **overrides: Any) -> T:
        """A config from a file; ``overrides`` fill or replace fields (local paths)."""
        data = cls.read_file(path)
        data.update(overrides)
        try:
            return cls(**data)
        except TypeError as exc:  # a required field missing from the file
            raise InputError(f"config {path}: {exc}") from None


def _read_config_text(path: Path) -> str:
    """A config file's text: a regular file of at most ``MAX_BYTES``, checked before it is opened
    (a FIFO would block the reader, a device would be read without end)."""
    mode = os.stat(path)
    if not stat.S_ISREG(mode.st_mode):
        kind = "folder" if stat.S_ISDIR(mode.st_mode) else "special file (FIFO, socket or device)"
        raise InputError(f"config {path} is a {kind}, not a regular file; refused unopened")
    if mode.st_size > MAX_BYTES:
        raise InputError(f"config {path} is larger than {MAX_BYTES // 1024} KiB")
    with open(path, "rb") as fh:
        return fh.read(MAX_BYTES + 1).decode("utf-8")


@contextlib.contextmanager
def open_run_dir(
    config: StageConfig,
    out: str | os.PathLike,
    *,
    overwrite: bool = False,
    inputs=(),
    digests: dict[str, str | None] | None = None,
    **provenance: Any,
) -> Iterator[tuple[Path, bool]]:
    """The output folder of a long, resumable run: yields ``(folder, resumed)``.

    A new folder gets the config at once (the owner marker). A folder that
    this command wrote is continued when its saved settings equal ``config``'s
    (run-only fields aside) and its inputs are the same: ``digests`` names each
    input's digest (``{"dataset": ..., "synthetic": ..., "model": ...}``), saved
    as ``provenance.input_digests`` and compared at resume. Otherwise it is
    refused unless ``overwrite``, which starts again (the old output is kept
    until the new run finishes). The output folder's own path is not part of a
    run's identity: a moved folder resumes. See :mod:`rdface_hf._outputs`.
    """
    existed = Path(out).exists()
    digests = dict(digests or {})
    with resumable_output_dir(out, owner=config.owner(), overwrite=overwrite, inputs=inputs) as (folder, resumed):
        path = folder / config.config_file()
        if resumed:
            _check_same_run(config, folder, path, digests)
        config.save(path, **provenance, input_digests=digests)
        try:
            yield folder, resumed
        except BaseException:  # a bad model or dataset found before any output: leave no folder behind
            if not resumed:
                _remove_if_untouched(folder, path, keep_folder=existed)
            raise


def _check_same_run(config: StageConfig, folder: Path, path: Path, digests: dict[str, str | None]) -> None:
    """Refuse to resume a run made with other settings or from other inputs."""
    saved = type(config).read_file(path)
    mine = {k: v for k, v in config.identity().items() if k not in config.private}
    # a setting the saved run lacks (written by an older version, before the setting
    # existed) counts as different: its rows may have been made another way
    differ = sorted(k for k in mine if k not in saved or saved[k] != mine[k])
    if differ:
        flags = ", ".join("--" + k.replace("_", "-") for k in differ)
        raise InputError(
            f"{folder} holds a run with other settings ({flags}); pass --overwrite to start again, "
            "or use the same settings to resume it"
        )
    try:
        before = json.loads(path.read_text(encoding="utf-8")).get("provenance", {}).get("input_digests")
    except (OSError, ValueError, AttributeError):
        before = None
    before = before if isinstance(before, dict) else {}
    for name, digest in digests.items():
        if before.get(name) != digest:
            was, now = str(before.get(name) or "none recorded")[:12], str(digest or "none")[:12]
            raise InputError(
                f"{folder} was made from another {name} (digest {was} != {now}): the input changed since; "
                "pass --overwrite to start again"
            )


def _remove_if_untouched(folder: Path, marker: Path, *, keep_folder: bool) -> None:
    """Remove what a new run wrote when that is its owner marker alone (and empty folders);
    anything more is a run's work, kept to be resumed. A folder the user made is emptied, not removed."""
    if any(p.is_file() and p != marker and p.name != MANIFEST for p in folder.rglob("*")):
        return
    if keep_folder:
        marker.unlink(missing_ok=True)
        (folder / MANIFEST).unlink(missing_ok=True)
        for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                sub.rmdir()
    else:
        shutil.rmtree(folder, ignore_errors=True)
