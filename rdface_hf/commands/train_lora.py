"""``rdface train-lora``: one LoRA DreamBooth adapter per condition, all in one launch."""

from __future__ import annotations

import sys

from ..generate.lora.config import TrainLoraConfig

NAME = "train-lora"
CONFIG = TrainLoraConfig
HELP = "train one LoRA DreamBooth adapter per condition (all in one launch, leak-free)"
DESCRIPTION = (
    HELP + ". Writes O/<abbr>/pytorch_lora_weights.safetensors (diffusers' format: "
    "pipe.load_lora_weights(O, subfolder=abbr, weight_name='pytorch_lora_weights.safetensors')), "
    "O/adapters.json and a model card. Resumable; runs under 'accelerate launch -m rdface_hf.cli train-lora'."
)


def run(config: TrainLoraConfig) -> int:
    # torch, diffusers: kept out of the CLI's start-up
    from ..generate.lora.train import train_lora

    result = train_lora(config)
    if not result.main_process:
        return 0  # another process of a multi-process launch: the main one reports
    rate = result.samples / result.seconds if result.seconds else 0.0
    if not result.trained and not result.skipped and result.already_done:  # a rerun of a finished run
        print(f"already done: {len(result.already_done)} adapters in {result.out} (nothing to train)")
    else:
        _print_trained(result, rate)
    for abbr, why in sorted(result.skipped.items()):
        print(f"rdface train-lora: skipped {abbr}: {why}", file=sys.stderr)
    if result.pushed:
        print(f"pushed to {result.pushed} (private, gated)")
    return 0


def _print_trained(result, rate: float) -> None:
    print(
        f"trained {len(result.trained)} adapters ({len(result.already_done)} already done, "
        f"{len(result.skipped)} skipped) into {result.out}: {result.steps} steps, "
        f"{result.samples} samples in {result.seconds:.1f} s ({rate:.1f} samples/s); "
        f"{result.adapters} adapters in the index"
    )
