"""``rdface train-fastgan``: a FastGAN (conditional or pooled) on one fold's training images."""

from __future__ import annotations

from ..generate.fastgan.config import TrainFastGANConfig

NAME = "train-fastgan"
CONFIG = TrainFastGANConfig
HELP = "train a FastGAN (class-conditional or pooled) on the training images of one fold"
DESCRIPTION = (
    HELP + ". Leak-free: only the fold's training split is read. Resumable (a rerun continues from the "
    "latest checkpoint); runs under 'accelerate launch -m rdface_hf.cli train-fastgan ...'. The folder O "
    "loads with FastGANGenerator.from_pretrained(O) and feeds 'rdface generate --generator fastgan --model O'."
)


def run(config: TrainFastGANConfig) -> int:
    from ..generate.fastgan.train import train_fastgan  # torch: kept out of the CLI's start-up

    result = train_fastgan(config)
    resumed = f", resumed from step {result.resumed_from}" if result.resumed_from else ""
    pushed = f"; pushed to {result.pushed_to}" if result.pushed_to else ""
    if result.resumed_from >= result.steps:  # a rerun of a finished run: nothing was trained
        print(
            f"already done: a {result.mode} FastGAN of {result.steps} steps in {result.out} (nothing to train){pushed}"
        )
        return 0
    print(
        f"trained a {result.mode} FastGAN at {result.resolution} px for {result.steps} steps{resumed} on "
        f"{result.images} images of {result.conditions} conditions (reconstruction loss {result.reconstruction_loss}) "
        f"into {result.out} in {result.seconds:.1f} s{pushed}"
    )
    return 0
