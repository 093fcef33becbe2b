"""LoRA adapters on the CPU: conditions trained concurrently in one batch vs one at a time;
generation by hot-swapping vs PEFT mixed batches. The tiny seeded pipeline, side by side.

    python benchmarks/lora_speed.py                       # 8 conditions x 16 steps, 2 repeats
    python benchmarks/lora_speed.py --conditions 8 --steps 32 --repeats 3 --threads 2

Training, the same number of sample-steps (conditions x steps) each way:

- ``stacked``: ``rdface train-lora --conditions-per-batch N`` (all N conditions in each batch,
  each sample routed to its own condition's LoRA slot);
- ``one_at_a_time``: the same command with ``--conditions-per-batch 1``;
- ``peft_one_at_a_time``: what diffusers' DreamBooth LoRA script does for one condition
  (``unet.add_adapter(LoraConfig)``, batch 1), repeated per condition, on the same cached
  latents and prompt embeddings (its loop alone).

Generation: ``rdface generate --generator lora`` with ``--lora-batching hotswap`` and ``mixed``.
Prints one JSON line; figures go to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

ABBRS = ("AAS", "BBS", "CCS", "DDS", "EES", "FFS", "GGS", "HHS", "IIS", "JJS", "KKS", "LLS")


def train(build: Path, sd: Path, out: Path, *, conditions: int, steps: int, per_batch: int) -> dict:
    from rdface_hf.generate.lora.config import TrainLoraConfig
    from rdface_hf.generate.lora.train import train_lora

    config = TrainLoraConfig(
        dataset=str(build), output_dir=str(out), base_model=str(sd), vae="base", max_train_steps=steps,
        conditions=",".join(ABBRS[:conditions]), conditions_per_batch=per_batch, checkpointing_steps=0,
        progress=False, learning_rate=1e-3,
    )  # fmt: skip
    result = train_lora(config)
    return {"seconds": result.seconds, "loop_seconds": result.train_seconds, "samples": result.samples}


def peft_one_at_a_time(sd: Path, *, conditions: int, steps: int) -> dict:
    """diffusers' DreamBooth LoRA loop at batch 1 (cached latents and embeddings), per condition."""
    import torch
    import torch.nn.functional as F
    from diffusers import DDPMScheduler, UNet2DConditionModel
    from peft import LoraConfig

    from rdface_hf.generate.lora.config import UNET_TARGETS

    unet = UNet2DConditionModel.from_pretrained(sd, subfolder="unet")
    unet.requires_grad_(False)
    sched = DDPMScheduler.from_pretrained(sd, subfolder="scheduler")
    latents, states = torch.randn(4, 4, 32, 32), torch.randn(1, 77, 32)
    started = time.perf_counter()
    for c in range(conditions):
        name = f"c{c}"
        unet.add_adapter(
            LoraConfig(r=4, lora_alpha=4, init_lora_weights="gaussian", target_modules=list(UNET_TARGETS)), name
        )
        unet.set_adapter(name)
        params = [p for n, p in unet.named_parameters() if f".{name}." in n]
        opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-2)
        for step in range(steps):
            x = latents[step % 4 : step % 4 + 1]
            noise, t = torch.randn_like(x), torch.randint(0, 1000, (1,))
            pred = unet(sched.add_noise(x, noise, t), t, states).sample
            F.mse_loss(pred, noise).backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
        unet.delete_adapters(name)
    return {"loop_seconds": time.perf_counter() - started, "samples": conditions * steps}


def generate(adapters: Path, out: Path, *, conditions: int, per_condition: int, steps: int, mode: str) -> dict:
    from rdface_hf.generate.config import GenerateConfig
    from rdface_hf.generate.lora.generate import generate_lora

    config = GenerateConfig(
        generator="lora", adapters=str(adapters), output_dir=str(out), conditions=",".join(ABBRS[:conditions]),
        per_condition=per_condition, batch_size=per_condition, steps=steps, lora_batching=mode,
    )  # fmt: skip
    result = generate_lora(config)
    return {"seconds": result.seconds, "images": result.new_images}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conditions", type=int, default=8)
    parser.add_argument("--steps", type=int, default=16, help="training steps per condition")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--per-condition", type=int, default=8, help="generated images per condition (= batch)")
    parser.add_argument("--sample-steps", type=int, default=4, help="sampling steps")
    args = parser.parse_args()

    import torch

    from rdface_hf.generate.lora.testing import save_tiny_pipeline, write_tiny_build

    torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    runs: dict[str, list[dict]] = {"stacked": [], "one_at_a_time": [], "peft_one_at_a_time": []}
    gens: dict[str, list[dict]] = {"hotswap": [], "mixed": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sd, build = save_tiny_pipeline(root / "sd"), write_tiny_build(root / "rdface", ABBRS[: args.conditions])
        kw = {"conditions": args.conditions, "steps": args.steps}
        for r in range(args.repeats):  # interleaved, so that load changes hit every variant
            runs["stacked"].append(train(build, sd, root / f"s{r}", per_batch=args.conditions, **kw))
            runs["one_at_a_time"].append(train(build, sd, root / f"o{r}", per_batch=1, **kw))
            runs["peft_one_at_a_time"].append(peft_one_at_a_time(sd, **kw))
        gkw = {"conditions": args.conditions, "per_condition": args.per_condition, "steps": args.sample_steps}
        for r in range(args.repeats):
            for mode in gens:
                gens[mode].append(generate(root / "s0", root / f"g-{mode}{r}", mode=mode, **gkw))
    best = {k: min(x["loop_seconds"] for x in v) for k, v in runs.items()}
    samples = runs["stacked"][0]["samples"]
    gen_rate = {k: max(x["images"] / x["seconds"] for x in v) for k, v in gens.items()}
    print(json.dumps({
        "benchmark": "lora_speed", "conditions": args.conditions, "steps_per_condition": args.steps,
        "sample_steps": samples, "threads": args.threads,
        "loop_seconds": {k: [round(x["loop_seconds"], 2) for x in v] for k, v in runs.items()},
        "command_seconds": {k: [round(x["seconds"], 2) for x in runs[k]] for k in ("stacked", "one_at_a_time")},
        "samples_per_s": {k: round(samples / v, 1) for k, v in best.items()},
        "ratio_stacked_vs_one_at_a_time": round(best["one_at_a_time"] / best["stacked"], 2),
        "ratio_stacked_vs_peft_one_at_a_time": round(best["peft_one_at_a_time"] / best["stacked"], 2),
        "generation_images_per_s": {k: round(v, 2) for k, v in gen_rate.items()},
        "generation_seconds": {k: [round(x["seconds"], 2) for x in v] for k, v in gens.items()},
        "median_command_seconds_stacked": round(statistics.median(x["seconds"] for x in runs["stacked"]), 2),
        "cpus": os.cpu_count(), "machine": platform.processor() or platform.machine(),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
