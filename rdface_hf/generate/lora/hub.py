"""Adapters on the Hub: push to one private, gated model repo; pull only what a run needs.

Repo layout (the adapter folder's, without checkpoints or class images)::

    README.md                               the model card (gated)
    adapters.json                           the index
    train_lora_config.json                  the training settings
    <abbr>/pytorch_lora_weights.safetensors one subfolder per condition
    <abbr>/adapter.json
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import huggingface_hub

from ..._errors import InputError, RDFaceError, hub_error
from ..._io import atomic_write_json
from .card import render_card
from .config import ADAPTER_RECORD, INDEX_FILE, SAMPLES_FILE, VALIDATION_FILE, WEIGHT_NAME, is_repo_id
from .export import check_folder_names, read_index

UPLOAD_PATTERNS = [
    "README.md", INDEX_FILE, "train_lora_config.json", f"*/{WEIGHT_NAME}", f"*/{ADAPTER_RECORD}", SAMPLES_FILE,
    f"*/{VALIDATION_FILE}",
]  # fmt: skip
LOCAL_KEYS = ("base_model", "vae", "dataset")


def _public(value):
    """A local path becomes its folder name: no local paths go to the Hub."""
    return Path(value).name if isinstance(value, str) and value.startswith(("/", "~", ".")) else value


@contextlib.contextmanager
def _staged(folder: Path, repo_id: str):
    """The folder as it goes to the Hub: card with the repo id, local paths replaced by names."""
    index = read_index(folder)
    with tempfile.TemporaryDirectory(prefix=".push-", dir=folder.parent) as tmp:
        staged = Path(tmp)
        for abbr in index["adapters"]:
            (staged / abbr).mkdir()
            with contextlib.suppress(OSError):
                os.link(folder / abbr / WEIGHT_NAME, staged / abbr / WEIGHT_NAME)
            if not (staged / abbr / WEIGHT_NAME).exists():
                shutil.copy2(folder / abbr / WEIGHT_NAME, staged / abbr / WEIGHT_NAME)
            if (folder / abbr / VALIDATION_FILE).is_file():  # pictures go only to this gated repo
                shutil.copy(folder / abbr / VALIDATION_FILE, staged / abbr / VALIDATION_FILE)
            record = json.loads((folder / abbr / ADAPTER_RECORD).read_text(encoding="utf-8"))
            atomic_write_json(staged / abbr / ADAPTER_RECORD, {k: _public(v) for k, v in record.items()})
        public = {k: (_public(v) if k in LOCAL_KEYS else v) for k, v in index.items()}
        public["adapters"] = {a: {k: _public(v) for k, v in r.items()} for a, r in index["adapters"].items()}
        atomic_write_json(staged / INDEX_FILE, public)
        config = folder / "train_lora_config.json"
        if config.is_file():
            saved = json.loads(config.read_text(encoding="utf-8"))
            atomic_write_json(staged / config.name, {k: _public(v) for k, v in saved.items()})
        samples = (folder / SAMPLES_FILE).is_file()
        if samples:
            shutil.copy(folder / SAMPLES_FILE, staged / SAMPLES_FILE)
        card = render_card(public, repo_id=repo_id, samples=samples)
        (staged / "README.md").write_text(str(card), encoding="utf-8")
        yield staged


def push_adapters(folder: str | os.PathLike, repo_id: str, *, token: str | None = None, api=None) -> str:
    """Upload an adapter folder to ``repo_id``: created **private** and **gated** (manual
    approval) before any file goes up; returns the repo URL. The token is never printed."""
    folder = Path(folder)
    if not is_repo_id(repo_id):
        raise InputError(f"--push-to-hub must look like ORG/NAME, got {repo_id!r}")
    api = api or huggingface_hub.HfApi(token=token)
    try:
        url = api.create_repo(repo_id, repo_type="model", private=True, exist_ok=True)
        api.update_repo_settings(repo_id, repo_type="model", private=True, gated="manual")
        with _staged(folder, repo_id) as staged:
            api.upload_folder(
                folder_path=str(staged), repo_id=repo_id, repo_type="model", allow_patterns=UPLOAD_PATTERNS,
                commit_message="Upload RDFace LoRA adapters (rdface_hf)",
            )  # fmt: skip
    except RDFaceError:
        raise
    except Exception as exc:  # network, auth, Hub errors: one line, no token
        raise RDFaceError(f"could not push the adapters to {repo_id}: {hub_error(exc, token)}") from None
    return str(url)


def _hub_error(repo_id: str, exc: Exception) -> InputError:
    first = (str(exc).splitlines() or [""])[0][:300]
    return InputError(f"cannot get adapters {repo_id}: {type(exc).__name__}: {first}")


def pull_adapters(repo_id: str, conditions: str | Sequence[str] | None, *, token=None) -> tuple[Path, str]:
    """The snapshot folder of ``repo_id`` holding the index and the subfolders of the wanted
    conditions only (``all``: every adapter); returns ``(folder, commit)``. Works offline
    from the Hub cache (``HF_HUB_OFFLINE=1``)."""
    try:
        index_path = Path(huggingface_hub.hf_hub_download(repo_id, INDEX_FILE, token=token))
    except Exception as exc:
        raise _hub_error(repo_id, exc) from None
    index = read_index(index_path.parent)
    wanted = checked_adapters(index, conditions, source=repo_id)
    patterns = [INDEX_FILE, "README.md", *(f"{abbr}/*" for abbr in wanted)]
    try:
        folder = Path(huggingface_hub.snapshot_download(repo_id, allow_patterns=patterns, token=token))
    except Exception as exc:
        raise _hub_error(repo_id, exc) from None
    missing = [a for a in wanted if not (folder / a / WEIGHT_NAME).is_file()]
    if missing:
        raise InputError(f"adapters {repo_id}: the snapshot lacks {missing} (connect once to download them)")
    return folder, folder.name


def select_adapters(index: dict, conditions: str | Sequence[str] | None, *, source: str) -> list[str]:
    """The abbreviations of ``--conditions`` among the index's adapters (one clear error)."""
    available = sorted(index["adapters"])
    if conditions is None or (isinstance(conditions, str) and conditions.strip().lower() == "all"):
        if not available:
            raise InputError(f"{source} holds no finished adapter")
        return available
    wanted = [c.strip() for c in (conditions.split(",") if isinstance(conditions, str) else conditions) if c.strip()]
    unknown = [w for w in wanted if w not in index["adapters"]]
    if not wanted or unknown:
        shown = ", ".join(available[:8]) + (" ..." if len(available) > 8 else "")
        raise InputError(f"{source} has no adapter for {unknown or conditions!r} (it has {shown})")
    return list(dict.fromkeys(wanted))


def checked_adapters(index: dict, conditions, *, source: str) -> list[str]:
    """:func:`select_adapters`, refusing names that are not plain folder names (a hostile index)."""
    wanted = select_adapters(index, conditions, source=source)
    check_folder_names(wanted)
    return wanted


def resolve_adapters(spec: str, conditions, *, token=None) -> tuple[Path, str, str]:
    """``--adapters``: a local adapter folder, or a Hub repo id; returns ``(folder, source, revision)``."""
    path = Path(spec).expanduser()
    if path.is_dir():
        return path, path.resolve().name, "local"  # a folder by its name: no local path in any row or card
    if not is_repo_id(spec):
        raise InputError(f"--adapters {spec!r}: no such folder, and not a Hub repo id (ORG/NAME)")
    folder, commit = pull_adapters(spec, conditions, token=token)
    return folder, spec, commit
