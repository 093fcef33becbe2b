"""``rdface publish OUT --repo-id ORG/NAME``: a private, gated Hub dataset repo."""

from __future__ import annotations

from ..dataset.config import PublishConfig

NAME = "publish"
CONFIG = PublishConfig
HELP = "upload a build to a private, gated Hub dataset repo"
DESCRIPTION = (
    "Create ORG/NAME as a private dataset repo, set gating, then upload the build. "
    "The token comes from --token, HF_TOKEN or `hf auth login`; it is never printed."
)


def run(config: PublishConfig) -> int:
    from ..dataset.hub import publish  # huggingface_hub, datasets: kept out of the CLI's start-up

    url = publish(config.out, config.repo_id, gated=config.gated, token=config.token)
    print(f"published {config.out} to {url} (private, gated: {config.gated})")
    return 0
