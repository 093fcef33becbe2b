"""FastGAN training speed on a GPU: iterations/s at 256 and 1024 px, random weights and data.

Self-contained (nothing is downloaded): the package's own ``Trainer`` (generator
and self-supervised discriminator at the paper's widths, ngf = ndf = 64,
nz = 256, conditional on 103 conditions, DiffAugment, hinge loss, EMA) runs on
random uint8 images, with the reconstruction loss that training uses offline
(an LPIPS-style distance on a ConvNeXt-tiny backbone, random weights at the
real shape). Each (resolution, precision) runs in its own process; the script
prints one JSON line.

    python benchmarks/gpu_fastgan.py                 # 256 and 1024 px, fp32 and bf16, batch 8 (a few minutes)
    python benchmarks/gpu_fastgan.py --smoke         # 64 px, tiny widths, CPU, seconds
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

FULL = dict(ngf=64, ndf=64, nz=256, batch_size=8, warmup=5, steps=30, recon="backbone", classes=103)
SMOKE = dict(ngf=4, ndf=4, nz=8, batch_size=2, warmup=1, steps=2, recon="l1", classes=5)


def _recon(kind: str, smoke: bool):
    from rdface_hf.generate.fastgan.losses import BackboneReconstruction, L1Reconstruction

    if kind == "l1":
        return L1Reconstruction()
    from transformers import ConvNextConfig, ConvNextModel

    config = ConvNextConfig(hidden_sizes=[8, 16], depths=[1, 1], num_stages=2) if smoke else ConvNextConfig()
    return BackboneReconstruction(ConvNextModel(config))  # ConvNeXt-tiny shape, random weights


def _data(resolution: int, classes: int, n: int = 64):
    import numpy as np
    import torch

    from rdface_hf.generate.fastgan.data import TrainingData

    g = torch.Generator().manual_seed(0)
    return TrainingData(
        images=torch.randint(0, 256, (n, 3, resolution, resolution), dtype=torch.uint8, generator=g),
        labels=torch.randint(0, classes, (n,), generator=g), ids=[f"id{i}" for i in range(n)],
        conditions=list(range(classes)), template=np.zeros((478, 2)), prototypes=np.zeros((classes, 478, 2)),
        no_face=0, trained_on="fold_0", digest="random",
    )  # fmt: skip


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def one(resolution: int, precision: str, smoke: bool) -> dict:
    """Train-step and sampling speed of one configuration, in this process."""
    import torch
    from accelerate import Accelerator

    from rdface_hf.generate.fastgan.config import TrainFastGANConfig
    from rdface_hf.generate.fastgan.models import FastGANDiscriminator, FastGANGenerator
    from rdface_hf.generate.fastgan.trainer import Trainer, init_weights

    p = SMOKE if smoke else FULL
    if smoke:
        torch.set_num_threads(1)  # tiny CPU runs: threads only contend
    acc = Accelerator(mixed_precision=precision, cpu=smoke)
    torch.manual_seed(0)
    config = TrainFastGANConfig(dataset="random", output_dir="unused", resolution=resolution, mode="conditional",
                                batch_size=p["batch_size"], ngf=p["ngf"], ndf=p["ndf"], nz=p["nz"])  # fmt: skip
    g = FastGANGenerator(resolution=resolution, nz=p["nz"], ngf=p["ngf"], num_classes=p["classes"], conditional=True)
    d = FastGANDiscriminator(resolution=resolution, ndf=p["ndf"], num_classes=p["classes"], conditional=True)
    init_weights(g)
    init_weights(d)
    trainer = Trainer(config, _data(resolution, p["classes"]), g, d, _recon(p["recon"], smoke), acc)
    for step in range(1, p["warmup"] + 1):
        trainer.step(step)
    _sync(acc.device)
    if acc.device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for step in range(p["warmup"] + 1, p["warmup"] + p["steps"] + 1):
        losses = trainer.step(step)
    _sync(acc.device)
    seconds = time.perf_counter() - start
    n = 4 if smoke else 64
    trainer.ema.model.sample(list(range(n)), [0] * n, batch_size=n, device=acc.device)  # warm-up
    _sync(acc.device)
    t0 = time.perf_counter()
    trainer.ema.model.sample(list(range(n)), [0] * n, batch_size=n, device=acc.device)
    _sync(acc.device)
    sample_s = time.perf_counter() - t0
    return {
        "resolution": resolution,
        "precision": precision,
        "it_per_s": round(p["steps"] / seconds, 3),
        "train_img_per_s": round(p["steps"] * p["batch_size"] / seconds, 1),
        "sample_img_per_s": round(n / sample_s, 1),
        "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if acc.device.type == "cuda" else None,
        "finite": all(bool(torch.isfinite(v)) for v in losses.values()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="tiny widths at 64 and 128 px on the CPU")
    ap.add_argument("--resolutions", type=int, nargs="+", default=None)
    ap.add_argument("--precisions", nargs="+", default=None, choices=["no", "bf16", "fp16"])
    ap.add_argument("--one", nargs=2, metavar=("RES", "PRECISION"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(int(args.one[0]), args.one[1], args.smoke)))
        return
    resolutions = args.resolutions or ([64, 128] if args.smoke else [256, 1024])
    precisions = args.precisions or (["no"] if args.smoke else ["no", "bf16"])
    import torch

    out = {"device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu", "smoke": args.smoke,
           "batch_size": (SMOKE if args.smoke else FULL)["batch_size"], "runs": []}  # fmt: skip
    for resolution in resolutions:
        for precision in precisions:
            cmd = [sys.executable, __file__, "--one", str(resolution), precision] + (["--smoke"] if args.smoke else [])
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                out["runs"].append({"resolution": resolution, "precision": precision,
                                    "error": proc.stderr.strip().splitlines()[-1:]})  # fmt: skip
                continue
            out["runs"].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
