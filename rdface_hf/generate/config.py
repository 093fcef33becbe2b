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

GENERATOR_FIELDS = {
    "lora": ("adapters", "base_model", "steps", "guidance"),
    "fastgan": ("model",),
    "morph": ("dataset", "fold"),
}


@dataclass
class GenerateConfig(StageConfig):
    """Settings of one generation run (saved as ``generation_config.json`` in the set)."""

    stage: ClassVar[str] = "generate"
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
    # --- fastgan ---
    model: str | None = option(None, help="fastgan: a folder of 'rdface train-fastgan', or its Hub repo id")
    # --- morph ---
    dataset: str | None = option(None, help="morph: RDFace build folder or Hub dataset id")
    fold: str = option("0", help="morph: fold K, or 'test' for every non-test image (the final set)")

    def validate(self) -> None:
        require(
            self.generator in GENERATOR_FIELDS, "generator", f"must be lora, fastgan or morph, got {self.generator!r}"
        )
        require(self.per_condition >= 1, "per_condition", f"must be at least 1, got {self.per_condition}")
        require(self.batch_size >= 1, "batch_size", f"must be at least 1, got {self.batch_size}")
        require(self.seed >= 0, "seed", f"must be non-negative, got {self.seed}")
        require(bool(str(self.output_dir).strip()), "output_dir", "must name a folder")
        required = {"lora": "adapters", "fastgan": "model", "morph": "dataset"}[self.generator]
        require(getattr(self, required) is not None, required, f"is required with --generator {self.generator}")
        defaults = {f: type(self).__dataclass_fields__[f].default for fs in GENERATOR_FIELDS.values() for f in fs}
        for other, fields in GENERATOR_FIELDS.items():
            for name in fields:
                if other != self.generator and getattr(self, name) != defaults[name]:
                    require(False, name, f"belongs to --generator {other}, not {self.generator}")


@dataclass(frozen=True)
class GenerateResult(StageResult):
    """What a generation run made."""

    out: Path
    generator: str
    images: int  # rows in the set (including those of an earlier, resumed run)
    new_images: int  # made by this run
    dropped: dict[str, int]  # rejected outputs by reason (black, blank, nsfw, no face, ...)
    seconds: float
