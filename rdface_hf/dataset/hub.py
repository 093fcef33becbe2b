"""Publishing a build to the Hub: a private, gated dataset repo.

The files uploaded are those of the folder contract documented on
:class:`~rdface_hf.dataset.facade.RDFaceDataset`; loading is the facade's job.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import tempfile
from pathlib import Path

from huggingface_hub import DatasetCard, HfApi

from .._config import is_hub_repo_id
from .._errors import InputError, RDFaceError, hub_error
from .build_files import CARD_FILE, HUB_FILES, REPORT_FILE, SHARD_GLOB
from .card import DEFAULT_REPO_ID
from .config import PublishConfig  # noqa: F401 - its old home
from .facade import read_card_configs

REQUIRED_FILES = (CARD_FILE, REPORT_FILE)


UPLOAD_PATTERNS = HUB_FILES


def check_build_folder(folder: str | os.PathLike) -> Path:
    """A folder that ``publish`` may upload: a complete build, nothing partial."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"no such folder: {folder}")
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing or not list(folder.glob(SHARD_GLOB)):
        raise InputError(f"{folder} is not a complete RDFace build (missing {missing or [SHARD_GLOB]})")
    if not read_card_configs(folder):
        raise InputError(f"{folder}/README.md declares no configs")
    if _rows(folder) == 0:
        raise InputError(f"{folder} holds no images (its shards have no rows): nothing to publish")
    link = _license_link(folder)
    if link and not (folder / link).is_file():
        raise InputError(f"{folder}/README.md links its licence to {link}, which is missing: rebuild the folder")
    return folder


def _rows(folder: Path) -> int:
    """Rows over the build's shards, from the parquet footers (a damaged shard: one line)."""
    import pyarrow.parquet as pq  # only publish reads shard footers

    total = 0
    for shard in sorted(folder.glob("data/*.parquet")):
        try:
            total += pq.ParquetFile(shard).metadata.num_rows
        except Exception as exc:  # pyarrow.ArrowInvalid, OSError: not a parquet file
            raise InputError(f"{shard} is not a readable parquet shard ({type(exc).__name__}): rebuild it") from None
    return total


def _license_link(folder: Path) -> str | None:
    """The card's ``license_link`` when it names a file of the repository (not a URL)."""
    link = DatasetCard.load(folder / CARD_FILE).data.to_dict().get("license_link")
    if not isinstance(link, str) or "://" in link or link.startswith("/") or ".." in Path(link).parts:
        return None
    return link


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
    folder = check_build_folder(folder)
    if gated not in ("manual", "auto"):
        raise InputError(f"--gated must be 'manual' or 'auto', got {gated!r}")
    if not is_hub_repo_id(repo_id):
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
        raise RDFaceError(f"could not publish to {repo_id}: {hub_error(exc, token)}") from None
    return str(url)


@contextlib.contextmanager
def _staged(folder: Path, repo_id: str):
    """The build as it goes to the Hub: the card names the real repo id.

    Data files are hard-linked (copied across file systems), never changed.
    """
    with tempfile.TemporaryDirectory(prefix=".publish-", dir=folder.parent) as tmp:
        staged = Path(tmp)
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if not path.is_file() or not any(fnmatch.fnmatch(rel.as_posix(), p) for p in UPLOAD_PATTERNS):
                continue
            (staged / rel).parent.mkdir(parents=True, exist_ok=True)
            if rel.as_posix() == "README.md":
                (staged / rel).write_text(
                    path.read_text(encoding="utf-8").replace(DEFAULT_REPO_ID, repo_id), encoding="utf-8"
                )
                continue
            try:
                os.link(path, staged / rel)
            except OSError:
                shutil.copy2(path, staged / rel)
        yield staged
