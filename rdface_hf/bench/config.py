"""Settings of ``rdface benchmark`` (the command's flags) and the study file they point to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from .._config import StageConfig, is_hub_repo_id, option, require

REGIMES = ("real_only", "augmented", "low_data", "synthetic_only", "episodic")


def csv_list(text: str | None) -> list[str] | None:
    """``"a,b"`` -> ``["a", "b"]``; ``None`` stays ``None``."""
    if text is None:
        return None
    return [part.strip() for part in str(text).split(",") if part.strip()]


@dataclass(kw_only=True)
class BenchmarkConfig(StageConfig):
    """Settings of one ``rdface benchmark`` run (saved as ``benchmark_config.json`` in O)."""

    stage: ClassVar[str] = "benchmark"

    study: str | None = option(
        None, help="the study file (YAML: dataset, folds, models, generators, filter, regimes); --config FILE sets it"
    )
    output_dir: str = option(help="the study folder O (runs/, results.parquet, summary.md, report.html)", metavar="O")
    dataset: str | None = option(None, help="override the study's dataset (build folder or Hub id)")
    folds: str | None = option(None, help="override the study's folds, comma-separated (e.g. 0,1)")
    regimes: str | None = option(None, help="run only these regimes of the study, comma-separated")
    models: str | None = option(None, help="run only these models of the study (their names), comma-separated")
    generators: str | None = option(None, help="run only these generators of the study, comma-separated")
    dry_run: bool = option(False, help="print the plan (every run, its inputs, done or not, a cost estimate)")
    overwrite: bool = option(False, help="rerun cells whose settings changed (only runs this study wrote)")
    include_faces: bool = option(False, help="put face images in report.html even when the dataset is gated")
    bootstrap: int = option(2000, help="paired bootstrap resamples of the test images")
    push_to_hub: str | None = option(
        None, help="ORG/NAME: upload results and report to a private, gated dataset repo", run_only=True
    )
    token: str | None = option(None, help="Hub token for --push-to-hub (default: HF_TOKEN)", run_only=True)
    private: ClassVar[tuple[str, ...]] = ("token",)

    @classmethod
    def read_file(cls, path) -> dict:
        """``--config STUDY.yaml`` names the study (read and checked by :func:`~.study.load_study`)."""
        return {"study": str(path)}

    def validate(self) -> None:
        require(bool(str(self.study or "").strip()), "study", "must name a study file (--config STUDY.yaml)")
        require(bool(str(self.output_dir or "").strip()), "output_dir", "must name a folder")
        for name in ("folds",):
            items = csv_list(getattr(self, name))
            ok = items is None or (bool(items) and all(i.isdigit() for i in items))
            require(ok, name, f"must be fold numbers, comma-separated, got {getattr(self, name)!r}")
        regimes = csv_list(self.regimes)
        bad = [r for r in regimes or [] if r not in REGIMES]
        require(not bad, "regimes", f"unknown regime(s) {bad}; known: {', '.join(REGIMES)}")
        require(self.bootstrap >= 100, "bootstrap", f"must be at least 100, got {self.bootstrap}")
        if self.push_to_hub is not None:
            ok = is_hub_repo_id(self.push_to_hub)
            require(ok, "push_to_hub", f"must look like ORG/NAME, got {self.push_to_hub!r}")
