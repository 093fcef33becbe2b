"""Loading and publishing the dataset: a thin facade over ``datasets`` and
``huggingface_hub``.

Hub file tree of a dataset repo (and of a local build folder)::

    README.md                  card: gating fields and one `configs` entry per fold
    data/test-<hash>.parquet          fixed test split
    data/train-always-<hash>.parquet  in every fold's training split
    data/cv-<k>-<hash>.parquet        fold k's validation split
    validation_report.csv      every source row and what became of it
    build_config.json          the build's configuration

``load_dataset(path_or_repo_id, "fold_k")`` gives train / validation / test;
the ``default`` config gives train (all non-test) / test.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ._errors import InputError, RDFaceError

REQUIRED_FILES = ("README.md", "validation_report.csv")
UPLOAD_PATTERNS = ("README.md", "data/*.parquet", "validation_report.csv", "build_config.json")


def config_name(fold: int | None) -> str:
    if fold is None:
        return "default"
    if isinstance(fold, bool) or not isinstance(fold, int) or fold < 0:
        raise InputError(f"fold must be a non-negative integer, got {fold!r}")
    return f"fold_{fold}"


def _local_configs(folder: Path) -> list[str]:
    from huggingface_hub import DatasetCard

    try:
        card = DatasetCard.load(folder / "README.md")
        return [c["config_name"] for c in card.data.to_dict().get("configs", []) or []]
    except Exception as exc:  # malformed YAML or card: one line, not a yaml traceback
        raise InputError(f"{folder / 'README.md'} is not a valid dataset card ({type(exc).__name__})") from None


def load_rdface(
    path_or_repo_id: str | os.PathLike,
    fold: int | None = None,
    *,
    split: str | None = None,
    revision: str | None = None,
    token: str | bool | None = None,
    **kwargs: Any,
):
    """Load an RDFace build: ``fold=None`` is the ``default`` config, else ``fold_<fold>``.

    ``path_or_repo_id`` is a local build folder or a Hub dataset repo id
    (``ORG/rdface``; gated: pass ``token`` or log in). A repo is fetched with
    ``snapshot_download`` (so it also loads offline from the Hub cache with
    ``HF_HUB_OFFLINE=1``) and read with ``datasets.load_dataset``. Returns a
    :class:`datasets.DatasetDict` (or a :class:`datasets.Dataset` with ``split``).
    """
    import datasets

    name = config_name(fold)
    path = Path(path_or_repo_id)
    if not path.is_dir():
        path = Path(snapshot(str(path_or_repo_id), revision=revision, token=token))
    if not (path / "README.md").is_file():
        raise InputError(f"{path} is not an RDFace build (no README.md); run 'rdface build' first")
    available = _local_configs(path)
    if name not in available:
        raise InputError(f"{path_or_repo_id} has no config {name!r} (available: {', '.join(available)})")
    return datasets.load_dataset(str(path), name, split=split, **kwargs)


def snapshot(repo_id: str, *, revision: str | None = None, token: str | bool | None = None) -> str:
    """Download (or find in the Hub cache) a dataset repo's build files."""
    from huggingface_hub import snapshot_download

    if repo_id.count("/") != 1:
        raise InputError(f"no such folder, and not a Hub repo id (ORG/NAME): {repo_id}")
    return snapshot_download(
        repo_id, repo_type="dataset", revision=revision, token=token,
        allow_patterns=list(UPLOAD_PATTERNS),
    )


def check_build_folder(folder: str | os.PathLike) -> Path:
    """A folder that ``publish`` may upload: a complete build, nothing partial."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"no such folder: {folder}")
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing or not list((folder / "data").glob("*.parquet")):
        raise InputError(f"{folder} is not a complete RDFace build (missing {missing or ['data/*.parquet']})")
    if not _local_configs(folder):
        raise InputError(f"{folder}/README.md declares no configs")
    return folder


def publish(
    folder: str | os.PathLike,
    repo_id: str,
    *,
    gated: str = "manual",
    token: str | None = None,
    commit_message: str = "Upload RDFace build (rdface_hf)",
    api=None,
) -> str:
    """Upload a build to a **private, gated** dataset repo; returns its URL.

    Order matters: the repo is created private and gated before any file is
    uploaded, so there is never a moment where the images are reachable
    without approval. The token is passed through, never printed.
    """
    from huggingface_hub import HfApi

    folder = check_build_folder(folder)
    if gated not in ("manual", "auto"):
        raise InputError(f"--gated must be 'manual' or 'auto', got {gated!r}")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise InputError(f"--repo-id must look like ORG/NAME, got {repo_id!r}")
    api = api or HfApi(token=token)
    try:
        url = api.create_repo(repo_id, repo_type="dataset", private=True, exist_ok=True)
        api.update_repo_settings(repo_id, repo_type="dataset", private=True, gated=gated)
        with _staged(folder, repo_id) as staged:
            api.upload_folder(
                folder_path=str(staged),
                repo_id=repo_id,
                repo_type="dataset",
                commit_message=commit_message,
                allow_patterns=list(UPLOAD_PATTERNS),
                # shards of an earlier build go in the same commit: an image removed
                # from the release (withdrawn consent) must not stay on the Hub
                delete_patterns=["data/*.parquet"],
            )
    except RDFaceError:
        raise
    except Exception as exc:  # network, auth, Hub errors (httpx or requests, by version): one line
        first = (str(exc).splitlines() or [""])[0]
        if token:
            first = first.replace(token, "***")
        raise RDFaceError(f"could not publish to {repo_id}: {type(exc).__name__}: {first}") from None
    return str(url)


@contextlib.contextmanager
def _staged(folder: Path, repo_id: str):
    """The build as it goes to the Hub: the card names the real repo id.

    Data files are hard-linked (copied across file systems), never changed.
    """
    from .card import DEFAULT_REPO_ID

    with tempfile.TemporaryDirectory(prefix=".publish-", dir=folder.parent) as tmp:
        staged = Path(tmp)
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if not path.is_file() or not any(fnmatch.fnmatch(rel.as_posix(), p) for p in UPLOAD_PATTERNS):
                continue
            (staged / rel).parent.mkdir(parents=True, exist_ok=True)
            if rel.as_posix() == "README.md":
                (staged / rel).write_text(path.read_text(encoding="utf-8").replace(DEFAULT_REPO_ID, repo_id), encoding="utf-8")
                continue
            try:
                os.link(path, staged / rel)
            except OSError:
                shutil.copy2(path, staged / rel)
        yield staged
