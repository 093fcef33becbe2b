"""Speed of ``rdface filter``: images per second with an empty and with a warm landmark cache.

A synthetic set of ``--images`` distinct simulated faces (fresh patients of a simulated
RDFace-sized release; copies differ in one pixel, so every image has its own content
hash) is filtered twice with the ``landmarks`` score against fold 0:

1. with an empty landmark cache (MediaPipe runs on every image, ``--workers`` processes);
2. again, every landmark from the cache.

Reported: end-to-end images/s (reading the set, landmarks, prototypes, scores, writing the
scored set, summary and histogram) and the scoring rate alone (landmarks ready: prototype
fit included).

    PYTHONPATH=. RDFACE_FACE_LANDMARKER=/path/to/face_landmarker.task HF_HUB_OFFLINE=1 \\
        python benchmarks/filter_speed.py --images 1000 --workers 2

Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import tempfile
import time
from pathlib import Path


def release(work: Path) -> tuple[Path, Path]:
    from rdface_hf.dataset.builder import BuildConfig, build_dataset
    from rdface_hf.sim import SimConfig, simulate

    raw, built = work / "raw", work / "built"
    if not (built / "README.md").is_file():
        simulate(SimConfig(out=str(raw), seed=0), progress=False)
        build_dataset(BuildConfig(raw=str(raw), out=str(built), seed=42, progress=False))
    return raw, built


def distinct_set(folder: Path, raw: Path, built: Path, images: int) -> None:
    from rdface_hf.dataset import RDFaceDataset
    from rdface_hf.dataset.synthetic import SyntheticImage, SyntheticSetWriter, synthetic_card
    from rdface_hf.sim.draw import draw_patients

    rd = RDFaceDataset(built)
    index = {abbr: i for i, abbr in enumerate(rd.abbreviations)}
    patients = draw_patients(raw, per_condition=max(1, math.ceil(images / rd.num_classes / 4)), seed=7)
    writer = SyntheticSetWriter(folder, rd.class_names, shard_size=256)
    for k in range(images):
        p = patients[k % len(patients)]
        pixels = p.pixels.copy()
        pixels[0, 0, 0] = (int(pixels[0, 0, 0]) + k // len(patients)) % 256  # distinct bytes, same face
        writer.add(SyntheticImage(image=pixels, condition=index[p.disease_abbr], generator="simulate",
                                  source="draw_patients", seed=k, trained_on="none"))  # fmt: skip
    writer.finish(synthetic_card(title="speed", description="speed", generator="simulate", source_dataset="sim",
                                 gated=False))  # fmt: skip


def timed(built: Path, synthetic: Path, out: Path, cache: Path, workers: int, score: str) -> dict:
    from rdface_hf.filter.config import FilterConfig
    from rdface_hf.filter.run import filter_synthetic

    start = time.perf_counter()
    result = filter_synthetic(
        FilterConfig(dataset=str(built), synthetic=str(synthetic), output_dir=str(out), score=score,
                     landmark_cache=str(cache), workers=workers, overwrite=True, progress=False)
    )  # fmt: skip
    wall = time.perf_counter() - start
    return {
        "score": score,
        "images": result.images,
        "cached": result.cached_landmarks,
        "wall_s": round(wall, 2),
        "images_per_s": round(result.images / wall, 1),
        "scoring_s": round(result.scoring_seconds, 2),
        "scoring_images_per_s": round(result.images / result.scoring_seconds, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--work", type=Path, default=None, help="reuse a release here (e.g. filter_ranking's d0.5)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="rdface-filter-speed-") as tmp:
        tmp = Path(tmp)
        raw, built = release(args.work or tmp)
        synthetic, cache = tmp / "set", tmp / "cache"
        distinct_set(synthetic, raw, built, args.images)
        if cache.exists():
            shutil.rmtree(cache)
        uncached = timed(built, synthetic, tmp / "out", cache, args.workers, "landmarks")
        cached = timed(built, synthetic, tmp / "out", cache, args.workers, "landmarks")
        paper = timed(built, synthetic, tmp / "out", cache, args.workers, "paper5pt")
    print(json.dumps({"cores": len(os.sched_getaffinity(0)), "workers": args.workers, "uncached": uncached,
                      "cached": cached, "paper5pt_cached": paper}))  # fmt: skip


if __name__ == "__main__":
    main()
