"""Landmark morphing on the simulator: speed, faces kept, and the truth check.

One command: ``rdface simulate`` (RDFace-sized, seed 0) -> ``rdface build`` ->
``rdface generate --generator morph`` on fold 0's training split, for a few
settings (plain, toward the condition mean, caricature). For each setting:

- images/s of the whole generation run (dataset loading included) on ``--workers``;
- the share of morphs in which MediaPipe finds a face;
- the truth check: the landmark-geometry probe (``rdface_hf.classify.geometry``:
  Procrustes-aligned landmarks + logistic regression) trained on fold 0's real
  training images classifies the morphs (top-1 against their condition) and
  the real test images; and, the other way round, a probe trained on the
  morphs alone (and on real + morphs) is scored on the real test images.

It also writes a contact sheet of morphs per condition (``--sheet``).

    PYTHONPATH=. RDFACE_FACE_LANDMARKER=/path/to/face_landmarker.task \\
        python benchmarks/morph_benchmark.py --per-condition 5 --workers 2
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

VARIANTS = {
    "plain": {},
    "toward_mean_1": {"toward_mean": 1.0},
    "caricature_1": {"caricature": 1.0},
}


def build(work: Path, conditions: int, seed: int) -> Path:
    from rdface_hf.dataset.builder import BuildConfig, build_dataset
    from rdface_hf.sim import SimConfig, simulate

    raw, built = work / "raw", work / "rdface"
    simulate(SimConfig(out=str(raw), conditions=conditions, seed=seed), progress=False)
    build_dataset(BuildConfig(raw=str(raw), out=str(built), seed=42, progress=False))
    return built


def morph_set(built: Path, out: Path, per_condition: int, workers: int, settings: dict):
    from datasets import load_dataset

    from rdface_hf.generate.config import GenerateConfig
    from rdface_hf.generate.morph.generate import generate_morph

    config = GenerateConfig(
        generator="morph", dataset=str(built), fold="0", output_dir=str(out),
        per_condition=per_condition, workers=workers, **settings,
    )  # fmt: skip
    result = generate_morph(config, progress=False)
    ds = load_dataset(str(out), split="train", cache_dir=str(out.parent / f".cache-{out.name}"))
    return result, ds


def truth_check(built: Path, ds, workers: int) -> dict:
    from rdface_hf.classify.geometry import fit_geometry_baseline, score_geometry_baseline
    from rdface_hf.dataset import RDFaceDataset
    from rdface_hf.dataset.landmarks import detect_landmarks

    rd = RDFaceDataset(built)
    faces = detect_landmarks([np.asarray(im.convert("RGB")) for im in ds["image"]], workers=workers, progress=False)
    morph_lm = [None if f is None else f.points for f in faces]
    morph_y = list(ds["condition"])
    train_lm, train_y = list(rd.landmarks("train", 0)), list(rd.labels("train", 0))
    test_lm, test_y = list(rd.landmarks(rd.test)), list(rd.labels(rd.test))
    n = rd.num_classes
    template, model = fit_geometry_baseline(train_lm, train_y)
    on_morphs = score_geometry_baseline(template, model, morph_lm, morph_y, n)
    on_test = score_geometry_baseline(template, model, test_lm, test_y, n)
    keep = [i for i, p in enumerate(morph_lm) if p is not None]
    t_m, m_m = fit_geometry_baseline([morph_lm[i] for i in keep], [morph_y[i] for i in keep])
    morph_only = score_geometry_baseline(t_m, m_m, test_lm, test_y, n)
    t_b, m_b = fit_geometry_baseline(train_lm + [morph_lm[i] for i in keep], train_y + [morph_y[i] for i in keep])
    both = score_geometry_baseline(t_b, m_b, test_lm, test_y, n)
    return {
        "faces_found": len(keep) / len(morph_lm),
        "real_probe_top1_on_morphs": on_morphs.top1,
        "real_probe_top1_on_real_test": on_test.top1,
        "morph_probe_top1_on_real_test": morph_only.top1,
        "real_plus_morph_probe_top1_on_real_test": both.top1,
        "chance_top1": on_test.chance_top1,
    }


def contact_sheet(built: Path, ds, path: Path, rows: int = 8, cols: int = 5, tile: int = 80) -> int:
    """One row per condition: a real training image, then ``cols`` morphs; a palette PNG."""
    from rdface_hf.dataset import RDFaceDataset

    rd = RDFaceDataset(built)
    train = rd.training_split(0)
    abbr = rd.abbreviations
    first_real = {}
    for i, y in enumerate(train["condition"]):
        first_real.setdefault(int(y), i)
    conditions = sorted(set(ds["condition"]))[:rows]
    label_w = 70
    sheet = Image.new("RGB", (label_w + tile * (cols + 1) + 8, tile * len(conditions)), "white")
    draw = ImageDraw.Draw(sheet)
    by_condition: dict[int, list] = {}
    for row in ds:
        by_condition.setdefault(row["condition"], []).append(row["image"])
    for r, c in enumerate(conditions):
        draw.text((4, r * tile + tile // 2 - 6), abbr[c], fill="black")
        real = train[first_real[c]]["image"].convert("RGB").resize((tile, tile), Image.LANCZOS)
        sheet.paste(real, (label_w, r * tile))
        for k, im in enumerate(by_condition[c][:cols]):
            sheet.paste(im.convert("RGB").resize((tile, tile), Image.LANCZOS), (label_w + 8 + tile * (k + 1), r * tile))
    buf = io.BytesIO()
    sheet.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(buf, format="PNG", optimize=True)
    path.write_bytes(buf.getvalue())
    return len(buf.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conditions", type=int, default=103)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-condition", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--sheet", type=Path, default=Path(__file__).parent / "morph_contact_sheet.png")
    args = ap.parse_args()
    out: dict = {"conditions": args.conditions, "per_condition": args.per_condition, "workers": args.workers}
    with tempfile.TemporaryDirectory(prefix="rdface-morph-bench-") as tmp:
        t0 = time.perf_counter()
        built = build(Path(tmp), args.conditions, args.seed)
        out["simulate_and_build_s"] = round(time.perf_counter() - t0, 1)
        for name, settings in VARIANTS.items():
            result, ds = morph_set(built, Path(tmp) / name, args.per_condition, args.workers, settings)
            row = {"images": result.images, "seconds": round(result.seconds, 2),
                   "images_per_s": round(result.images / result.seconds, 2)}  # fmt: skip
            row.update({k: round(v, 4) for k, v in truth_check(built, ds, args.workers).items()})
            out[name] = row
            if name == "plain":
                out["sheet_bytes"] = contact_sheet(built, ds, args.sheet)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
