"""Prior preservation: class images made once by the base model, shared by every condition.

``O/class_images/class-<i>.png`` are generated from ``--class-prompt`` with
seeds derived from ``--seed`` (so a resumed run makes the same ones and only the
missing ones), then encoded once. Each condition's slot also trains on a class
image at every step, with ``--prior-loss-weight``: DreamBooth's prior loss.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from diffusers import DPMSolverMultistepScheduler, StableDiffusionPipeline
from PIL import Image
from tqdm.auto import tqdm

from ..._io import atomic_write_bytes
from .config import CLASS_IMAGES, TrainLoraConfig
from .loop import Latents, Trainer, derive_seed, encode_latents, tokenize

CLASS_STEPS = 25
CLASS_BATCH = 4


@torch.no_grad()
def make_class_images(config: TrainLoraConfig, trainer: Trainer, base, out: Path, size: int) -> None:
    """Generate the missing class images (main process only)."""
    missing = [i for i in range(config.num_class_images) if not (out / f"class-{i:05d}.png").is_file()]
    if not missing:
        return
    pipe = StableDiffusionPipeline(
        vae=base.vae, text_encoder=base.text_encoder, tokenizer=base.tokenizer, unet=base.unet,
        scheduler=DPMSolverMultistepScheduler.from_config(base.noise_scheduler.config),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )  # fmt: skip
    pipe.set_progress_bar_config(disable=True)
    bar = tqdm(total=len(missing), desc="class images", unit="img", disable=not config.progress)
    with bar:
        for start in range(0, len(missing), CLASS_BATCH):
            chunk = missing[start : start + CLASS_BATCH]
            generators = [torch.Generator().manual_seed(derive_seed(config.seed, "class-image", i)) for i in chunk]
            with trainer.accelerator.autocast():
                images = pipe(
                    [config.class_prompt] * len(chunk), height=size, width=size, num_inference_steps=CLASS_STEPS,
                    generator=generators, output_type="pil",
                ).images  # fmt: skip
            for i, image in zip(chunk, images):
                buf = io.BytesIO()
                image.save(buf, format="PNG")
                atomic_write_bytes(out / f"class-{i:05d}.png", buf.getvalue())
            bar.update(len(chunk))


def class_latents(config: TrainLoraConfig, trainer: Trainer, base, folder: Path, size: int):
    """The class images' latents and the class prompt (token ids or embeddings)."""
    out = folder / CLASS_IMAGES
    if trainer.accelerator.is_main_process:
        make_class_images(config, trainer, base, out, size)
    trainer.accelerator.wait_for_everyone()
    pixels = []
    for i in range(config.num_class_images):
        with Image.open(out / f"class-{i:05d}.png") as im:
            pixels.append(np.asarray(im.convert("RGB").resize((size, size), Image.BICUBIC), dtype=np.uint8))
    latents: Latents = encode_latents(base.vae, np.stack(pixels), flip=config.random_flip, device=trainer.device)
    prompt = tokenize(base.tokenizer, [config.class_prompt])[0]
    if not trainer.text_layers:
        with torch.no_grad():
            prompt = base.text_encoder(prompt[None].to(trainer.device))[0][0].float()
    return latents, prompt.to(trainer.device)
