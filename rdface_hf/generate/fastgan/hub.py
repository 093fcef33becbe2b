"""A FastGAN from a folder or a Hub repo, and the upload of a trained one (private)."""

from __future__ import annotations

import os
from pathlib import Path

from huggingface_hub import HfApi, snapshot_download

from ..._errors import InputError
from .config import REPO_ID

MODEL_FILES = ("config.json", "model.safetensors", "README.md")
UPLOAD_PATTERNS = ["README.md", "config.json", "model.safetensors", "discriminator/*", "samples/final.png"]


def _one_line(exc: Exception, token: str | None = None) -> str:
    first = (str(exc).splitlines() or [""])[0][:300]
    for secret in (token, os.environ.get("HF_TOKEN")):
        if secret:
            first = first.replace(secret, "***")
    return f"{type(exc).__name__}: {first}"


def resolve_model(spec: str, revision: str | None = None, token: str | bool | None = None) -> tuple[Path, str]:
    """``(local folder, source)`` of ``--model``: a folder of ``rdface train-fastgan`` or a Hub
    repo id (downloaded, or found in the Hub cache when offline). ``source`` is the folder's
    name, or ``ORG/NAME@<commit>``: what the synthetic set records."""
    path = Path(spec)
    if path.is_dir():
        if not (path / "model.safetensors").is_file():
            raise InputError(f"{spec} holds no model.safetensors (is the training finished?)")
        return path, path.resolve().name
    if not REPO_ID.match(spec):
        raise InputError(f"no such model folder, and not a Hub repo id (ORG/NAME): {spec}")
    try:
        folder = Path(snapshot_download(spec, revision=revision, token=token, allow_patterns=list(MODEL_FILES)))
    except Exception as exc:  # offline and not cached, gated, no such repo: one line
        raise InputError(
            f"cannot open model {spec}: {_one_line(exc, token if isinstance(token, str) else None)}"
        ) from None
    if not (folder / "model.safetensors").is_file():
        raise InputError(f"model {spec} holds no model.safetensors (only safetensors weights are loaded)")
    return folder, f"{spec}@{folder.name}"


def load_generator(spec: str, revision: str | None = None, token: str | bool | None = None):
    """``(FastGANGenerator, source)`` for ``--model``; a broken model is one line, never a traceback."""
    from .models import FastGANGenerator  # torch: kept out of the CLI's start-up

    folder, source = resolve_model(spec, revision, token)
    try:
        model = FastGANGenerator.from_pretrained(folder)
    except Exception as exc:  # bad config.json, missing or mismatched weights
        raise InputError(f"cannot load FastGAN {spec}: {_one_line(exc)}") from None
    return model, source


def push_model(folder: Path, repo_id: str, *, token: str | None = None) -> str:
    """Upload the model files of ``folder`` to ``repo_id``, created private and gated (manual
    approval) before any file is uploaded; refuse a repo that exists and is public."""
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="model", private=True, exist_ok=True)
        if not getattr(api.model_info(repo_id), "private", True):
            raise InputError(f"{repo_id} exists and is public: a model trained on gated faces is pushed private only")
        api.update_repo_settings(repo_id, repo_type="model", gated="manual")  # before any file is uploaded
        commit = api.upload_folder(
            folder_path=str(folder), repo_id=repo_id, repo_type="model", allow_patterns=UPLOAD_PATTERNS,
            commit_message="Upload FastGAN trained with rdface train-fastgan",
        )  # fmt: skip
    except InputError:
        raise
    except Exception as exc:  # no token, no rights, network: one line, no token in it
        raise InputError(f"cannot push to {repo_id}: {_one_line(exc, token)}") from None
    return str(getattr(commit, "commit_url", commit))
