"""Settings of ``rdface generate --generator {lora,fastgan,morph}`` (light: no torch).

One config for the three generators: the shared fields first, then each
generator's own (their help starts with the generator's name). A field that
belongs to another generator is refused, so a typo is not silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from .._config import StageConfig, option, require
from .._results import StageResult
from ..dataset.folds import check_fold

GENERATOR_FIELDS = {
    "lora": ("adapters", "base_model", "steps", "guidance", "lora_batching", "safety_checker"),
    "fastgan": ("model", "model_revision", "pooled_budget"),
    "morph": ("dataset", "fold", "toward_mean", "caricature", "mix_min", "mix_max", "max_side", "workers"),
}


@dataclass
class GenerateConfig(StageConfig):
    """Settings of one generation run (saved as ``generation_config.json`` in the set)."""

    stage: ClassVar[str] = "generate"
    output_files: ClassVar[tuple[str, ...]] = (
        "data/train-*.parquet", "README.md", "dropped.json", "summary.json", "sample_sheet.png",
    )  # fmt: skip
    config_filename: ClassVar[str] = "generation_config.json"

    generator: Literal["lora", "fastgan", "morph"] = option(help="which generator makes the images")
    output_dir: str = option(help="the synthetic set folder G (resumes a run of the same settings)", metavar="G")
    conditions: str = option("all", help="'all' or comma-separated condition abbreviations")
    per_condition: int = option(10, help="images per condition")
    seed: int = option(0, help="random seed; the same seed gives the same images")
    batch_size: int = option(8, help="images per batch")
    overwrite: bool = option(False, help="start again in G (only a folder this command wrote)", run_only=True)
    # --- lora ---
    adapters: str | None = option(None, help="lora: the adapter folder of 'rdface train-lora', or its Hub repo id")
    base_model: str | None = option(None, help="lora: base model id or folder (default: the adapters' own)")
    steps: int = option(30, help="lora: sampling steps")
    guidance: float = option(7.5, help="lora: classifier-free guidance scale")
    lora_batching: str = option(
        "hotswap", help="lora: 'hotswap' (one condition per batch) or 'mixed' (PEFT per-sample adapter names)"
    )
    safety_checker: str | None = option(
        None, help="lora: NSFW checker id or folder (default: the base model's own, if it has one)"
    )
    # --- fastgan ---
    model: str | None = option(None, help="fastgan: a folder of 'rdface train-fastgan', or its Hub repo id")
    model_revision: str | None = option(None, help="fastgan: Hub revision of --model (branch, tag or commit)")
    pooled_budget: int = option(
        20, help="fastgan: pooled (unconditional) models: samples drawn per requested image at most"
    )
    # --- morph ---
    dataset: str | None = option(None, help="morph: RDFace build folder or Hub dataset id")
    fold: str = option("0", help="morph: fold K, or 'test' for every non-test image (the final set)")
    toward_mean: float = option(0.0, help="morph: 0..1, move each shape this far toward the condition's mean shape")
    caricature: float = option(0.0, help="morph: add this multiple of the condition's deviation from the mean face")
    mix_min: float = option(0.3, help="morph: least weight of the second parent (drawn per image)")
    mix_max: float = option(0.7, help="morph: greatest weight of the second parent (drawn per image)")
    max_side: int = option(512, help="morph: longest side of a morph in pixels (larger parents are scaled down)")
    workers: int = option(0, help="morph: worker processes (0: every core); does not change the output", run_only=True)

    def validate(self) -> None:
        require(
            self.generator in GENERATOR_FIELDS, "generator", f"must be lora, fastgan or morph, got {self.generator!r}"
        )
        require(self.per_condition >= 1, "per_condition", f"must be at least 1, got {self.per_condition}")
        require(self.batch_size >= 1, "batch_size", f"must be at least 1, got {self.batch_size}")
        require(self.seed >= 0, "seed", f"must be non-negative, got {self.seed}")
        require(bool(str(self.output_dir).strip()), "output_dir", "must name a folder")
        check_fold(self.fold)
        required = {"lora": "adapters", "fastgan": "model", "morph": "dataset"}[self.generator]
        require(getattr(self, required) is not None, required, f"is required with --generator {self.generator}")
        defaults = {f: type(self).__dataclass_fields__[f].default for fs in GENERATOR_FIELDS.values() for f in fs}
        for other, fields in GENERATOR_FIELDS.items():
            for name in fields:
                if other != self.generator and getattr(self, name) != defaults[name]:
                    require(False, name, f"belongs to --generator {other}, not {self.generator}")
        require(self.pooled_budget >= 1, "pooled_budget", f"must be at least 1, got {self.pooled_budget}")
        require(0.0 <= self.toward_mean <= 1.0, "toward_mean", f"must be within 0..1, got {self.toward_mean}")
        require(-1.0 <= self.caricature <= 5.0, "caricature", f"must be within -1..5, got {self.caricature}")
        require(0.0 <= self.mix_min <= self.mix_max <= 1.0, "mix_min", "must be <= --mix-max, both within 0..1")
        require(self.max_side >= 32, "max_side", f"must be at least 32, got {self.max_side}")
        require(self.workers >= 0, "workers", f"must be 0 (every core) or more, got {self.workers}")


@dataclass(frozen=True)
class GenerateResult(StageResult):
    """What a generation run made."""

    out: Path
    generator: str
    images: int  # rows in the set (including those of an earlier, resumed run)
    new_images: int  # made by this run
    dropped: dict[str, int]  # rejected outputs by reason (black, blank, nsfw, no face, ...)
    seconds: float
