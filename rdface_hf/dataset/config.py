"""The settings of ``rdface publish`` (light: the CLI reads them without the Hub client or datasets)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from .._config import StageConfig, is_hub_repo_id, option, require


@dataclass
class PublishConfig(StageConfig):
    """Settings of ``rdface publish`` (never saved: it carries a token)."""

    stage: ClassVar[str] = "publish"
    private: ClassVar[tuple[str, ...]] = ("token",)

    out: str = option(help="a folder written by 'rdface build'", positional=True, metavar="OUT")
    repo_id: str = option(help="ORG/NAME of the dataset repo")
    gated: Literal["manual", "auto"] = option("manual", help="access approval")
    token: str | None = option(None, help="Hub token (default: HF_TOKEN or the cached login)", run_only=True)

    def validate(self) -> None:
        require(self.gated in ("manual", "auto"), "gated", f"must be 'manual' or 'auto', got {self.gated!r}")
        require(
            is_hub_repo_id(self.repo_id),
            "repo_id",
            f"must look like ORG/NAME, got {self.repo_id!r}",
        )
