"""``rdface generate --generator {lora,fastgan,morph}``: synthetic faces with provenance."""

from __future__ import annotations

from ..generate.config import GenerateConfig

NAME = "generate"
CONFIG = GenerateConfig
HELP = "generate synthetic faces (lora, fastgan or morph) as a synthetic set with provenance"
DESCRIPTION = (
    HELP + ". The output folder G loads with datasets.load_dataset(G) and feeds 'rdface filter', "
    "'rdface merge' and 'rdface train-classifier --extra-train'."
)


def run(config: GenerateConfig) -> int:
    # Each generator imports its heavy libraries itself, so they stay out of the CLI's start-up.
    if config.generator == "lora":
        from ..generate.lora.generate import generate_lora as generate  # torch, diffusers, peft
    elif config.generator == "fastgan":
        from ..generate.fastgan.generate import generate_fastgan as generate  # torch
    else:
        from ..generate.morph.generate import generate_morph as generate  # scikit-image, MediaPipe
    result = generate(config)
    dropped = ", ".join(f"{n} {reason}" for reason, n in sorted(result.dropped.items()) if n) or "none"
    print(
        f"generated {result.new_images} images with {result.generator} into {result.out} "
        f"({result.images} in the set; dropped: {dropped}) in {result.seconds:.1f} s"
    )
    return 0
