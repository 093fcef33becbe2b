"""``--push-to-hub ORG/NAME``: the study's results and report to a private, gated dataset repo."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import HfApi

from .._errors import RDFaceError, hub_error

FILES = ["README.md", "results.parquet", "summary.md", "summary.csv", "paired.csv", "report.html"]


def push_study(out: Path, repo_id: str, *, token: str | None = None, include_faces: bool = False, api=None) -> str:
    """Create the repo private and gated first, then upload (no run folders, no images)."""
    api = api or HfApi(token=token)
    try:
        url = api.create_repo(repo_id, repo_type="dataset", private=True, exist_ok=True)
        api.update_repo_settings(repo_id, repo_type="dataset", private=True, gated="manual")
        api.upload_folder(folder_path=str(out), repo_id=repo_id, repo_type="dataset", allow_patterns=FILES,
                          commit_message="rdface benchmark results")  # fmt: skip
    except Exception as exc:  # network, auth, Hub errors: one line, token masked
        raise RDFaceError(f"could not push to {repo_id}: {hub_error(exc, token)}") from None
    return str(url)
