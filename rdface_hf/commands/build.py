"""``rdface build RAW OUT``: a validated Hub-layout dataset folder."""

from __future__ import annotations

import sys

from ..dataset.builder import BuildConfig, build_dataset

NAME = "build"
CONFIG = BuildConfig
HELP = "validate a raw release and write a Hub-layout dataset folder"
DESCRIPTION = (
    "Validate RAW (rd_images/<abbr>/<image>, disease_images.csv) and write OUT: "
    "parquet shards, fold configs, dataset card and validation_report.csv."
)


def run(config: BuildConfig) -> int:
    result = build_dataset(config)
    parts = ", ".join(f"{k} {v}" for k, v in result.partitions.items())
    print(
        f"built {result.out}: {result.accepted + result.warnings} images of {result.conditions} conditions "
        f"({result.warnings} with warnings, {result.rejected} rows rejected; see validation_report.csv); {parts}"
    )
    if result.folds_without_validation:
        empty = ", ".join(f"fold_{k}" for k in result.folds_without_validation)
        print(
            f"rdface build: warning: {empty} have no validation split (too few images for {config.folds} folds)",
            file=sys.stderr,
        )
    return 0
