"""LoRA adapters on one GPU: training samples/s and memory, the 103 x 800 projection, generation img/s.

Self-contained: an SD-1.5-shaped UNet and VAE with random weights (the configs are written
out below; nothing is downloaded). Training runs the package's own loop
(:mod:`rdface_hf.generate.lora.loop`: stacked per-condition LoRA, bf16 base weights, fp32
LoRA, cached latents and prompt embeddings), one condition per batch slot. Generation runs
diffusers' ``StableDiffusionPipeline`` at 512 px, 30 steps, CFG 7.5, fp16, with a LoRA
loaded as ``rdface generate`` loads it (eager), then with the LoRA fused into the weights,
then fused + channels-last + ``torch.compile`` (default mode; never max-autotune).

    python benchmarks/gpu_lora.py            # on a GPU: about 3-4 minutes
    python benchmarks/gpu_lora.py --smoke    # CPU, tiny sizes, seconds (the test runs this)

Goals (one H100): 103 adapters x 800 steps within 12 minutes; generation >= 10 img/s.
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

# Stable Diffusion 1.5's UNet (runwayml/stable-diffusion-v1-5, unet/config.json) and VAE.
SD15_UNET = dict(
    sample_size=64, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280, 1280),
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32,
)  # fmt: skip
SD15_VAE = dict(
    in_channels=3, out_channels=3, latent_channels=4, sample_size=512, layers_per_block=2,
    block_out_channels=(128, 256, 512, 512),
    down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
)  # fmt: skip
SD15_SCHEDULER = dict(
    beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", num_train_timesteps=1000,
    set_alpha_to_one=False, steps_offset=1, skip_prk_steps=True,
)  # fmt: skip
CONDITIONS, STEPS_PER_CONDITION, RANK = 103, 800, 4


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def _peak_gib(device) -> float | None:
    import torch

    return round(torch.cuda.max_memory_allocated() / 2**30, 2) if device.type == "cuda" else None


def build_models(smoke: bool, device, dtype):
    import torch
    from diffusers import AutoencoderKL, UNet2DConditionModel

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tiny pipelines live in tests/
    from tests.generate.lora.tiny_pipelines import TINY_UNET, TINY_VAE

    torch.manual_seed(0)
    unet = UNet2DConditionModel(**(TINY_UNET if smoke else SD15_UNET))
    vae = AutoencoderKL(**(TINY_VAE if smoke else SD15_VAE))
    for model in (unet, vae):
        model.requires_grad_(False).eval()
    return unet.to(device, dtype), vae.to(device, dtype)


def measure_training(unet, groups: list[int], *, steps: int, warmup: int, device, dtype, latent: int, text: int):
    """Samples/s and peak memory of the package's training step at each group size."""
    import torch
    from accelerate import Accelerator
    from diffusers import DDPMScheduler

    from rdface_hf.generate.lora import loop, stacked
    from rdface_hf.generate.lora.config import UNET_TARGETS

    accelerator = Accelerator(mixed_precision="bf16" if dtype == torch.bfloat16 else "no", cpu=device.type == "cpu")
    layers = stacked.inject(unet, UNET_TARGETS, slots=max(groups), rank=RANK, alpha=RANK)
    optimizer = torch.optim.AdamW(stacked.parameters(layers), lr=1e-4, weight_decay=1e-2)
    trainer = loop.Trainer(
        unet=unet, text_encoder=None, unet_layers=layers, text_layers={}, scheduler=DDPMScheduler(),
        accelerator=accelerator, optimizer=accelerator.prepare_optimizer(optimizer), seed=0, scaling_factor=0.18215,
        shift_factor=0.0, weight_dtype=dtype, max_grad_norm=1.0,
    )  # fmt: skip
    out = {}
    for size in groups:
        shape = (4, 2, 4, latent, latent)  # 4 images (and their mirror images) per condition
        conditions = [
            loop.Condition(
                f"C{i}",
                loop.Latents(torch.randn(shape, device=device), torch.full(shape, 0.1, device=device)),
                torch.randn(77, text, device=device),
            )
            for i in range(size)
        ]
        loop.reset_group(trainer, conditions)
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        for step in range(warmup):
            loop.train_step(trainer, loop.make_batch(trainer, conditions, step))
        _sync(device)
        start = time.perf_counter()
        for step in range(steps):
            loop.train_step(trainer, loop.make_batch(trainer, conditions, warmup + step))
        _sync(device)
        seconds = (time.perf_counter() - start) / steps
        out[size] = {
            "step_s": round(seconds, 4),
            "samples_per_s": round(size / seconds, 2),
            "peak_gib": _peak_gib(device),
        }
    return out


def project(training: dict, groups: list[int]) -> dict:
    """Wall time of 103 adapters x 800 steps with the balanced groups of the largest size measured."""
    from rdface_hf.generate.lora.train import balanced_groups

    size = max(groups)
    plan = [len(g) for g in balanced_groups(list(range(CONDITIONS)), size)]
    step = training[size]["step_s"]  # a balanced group (<= size) takes at most this per step
    seconds = sum(STEPS_PER_CONDITION * step for _ in plan)
    return {
        "groups": len(plan), "largest_group": max(plan), "minutes": round(seconds / 60, 2), "goal_minutes": 12,
        "met": seconds <= 12 * 60, "excludes": "loading the base model, VAE-encoding the images, writing files",
    }  # fmt: skip


