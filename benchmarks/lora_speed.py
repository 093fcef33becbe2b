"""LoRA adapters on the CPU: conditions trained concurrently in one batch vs one at a time;
generation by hot-swapping vs PEFT mixed batches. The tiny seeded pipeline, side by side.

    python benchmarks/lora_speed.py                       # 8 conditions x 16 steps, 2 repeats
    python benchmarks/lora_speed.py --conditions 8 --steps 32 --repeats 3 --threads 2
    python benchmarks/lora_speed.py --threads 1 --profile --no-generation   # + where a step's time goes
    python benchmarks/lora_speed.py --no-generation --mixed-precision bf16  # both ways in bf16

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
import sys
import tempfile
import time
from pathlib import Path

ABBRS = ("AAS", "BBS", "CCS", "DDS", "EES", "FFS", "GGS", "HHS", "IIS", "JJS", "KKS", "LLS")


def train(
    build: Path, sd: Path, out: Path, *, conditions: int, steps: int, per_batch: int, precision: str = "no"
) -> dict:
    from rdface_hf.generate.lora.config import TrainLoraConfig
    from rdface_hf.generate.lora.train import train_lora

    config = TrainLoraConfig(
        dataset=str(build), output_dir=str(out), base_model=str(sd), vae="base", max_train_steps=steps,
        conditions=",".join(ABBRS[:conditions]), conditions_per_batch=per_batch, checkpointing_steps=0,
        progress=False, learning_rate=1e-3, mixed_precision=precision,
    )  # fmt: skip
    result = train_lora(config)
    return {"seconds": result.seconds, "loop_seconds": result.train_seconds, "samples": result.samples}


def peft_one_at_a_time(sd: Path, *, conditions: int, steps: int, precision: str = "no") -> dict:
    """diffusers' DreamBooth LoRA loop at batch 1 (cached latents and embeddings), per condition; under
    bf16 as its script does: base weights in bfloat16, LoRA weights in float32, autocast."""
    import contextlib

    import torch
    import torch.nn.functional as F
    from diffusers import DDPMScheduler, UNet2DConditionModel
    from peft import LoraConfig

    from rdface_hf.generate.lora.config import UNET_TARGETS

    unet = UNet2DConditionModel.from_pretrained(sd, subfolder="unet")
    unet.requires_grad_(False)
    bf16 = precision == "bf16"
    if bf16:
        unet.to(torch.bfloat16)
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
        for p in params:
            p.data = p.data.float()
        opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-2)
        for step in range(steps):
            x = latents[step % 4 : step % 4 + 1]
            noise, t = torch.randn_like(x), torch.randint(0, 1000, (1,))
            with torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
                pred = unet(sched.add_noise(x, noise, t), t, states).sample
            F.mse_loss(pred.float(), noise).backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
        unet.delete_adapters(name)
    return {"loop_seconds": time.perf_counter() - started, "samples": conditions * steps}


PHASES = ("lora.batch", "lora.forward", "lora.backward", "lora.optimizer", "lora.step")
CATEGORIES = (  # by aten op name (self time), first match wins
    ("attention", ("scaled_dot_product", "flash_attention", "softmax")),
    ("convolution", ("conv",)),
    ("matmul (base linears, LoRA)", ("mm", "linear", "matmul")),
    ("normalisation", ("norm",)),
    ("optimiser kernels", ("_foreach", "adam", "lerp", "addcdiv", "addcmul")),
    ("copies and layout", ("copy", "cat", "clone", "contiguous", "stack", "empty", "view", "reshape", "as_strided",
                           "transpose", "permute", "expand", "unsqueeze", "squeeze", "select", "slice", "chunk",
                           "split", "unbind", "detach", "alias", "::t", "narrow", "index")),
    ("elementwise", ("add", "mul", "div", "sub", "silu", "gelu", "sigmoid", "pow", "sqrt", "neg", "fill", "zero",
                     "sum", "mean", "mse", "clamp", "exp", "sin", "cos", "arange", "rand", "where", "abs")),
)  # fmt: skip


def _category(name: str) -> str:
    if name in PHASES:
        return "python (outside aten ops)"
    if name.startswith("autograd::"):
        return "autograd engine"
    low = name.lower()
    return next((cat for cat, keys in CATEGORIES if any(k in low for k in keys)), "other ops")


def _phase(event) -> str | None:
    while event is not None:
        if event.name in PHASES:
            return event.name
        event = event.cpu_parent
    return None


def profiled(build: Path, sd: Path, out: Path, *, conditions: int, steps: int, per_batch: int) -> dict:
    """One training run under torch.profiler (CPU); the self time of every op inside an optimisation
    step (``lora.*`` ranges: batch making, forward, backward, clipping + optimiser) by phase and
    by kind of op, in ms per sample-step (each group's first step left out: warm-up). Profiling
    slows every op a little, batch 1 the most (it runs the most ops per sample)."""
    from torch.profiler import ProfilerActivity, profile, record_function

    from rdface_hf.generate.lora import loop

    step, batch = loop.train_step, loop.make_batch
    counted = {"steps": 0, "samples": 0, "now": False}

    def step_in_range(trainer, batch_, **kwargs):
        if not counted["now"]:  # a group's first step (warm-up) is left out
            return step(trainer, batch_, **kwargs)
        with record_function("lora.step"):
            return step(trainer, batch_, **kwargs)

    def batch_in_range(trainer, conditions, index, **kwargs):
        counted["now"] = index > 0
        if not counted["now"]:
            return batch(trainer, conditions, index, **kwargs)
        counted["steps"], counted["samples"] = counted["steps"] + 1, counted["samples"] + len(conditions)
        with record_function("lora.batch"):
            return batch(trainer, conditions, index, **kwargs)

    loop.train_step, loop.make_batch = step_in_range, batch_in_range
    try:
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            train(build, sd, out, conditions=conditions, steps=steps, per_batch=per_batch)
    finally:
        loop.train_step, loop.make_batch = step, batch
    phases: dict[str, float] = {}
    kinds: dict[str, float] = {}
    for event in prof.events():
        phase = _phase(event)
        if phase is None:
            continue
        ms = event.self_cpu_time_total / 1000 / counted["samples"]
        phases[phase] = phases.get(phase, 0.0) + ms
        kinds[_category(event.name)] = kinds.get(_category(event.name), 0.0) + ms
    by_kind = dict(sorted(((k, round(v, 2)) for k, v in kinds.items()), key=lambda kv: -kv[1]))
    return {
        "per_batch": per_batch, "profiled_steps": counted["steps"], "sample_steps": counted["samples"],
        "ms_per_sample_step": round(sum(phases.values()), 2),
        "by_phase": {k.removeprefix("lora."): round(phases.get(k, 0.0), 2) for k in PHASES},
        "by_kind": by_kind,
    }  # fmt: skip


def fit_step_time(points: dict[int, float]) -> dict:
    """Least squares ``t(n) = fixed + n * per_sample`` (ms per step at n samples); the share of a
    batch-N step that is per-sample arithmetic, and the ratio this model allows."""
    ns, ts = list(points), list(points.values())
    mean_n, mean_t = statistics.fmean(ns), statistics.fmean(ts)
    per_sample = sum((n - mean_n) * (t - mean_t) for n, t in zip(ns, ts)) / sum((n - mean_n) ** 2 for n in ns)
    fixed, big = mean_t - per_sample * mean_n, max(ns)
    return {
        "ms_per_step": {str(n): round(t, 1) for n, t in points.items()},
        "fixed_ms_per_step": round(fixed, 1), "per_sample_ms": round(per_sample, 1),
        f"per_sample_share_of_batch_{big}_step": round(big * per_sample / (fixed + big * per_sample), 3),
        "limit_ratio_infinite_batch": round((fixed + per_sample) / per_sample, 2),
        f"fixed_over_per_sample_needed_for_3x_at_{big}": round(big * 2 / (big - 3), 2) if big > 3 else None,
        "fixed_over_per_sample": round(fixed / per_sample, 2),
    }  # fmt: skip


def generate(adapters: Path, out: Path, *, conditions: int, per_condition: int, steps: int, mode: str) -> dict:
    from rdface_hf.generate.config import GenerateConfig
    from rdface_hf.generate.lora.generate import generate_lora

    config = GenerateConfig(
        generator="lora", adapters=str(adapters), output_dir=str(out), conditions=",".join(ABBRS[:conditions]),
        per_condition=per_condition, batch_size=per_condition, steps=steps, lora_batching=mode,
    )  # fmt: skip
    result = generate_lora(config)
    return {"seconds": result.seconds, "images": result.new_images}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conditions", type=int, default=8)
    parser.add_argument("--steps", type=int, default=16, help="training steps per condition")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--per-condition", type=int, default=8, help="generated images per condition (= batch)")
    parser.add_argument("--sample-steps", type=int, default=4, help="sampling steps")
    parser.add_argument(
        "--profile", action="store_true",
        help="also: step time at 2 and 4 conditions per batch (a fixed + per-sample fit), and one run each way "
        "under torch.profiler (--profile-steps steps), broken down by phase and kind of op",
    )  # fmt: skip
    parser.add_argument("--profile-steps", type=int, default=4, help="steps per condition of the profiled runs")
    parser.add_argument(
        "--mixed-precision", choices=("no", "bf16"), default="no",
        help="train-lora's --mixed-precision for both ways (bf16: base weights and autocast in bfloat16)",
    )  # fmt: skip
    parser.add_argument("--no-generation", action="store_true", help="training only (skip the generation timings)")
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)

    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tiny pipelines live in tests/
    from tests.generate.lora.tiny_pipelines import save_tiny_pipeline, write_tiny_build

    torch.set_num_threads(args.threads)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    runs: dict[str, list[dict]] = {"stacked": [], "one_at_a_time": [], "peft_one_at_a_time": []}
    sweep = [n for n in (2, 4) if n < args.conditions] if args.profile else []
    runs.update({f"per_batch_{n}": [] for n in sweep})
    profiles: list[dict] = []
    gens: dict[str, list[dict]] = {"hotswap": [], "mixed": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sd, build = save_tiny_pipeline(root / "sd"), write_tiny_build(root / "rdface", ABBRS[: args.conditions])
        kw = {"conditions": args.conditions, "steps": args.steps, "precision": args.mixed_precision}
        for r in range(args.repeats):  # interleaved, so that load changes hit every variant
            runs["stacked"].append(train(build, sd, root / f"s{r}", per_batch=args.conditions, **kw))
            runs["one_at_a_time"].append(train(build, sd, root / f"o{r}", per_batch=1, **kw))
            runs["peft_one_at_a_time"].append(peft_one_at_a_time(sd, **kw))
            for per in sweep:
                runs[f"per_batch_{per}"].append(train(build, sd, root / f"b{per}-{r}", per_batch=per, **kw))
            for per in (args.conditions, 1) if args.profile else ():
                pkw = {"conditions": args.conditions, "steps": args.profile_steps, "per_batch": per}
                profiles.append(profiled(build, sd, root / f"p{per}-{r}", **pkw))
        gkw = {"conditions": args.conditions, "per_condition": args.per_condition, "steps": args.sample_steps}
        for r in range(0 if args.no_generation else args.repeats):
            for mode in gens:
                gens[mode].append(generate(root / "s0", root / f"g-{mode}{r}", mode=mode, **gkw))
    print(json.dumps(summary(args, runs, gens, profiles, sweep)))


def summary(args, runs: dict, gens: dict, profiles: list, sweep: list) -> dict:
    best = {k: min(x["loop_seconds"] for x in v) for k, v in runs.items()}
    samples = runs["stacked"][0]["samples"]
    extra = {}
    if args.profile:  # ms per optimisation step at n samples per step (best run)
        per = {1: "one_at_a_time", args.conditions: "stacked", **{n: f"per_batch_{n}" for n in sweep}}
        extra = {
            "step_time_fit": fit_step_time({n: best[per[n]] * 1000 * n / samples for n in sorted(per)}),
            "profile": [  # each way, its least loaded profiled run
                min((p for p in profiles if p["per_batch"] == n), key=lambda p: p["ms_per_sample_step"])
                for n in (args.conditions, 1)
            ],
        }
    gen_rate = {k: max(x["images"] / x["seconds"] for x in v) for k, v in gens.items() if v}
    return {
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
        "cpus": os.cpu_count(), "machine": platform.processor() or platform.machine(), **extra,
    }  # fmt: skip


if __name__ == "__main__":
    main()
