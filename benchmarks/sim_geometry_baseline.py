"""Geometry-only baseline on simulated releases: is the phenotype recoverable?

For each difficulty: ``rdface simulate`` -> ``rdface build`` -> fold 0 ->
Procrustes-aligned 2-D MediaPipe landmarks -> standardised logistic regression
trained on train + validation, scored on the fixed test split
(``rdface_hf.classify.geometry.geometry_baseline``). Also reports how often
MediaPipe found a face in the simulator's first draws (images without one are
redrawn), the face rate of the build and the builder's validation report.

    PYTHONPATH=. RDFACE_FACE_LANDMARKER=/path/to/face_landmarker.task \\
        python benchmarks/sim_geometry_baseline.py --difficulties 0 0.25 0.5 0.75 1
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from collections import Counter
from pathlib import Path


def score_fold(build_dir: Path) -> dict:
    import numpy as np

    from rdface_hf.classify.geometry import geometry_baseline
    from rdface_hf.dataset import RDFaceDataset

    ds = RDFaceDataset(build_dir)
    score = geometry_baseline(ds, fold=0)
    points = np.concatenate([ds.landmarks("train", None), ds.landmarks(ds.test)])
    return {**score.to_dict(), "faces_found": float((~np.isnan(points[:, 0, 0])).mean())}


def run_one(difficulty: float, seed: int, work: Path, conditions: int) -> dict:
    from rdface_hf.dataset.builder import BuildConfig, build_dataset
    from rdface_hf.sim import SimConfig, simulate

    raw, built = work / f"raw_{difficulty}", work / f"built_{difficulty}"
    t0 = time.perf_counter()
    sim = simulate(SimConfig(out=str(raw), difficulty=difficulty, seed=seed, conditions=conditions), progress=False)
    t1 = time.perf_counter()
    build_dataset(BuildConfig(raw=str(raw), out=str(built), seed=42, progress=False))
    t2 = time.perf_counter()
    with open(built / "validation_report.csv", newline="", encoding="utf-8") as fh:
        report = list(csv.DictReader(fh))
    statuses = Counter(r["status"] for r in report)
    near_dup = sum("near" in (r.get("reason") or "").lower() for r in report)
    out = {
        "difficulty": difficulty,
        "images": sim.images,
        "simulate_s": round(t1 - t0, 1),
        "first_draw_face_rate": round(sim.face_rate, 4),
        "near_duplicate_redraws": sim.redrawn,
        "build_s": round(t2 - t1, 1),
        "report_status": dict(statuses),
        "near_duplicate_rows": near_dup,
    }
    out.update(score_fold(built))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--difficulties", type=float, nargs="+", default=[0.0, 0.25, 0.5, 0.75, 1.0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--conditions", type=int, default=103)
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="rdface-sim-bench-") as tmp:
        for d in args.difficulties:
            res = run_one(d, args.seed, Path(tmp), args.conditions)
            results.append(res)
            print(json.dumps(res), flush=True)
    print("\n| difficulty | top-1 | top-5 | macro-F1 | chance | face in first draws | faces in build | report "
          "| near-dup rows | simulate / build |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['difficulty']:.2f} | {100 * r['top1']:.1f} % | {100 * r['top5']:.1f} % | {r['macro_f1']:.3f} "
            f"| {100 * r['chance_top1']:.1f} % | {100 * r['first_draw_face_rate']:.1f} % "
            f"| {100 * r['faces_found']:.1f} % | {r['report_status']} | {r['near_duplicate_rows']} "
            f"| {r['simulate_s']} s / {r['build_s']} s |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
