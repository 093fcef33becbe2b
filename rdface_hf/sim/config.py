"""The settings of ``rdface simulate`` (light: no image code is imported)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from .._config import StageConfig, option, require
from .conditions import max_conditions


@dataclass
class SimConfig(StageConfig):
    """Settings of ``rdface simulate`` (defaults mirror RDFace's shape)."""

    stage: ClassVar[str] = "simulate"
    private: ClassVar[tuple[str, ...]] = ("out", "workers", "overwrite")

    out: str = option(
        help="output folder (must be absent or empty unless --overwrite)",
        positional=True,
        run_only=True,
        metavar="OUT",
        flag="--output-dir",
    )
    conditions: int = option(103, help="number of simulated conditions (103, as RDFace)")
    per_condition_mean: float = option(round(456 / 103, 4), help="mean images per condition, 1..7 (4.4272: 456 images)")
    seed: int = option(0, help="random seed; the same seed gives byte-identical output")
    image_size: int = option(
        256,
        help="render size in pixels; with --difficulty above 0 images are then cropped, padded and resized "
        "(about 96 to 512 px at the default difficulty)",
    )
    difficulty: float = option(
        0.5,
        help="0 (strong features, similar patients, clean frontal photos) .. 1 (weak features, varied patients, "
        "strong pose, light and reproduction nuisance)",
    )
    source_style: float = option(
        0.0,
        help="0..1: probability that an image takes its condition's shared rendering style (colour cast, border, "
        "resolution, compression), as images of one condition often come from one paper; 0 = no such shortcut",
        metavar="STRENGTH",
    )
    identities: str | None = option(
        None,
        help="folder of frontal portraits (20 or more recommended); every patient is a landmark-aligned composite "
        "of at least 3 of them (a folder with fewer than 3 faces is pooled with the 2 built-in portraits)",
        metavar="DIR",
    )
    preview: bool = option(
        False, help="also write OUT/preview.png: real images of some conditions beside unaffected twins"
    )
    workers: int | None = option(
        None, help="worker processes (default: all cores); does not change the output", run_only=True
    )
    overwrite: bool = option(False, help="replace OUT if it exists and is not empty", run_only=True)

    def validate(self) -> None:
        require(
            isinstance(self.conditions, int) and self.conditions >= 1,
            "conditions",
            f"must be at least 1, got {self.conditions}",
        )
        require(
            self.conditions <= max_conditions(),
            "conditions",
            f"must be at most {max_conditions()} (the distinct feature combinations), got {self.conditions}",
        )
        require(
            1.0 <= float(self.per_condition_mean) <= 7.0,
            "per_condition_mean",
            f"must be between 1 and 7 (RDFace has 1 to 7 images per condition), got {self.per_condition_mean}",
        )
        require(
            isinstance(self.seed, int) and self.seed >= 0, "seed", f"must be a non-negative integer, got {self.seed}"
        )
        require(
            64 <= int(self.image_size) <= 2048,
            "image_size",
            f"must be between 64 and 2048 pixels, got {self.image_size}",
        )
        require(0.0 <= float(self.difficulty) <= 1.0, "difficulty", f"must be between 0 and 1, got {self.difficulty}")
        require(
            0.0 <= float(self.source_style) <= 1.0, "source_style", f"must be between 0 and 1, got {self.source_style}"
        )
        require(self.workers is None or self.workers >= 1, "workers", f"must be at least 1, got {self.workers}")
        if self.identities is not None:
            require(Path(self.identities).is_dir(), "identities", f"{self.identities}: not a folder")
