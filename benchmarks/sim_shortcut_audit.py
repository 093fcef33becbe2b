"""Shortcut audit of the default simulated release, at --source-style 0 and 1.

For each source style: ``rdface simulate`` (103 conditions, 456 images, seed 0)
-> ``rdface build`` (seed 42, no landmarks: the audit looks at pixels and
metadata only) -> :func:`rdface_hf.sim.audit.shortcut_audit`: logistic
regression and 1-NN on 32x32 pixels, colour histograms, corner colours and
image statistics, fitted on every non-test image and scored (top-1) on the
fixed test split; 1-NN on the ``identity`` and ``age`` columns; a character
n-gram model of the condition names predicting each feature.

    PYTHONPATH=. RDFACE_FACE_LANDMARKER=/path/to/face_landmarker.task \\
        python benchmarks/sim_shortcut_audit.py [--styles 0 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def run(style: float, seed: int, work: Path, conditions: int) -> dict:
    from rdface_hf.dataset import RDFaceDataset
    from rdface_hf.dataset.builder import BuildConfig, build_dataset
    from rdface_hf.sim import SimConfig, simulate
    from rdface_hf.sim.audit import shortcut_audit

    raw, built = work / f"raw_{style}", work / f"built_{style}"
    simulate(SimConfig(out=str(raw), seed=seed, conditions=conditions, source_style=style), progress=False)
    build_dataset(BuildConfig(raw=str(raw), out=str(built), seed=42, landmarks=False, progress=False))
    return {"source_style": style, **shortcut_audit(RDFaceDataset(built), raw)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--styles", type=float, nargs="+", default=[0.0, 1.0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--conditions", type=int, default=103)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="rdface-audit-") as tmp:
        for style in args.styles:
            results.append(run(style, args.seed, Path(tmp), args.conditions))
            print(json.dumps(results[-1]), flush=True)
    print("\n| descriptor | model | " + " | ".join(f"--source-style {r['source_style']:g}" for r in results) + " |")
    print("|---|---|" + "---:|" * len(results))
    for descriptor in results[0]["images"]:
        for model in results[0]["images"][descriptor]:
            cells = " | ".join(f"{100 * r['images'][descriptor][model]:.1f} %" for r in results)
            print(f"| {descriptor} | {model} | {cells} |")
    for column in results[0]["metadata"]:
        cells = " | ".join(
            f"{100 * r['metadata'][column]['top1']:.1f} % (p {r['metadata'][column]['p']:.2f})" for r in results
        )
        print(f"| `{column}` column | 1-NN | {cells} |")
    print("| chance | | " + " | ".join(f"{100 * r['chance_top1']:.1f} %" for r in results) + " |")
    names = results[0].get("names", {})
    print(f"\nfeature words in condition names: {names.get('feature_words_in_names')}; "
          f"features predicted from names: balanced accuracy {names.get('feature_balanced_accuracy', 0):.2f} "
          f"over {names.get('features_tested')} features (0.5 = chance)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
