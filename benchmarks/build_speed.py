"""How long `rdface build` takes on an RDFace-sized release, landmarks included.

    python benchmarks/build_speed.py                 # simulate the default release first (256 px)
    python benchmarks/build_speed.py --image-size 512
    python benchmarks/build_speed.py --raw RAW       # or time a release you have

Prints one JSON line; figures go to benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", help="raw release (default: simulate RDFace's shape, seed 0)")
    parser.add_argument("--image-size", type=int, default=256, help="simulated image side (RDFace pads to 512)")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    from rdface_hf._parallel import default_workers
    from rdface_hf.dataset.builder import BuildConfig, build_dataset

    with tempfile.TemporaryDirectory() as tmp:
        raw = args.raw
        if raw is None:
            from rdface_hf.sim import SimConfig, simulate

            raw = str(Path(tmp) / "raw")
            simulate(SimConfig(out=raw, seed=0, image_size=args.image_size), progress=False)
        times = []
        for i in range(args.repeats):
            t0 = time.perf_counter()
            result = build_dataset(
                BuildConfig(raw=raw, out=str(Path(tmp) / f"out{i}"), workers=args.workers, progress=False)
            )
            times.append(time.perf_counter() - t0)
    images = result.accepted + result.warnings
    print(
        json.dumps(
            {
                "benchmark": "build_speed",
                "images": images,
                "image_size": None if args.raw else args.image_size,
                "rejected": result.rejected,
                "conditions": result.conditions,
                "seconds": [round(t, 2) for t in times],
                "best_images_per_s": round(images / min(times), 1),
                "workers": args.workers or default_workers(),
                "cpus": os.cpu_count(),
                "machine": platform.processor() or platform.machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