def measure_generation(smoke: bool, device, *, batch: int, steps: int, size: int, text: int, compile_: bool):
    """Images/s of StableDiffusionPipeline with a LoRA: eager, fused, fused + compiled."""
    import torch
    from diffusers import PNDMScheduler, StableDiffusionPipeline

    from rdface_hf.generate.lora import stacked
    from rdface_hf.generate.lora.config import UNET_TARGETS
    from rdface_hf.generate.lora.sampling import SLOT, load_unet_adapter

    dtype = torch.float16 if device.type == "cuda" else torch.float32
    unet, vae = build_models(smoke, device, dtype)
    layers = stacked.inject(unet, UNET_TARGETS, slots=1, rank=RANK, alpha=RANK)  # to export one random adapter
    with torch.no_grad():
        for layer in layers.values():
            layer.lora_A.normal_(0, 0.01), layer.lora_B.normal_(0, 0.01)
    state = {f"unet.{k}": v.to(device) for k, v in stacked.slot_state_dict(layers, 0).items()}
    for name, layer in layers.items():  # back to plain linear layers
        parent, _, child = name.rpartition(".")
        setattr(unet.get_submodule(parent), child, layer.base)
    pipe = StableDiffusionPipeline(
        unet=unet, vae=vae, text_encoder=None, tokenizer=None, scheduler=PNDMScheduler(**SD15_SCHEDULER),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )  # fmt: skip
    pipe.set_progress_bar_config(disable=True)
    metadata = {f"unet.{k}": v for k, v in stacked.lora_metadata(UNET_TARGETS, RANK, RANK, 0.0).items()}
    load_unet_adapter(pipe, state, metadata, SLOT, hotswap=False)  # as the file's metadata reads
    embeds = torch.randn(batch, 77, text, device=device, dtype=dtype)
    kw = dict(prompt_embeds=embeds, negative_prompt_embeds=torch.zeros_like(embeds), num_inference_steps=steps,
              guidance_scale=7.5, height=size, width=size, output_type="np")  # fmt: skip

    def timed(label: str, repeats: int = 2) -> dict:
        pipe(**{**kw, "num_inference_steps": min(steps, 3)})  # warm-up (and compilation)
        _sync(device)
        start = time.perf_counter()
        for _ in range(repeats):
            pipe(**kw)
        _sync(device)
        seconds = (time.perf_counter() - start) / repeats
        return {"images_per_s": round(batch / seconds, 2), "batch_s": round(seconds, 3), "peak_gib": _peak_gib(device)}

    out = {"eager_lora": timed("eager")}
    pipe.fuse_lora(components=["unet"])
    out["fused_lora"] = timed("fused")
    if compile_:
        pipe.unet.to(memory_format=torch.channels_last)
        pipe.unet = torch.compile(pipe.unet)  # default mode: no autotuning
        out["fused_compiled"] = timed("compiled")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="CPU, tiny models, a few steps (checks the script)")
    parser.add_argument("--groups", default=None, help="conditions per batch to time (default 1,26,32)")
    parser.add_argument("--train-steps", type=int, default=None)
    parser.add_argument("--gen-batch", type=int, default=None)
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile generation variant")
    args = parser.parse_args(argv)

    import torch

    cuda = torch.cuda.is_available() and not args.smoke
    device = torch.device("cuda" if cuda else "cpu")
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    smoke = args.smoke or not cuda
    groups = [int(g) for g in (args.groups or ("1,2" if smoke else "1,26,32")).split(",")]
    train_dtype = torch.bfloat16 if cuda else torch.float32
    text = 32 if smoke else 768
    started = time.perf_counter()
    unet, _vae = build_models(smoke, device, train_dtype)
    training = measure_training(
        unet, groups, steps=args.train_steps or (2 if smoke else 10), warmup=1 if smoke else 3, device=device,
        dtype=train_dtype, latent=32 if smoke else 64, text=text,
    )  # fmt: skip
    del unet, _vae
    if cuda:
        torch.cuda.empty_cache()
    generation = measure_generation(
        smoke, device, batch=args.gen_batch or (2 if smoke else 32), steps=2 if smoke else 30,
        size=64 if smoke else 512, text=text, compile_=cuda and not args.no_compile,
    )  # fmt: skip
    best = max(v["images_per_s"] for v in generation.values())
    print(json.dumps({
        "benchmark": "gpu_lora", "smoke": smoke, "device": torch.cuda.get_device_name() if cuda else platform.machine(),
        "torch": torch.__version__, "training": {str(k): v for k, v in training.items()},
        "projection_103x800": project(training, groups), "generation": generation,
        "generation_goal_images_per_s": 10, "generation_goal_met": best >= 10,
        "seconds": round(time.perf_counter() - started, 1), "cpus": os.cpu_count(),
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
