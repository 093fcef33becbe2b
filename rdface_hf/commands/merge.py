"""``rdface merge``: one fold's real training split plus the kept synthetic images."""

from __future__ import annotations

from ..filter.config import MergeConfig

NAME = "merge"
CONFIG = MergeConfig
HELP = "merge one fold's real training split with the kept images of a filtered synthetic set"
DESCRIPTION = (
    HELP + ". O is a synthetic set with an 'is_synthetic' column (False: the fold's real training images, "
    "True: kept synthetic images) for 'rdface train-classifier --extra-train O'. Validation and test splits "
    "are never copied; images from generators that saw this fold's validation images are refused."
)


def run(config: MergeConfig) -> int:
    from ..filter.merge import merge  # datasets/pyarrow work: kept out of the CLI's start-up

    result = merge(config)
    print(
        f"merged fold {result.fold}: {result.real} real training images + {result.synthetic} kept synthetic "
        f"images ({result.skipped_synthetic} not kept) into {result.out}"
    )
    return 0
