"""Effect size (Cohen's d) of every simulated feature on a landmark and an appearance measure.

``--n`` release-like patients (new identities, photo nuisance at the
difficulty) are drawn unaffected and, for each feature, again with that
feature alone (severity as a condition at ``--difficulty`` draws it:
``severity_scale(d) * U(0.8, 1.2)``, always present); the twins share
everything else. MediaPipe re-detects the landmarks; see
:mod:`rdface_hf.sim.effects` for the measures and the d.

    PYTHONPATH=. RDFACE_FACE_LANDMARKER=/path/to/face_landmarker.task \\
        python benchmarks/sim_feature_effects.py [--n 40] [--difficulty 0.5] [--json out.json]

Prints one JSON line per feature, then a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def severities(feature: str, n: int, difficulty: float, rng: np.random.Generator) -> list[dict]:
    from rdface_hf.sim.conditions import severity_scale

    return [{feature: float(severity_scale(difficulty) * rng.uniform(0.8, 1.2))} for _ in range(n)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40, help="images per group")
    ap.add_argument("--difficulty", type=float, default=0.5)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--features", nargs="*", default=None, help="only these features (default: all)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    from rdface_hf.dataset.landmarks import FaceLandmarker
    from rdface_hf.sim.bank import build_bank
    from rdface_hf.sim.effects import draw_twins, feature_effect, measure_images
    from rdface_hf.sim.features import AXES, FEATURES
    from rdface_hf.sim.simulate import Spec

    t0 = time.perf_counter()
    bank = build_bank()
    spec = Spec(args.seed, args.difficulty, 0.0, args.size)
    rng = np.random.default_rng(args.seed)
    names = [n for n in FEATURES if not args.features or n in args.features]
    groups = [[{}] * args.n] + [severities(n, args.n, args.difficulty, rng) for n in names]
    jobs = [(i, sev) for group in groups for i, sev in enumerate(group)]
    images = draw_twins(bank, spec, jobs, workers=args.workers, progress=True)
    rows = []
    with FaceLandmarker() as lm:
        measured = [measure_images(images[k * args.n : (k + 1) * args.n], lm) for k in range(len(groups))]
    for name, group in zip(names, measured[1:]):
        feature = FEATURES[name]
        row = {"feature": name, "kind": AXES[feature.axis].kind}
        row.update(feature_effect(group, measured[0], AXES[feature.axis].measure))
        if row["d_landmarks"] is not None:  # in the feature's direction: > 0 when it moves as drawn
            row["d_landmarks"] *= feature.sign
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\n{args.n} images per group, difficulty {args.difficulty}, {time.perf_counter() - t0:.0f} s\n")
    print("| feature | kind | landmark measure | d (landmarks) | largest other d, re-detected | largest other d, "
          "as drawn | d (appearance) | d (texture) | MediaPipe's landmarks see it |")  # fmt: skip
    print("|---|---|---|---:|---|---|---:|---:|---|")
    for r in rows:
        own = "—" if r["d_landmarks"] is None else f"{r['d_landmarks']:+.2f}"
        sees = "yes" if r["d_landmarks"] is not None and r["d_landmarks"] >= 0.5 else "**no**"
        print(f"| {r['feature']} | {r['kind']} | {r['landmark_measure'] or '—'} | {own} "
              f"| {r['d_crosstalk']:+.2f} ({r['crosstalk_measure']}) "
              f"| {r['d_drawn_crosstalk']:+.2f} ({r['drawn_crosstalk_measure']}) "
              f"| {r['d_appearance']:+.2f} | {r['d_texture']:+.2f} | {sees} |")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
